"""Two of a fit's costs that are not the net's own work: Adam's step and the statistics.

1. **Adam's step** on the 784-256-64 autoencoder of ``throughput.py``
   (``nn.Linear`` layers 784-256-64-256-784, fused Adam, lr 1e-3), after
   one backward pass on a batch of 256, in microseconds per step:

   - ``Adam.step``: the optimizer's own ``step()``;
   - ``skae``: the step skae's training loop takes
     (:func:`skae._optim.step_function`: torch's functional
     ``torch.optim.adam.adam`` with the state lists kept between steps);
   - ``kernel alone``: ``torch._foreach_add_`` of the step counts and
     ``torch._fused_adam_`` (torch's private ops, called here only to
     measure what the two above add around them).

   Each is timed over ``STEPS`` calls, ``REPEATS`` times, interleaved; the
   table gives the best and the median of the repeats.

2. **The statistics** ``mean_`` and ``scale_`` of a fit
   (:func:`skae._blocks.weighted_moments`) on MNIST's 60,000 training images,
   as float32 in [0, 1] and as the raw uint8 pixels, with skae's blocks of
   rows (``_MOMENT_BLOCK_BYTES``) and with blocks of 4 MB (the size before),
   best and median of ``REPEATS`` calls, in milliseconds.

Run it alone on an idle machine, with torch's default threads::

    python benchmarks/step_costs.py

Prints a table and writes ``benchmarks/results/step_costs.{json,md}``.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import skae._blocks  # noqa: E402
from skae._optim import step_function  # noqa: E402

MNIST = REPO_ROOT / ".." / "shared" / "data" / "mnist.npz"
RESULTS = REPO_ROOT / "benchmarks" / "results"
SIZES = (784, 256, 64, 256, 784)
BATCH_SIZE = 256
STEPS = 2000
REPEATS = 7
OLD_BLOCK_BYTES = 1 << 22


def adam_steps():
    """The three ways of stepping one fused Adam, as zero-argument functions."""
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    x = torch.rand(BATCH_SIZE, SIZES[0])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    (net(x) - x).pow(2).mean().backward()
    skae_step = step_function(optimizer)
    skae_step()  # the first step creates the state
    params = list(net.parameters())
    state = [optimizer.state[p] for p in params]
    grads = [p.grad for p in params]
    exp_avgs, exp_avg_sqs = [s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state]
    steps = [s["step"] for s in state]

    @torch.no_grad()
    def kernel_alone():
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=1e-3,
            beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, maximize=False,
        )  # fmt: skip

    return {"Adam.step": optimizer.step, "skae": skae_step, "kernel alone": kernel_alone}


def time_calls(function, n_calls):
    for _ in range(n_calls // 10):  # warm-up
        function()
    tic = time.perf_counter()
    for _ in range(n_calls):
        function()
    return (time.perf_counter() - tic) / n_calls


def measure_steps():
    functions = adam_steps()
    times = {name: [] for name in functions}
    for _ in range(REPEATS):
        for name, function in functions.items():
            times[name].append(1e6 * time_calls(function, STEPS))
    return times


def measure_moments():
    with np.load(MNIST) as data:
        pixels = data["x_train"].reshape(60_000, -1)
    arrays = {"float32": pixels.astype(np.float32) / np.float32(255), "uint8": pixels}
    weights = np.full(60_000, 1 / 60_000)
    blocks = {"skae": skae._blocks._MOMENT_BLOCK_BYTES, "4 MB": OLD_BLOCK_BYTES}
    times = {f"{dtype}, {block}": [] for dtype in arrays for block in blocks}
    for _ in range(REPEATS):
        for dtype, X in arrays.items():
            for block, block_bytes in blocks.items():
                skae._blocks._MOMENT_BLOCK_BYTES = block_bytes
                tic = time.perf_counter()
                skae._blocks.weighted_moments(X, weights)
                times[f"{dtype}, {block}"].append(1e3 * (time.perf_counter() - tic))
    skae._blocks._MOMENT_BLOCK_BYTES = blocks["skae"]
    return times


def table(title, unit, times):
    lines = [title, "", f"| | best, {unit} | median, {unit} |", "|---|---:|---:|"]
    for name, values in times.items():
        lines.append(f"| {name} | {min(values):.1f} | {statistics.median(values):.1f} |")
    return lines


def main():
    load = [round(value, 2) for value in os.getloadavg()]
    steps, moments = measure_steps(), measure_moments()
    threads = torch.get_num_threads()
    lines = [
        *table(
            f"Adam's step, {'-'.join(map(str, SIZES))} autoencoder, batch {BATCH_SIZE}, "
            f"{threads} torch threads, {STEPS} steps x {REPEATS}:",
            "us",
            steps,
        ),
        "",
        *table(
            f"weighted_moments on MNIST (60,000 x 784), {REPEATS} calls; skae's blocks: "
            f"{skae._blocks._MOMENT_BLOCK_BYTES >> 10} KB:",
            "ms",
            moments,
        ),
        "",
        f"Load average at the start: {load}. Reproduce: `python benchmarks/step_costs.py`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "step_costs.md").write_text(text)
    results = {"steps_us": steps, "moments_ms": moments, "threads": threads, "load": load}
    (RESULTS / "step_costs.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
