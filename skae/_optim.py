"""Optimizers and learning-rate schedules of the training loop (torch only)."""

import math

import torch

__all__ = [
    "LEARNING_RATE_SCHEDULES",
    "SOLVERS",
    "CosineSchedule",
    "current_learning_rate",
    "fused_or_default",
    "make_optimizer",
    "schedule_for_call",
    "set_learning_rate",
]

SOLVERS = ("adam", "adamw", "sgd", "rmsprop", "lbfgs")
LEARNING_RATE_SCHEDULES = ("plateau", "constant", "adaptive", "cosine")
LBFGS_ITERATIONS_PER_EPOCH = 20
# sklearn's "adaptive" schedule: divide by 5 on a plateau, stop below 1e-6.
ADAPTIVE_FACTOR = 5.0
ADAPTIVE_MIN_LEARNING_RATE = 1e-6
# The default "plateau" schedule: divide by 5 on the first two plateaus of a
# fit, stop at the third (measured on digits: benchmarks/defaults.py).
PLATEAU_REDUCTIONS = 2


def make_optimizer(solver, parameters, learning_rate):
    """Optimizer called ``solver`` ("adam", "sgd", "rmsprop", "adamw", "lbfgs").

    ``learning_rate`` is ignored by "lbfgs", whose line search sets the steps.
    Adam, AdamW and SGD use torch's fused kernels where the parameters'
    device has them (:func:`fused_or_default`).
    """
    parameters = list(parameters)
    if solver == "adam":
        return fused_or_default(torch.optim.Adam, parameters, lr=learning_rate)
    if solver == "adamw":
        return fused_or_default(torch.optim.AdamW, parameters, lr=learning_rate)
    if solver == "sgd":
        # sklearn's MLP defaults: momentum 0.9 with Nesterov.
        return fused_or_default(
            torch.optim.SGD, parameters, lr=learning_rate, momentum=0.9, nesterov=True
        )
    if solver == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=learning_rate)
    if solver == "lbfgs":
        # An epoch is one step of up to 20 L-BFGS iterations (torch's
        # default): torch's L-BFGS barely progresses when each step() is
        # limited to a single iteration. Like sklearn's MLP, L-BFGS ignores
        # the learning rate: the strong Wolfe line search sets every step.
        return torch.optim.LBFGS(
            parameters, lr=1.0, max_iter=LBFGS_ITERATIONS_PER_EPOCH, line_search_fn="strong_wolfe"
        )
    raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")


def fused_or_default(optimizer_class, parameters, **settings):
    """``optimizer_class(parameters, fused=True, **settings)``, or without ``fused`` if refused.

    The fused step updates each parameter and its moments in one pass, where
    torch's default on the CPU runs about eight whole-tensor operations per
    parameter: on MNIST 784-256-64 at batch 256, Adam's step took 0.24 ms
    instead of 0.66 ms, a tenth of the batch (benchmarks/throughput.py). It
    is elementwise, so its result does not depend on the thread count, and
    it is the same from run to run. torch refuses it for parameters on a
    device without fused kernels, or not floating point: those get the
    default implementation.
    """
    if parameters and all(p.is_floating_point() for p in parameters):
        try:
            return optimizer_class(parameters, fused=True, **settings)
        except RuntimeError:  # no fused kernel for this device
            pass
    return optimizer_class(parameters, **settings)


def schedule_for_call(learning_rate, incremental):
    """The schedule one call trains with: ``partial_fit`` has nothing to anneal.

    A "cosine" schedule spans the epochs of one call; ``partial_fit`` trains
    a single epoch per call, so it keeps the rate constant instead.
    """
    return "constant" if incremental and learning_rate == "cosine" else learning_rate


def set_learning_rate(optimizer, learning_rate):
    """Set the learning rate of every parameter group of ``optimizer``."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate


def current_learning_rate(optimizer):
    """The learning rate ``optimizer`` uses now (of its first group)."""
    return optimizer.param_groups[0]["lr"]


class CosineSchedule:
    """Cosine annealing from ``base`` to 0 over ``n_steps`` batches.

    Updated before every batch rather than every epoch, so that a run of a
    few epochs still decays smoothly.
    """

    def __init__(self, optimizer, base, n_steps):
        self.optimizer = optimizer
        self.base = base
        self.n_steps = n_steps
        self.step = 0

    def before_batch(self):
        """Set the rate of the next batch."""
        progress = min(self.step / self.n_steps, 1.0)
        set_learning_rate(self.optimizer, self.base * 0.5 * (1.0 + math.cos(math.pi * progress)))
        self.step += 1
