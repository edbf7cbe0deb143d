"""How many torch threads one fit or prediction uses (torch only).

torch's intra-op threads pay off only when each batch holds enough work to
share: on a small network, two threads synchronise more than they compute,
and on a busy 2-core machine a second thread waits for a core, so that a
small fit can take many times longer.
"""

import contextlib

import torch

__all__ = ["thread_budget", "work_per_batch"]

# Multiply-adds per batch below which one thread is used. Measured with
# benchmarks/threads.py on 2 cores (load about 1): at 2.9e6 (a digits net), 2 threads
# took 1.10x the epoch time of 1; at 2.7e7 (256-256-8), 0.73x.
ONE_THREAD_BELOW = 1e7


def work_per_batch(module, batch_size):
    """Multiply-adds of one forward pass of a batch, approximately.

    Each parameter takes part in about one multiply-add per row; a
    convolution's weights take part once per output pixel, which this
    undercounts, so convolutional nets lean to fewer threads.
    """
    return batch_size * sum(p.numel() for p in module.parameters())


@contextlib.contextmanager
def thread_budget(work):
    """Run the block with the threads ``work`` (multiply-adds per batch) deserves.

    At most ``torch.get_num_threads()``, which already reflects
    ``OMP_NUM_THREADS``, ``torch.set_num_threads`` and threadpoolctl's
    ``threadpool_limits``; one thread for small work. torch's setting is put
    back afterwards, also when the block raises.
    """
    before = torch.get_num_threads()
    wanted = 1 if work < ONE_THREAD_BELOW else before
    if wanted != before:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
