"""A fit's costs around the net's own work: Adam's step, the loss, the statistics, denormals.

1. **Adam's step** on the 784-256-64 autoencoder of ``throughput.py``
   (``nn.Linear`` layers 784-256-64-256-784, fused Adam, lr 1e-3), after
   one backward pass on a batch of 256, in microseconds per step:

   - ``Adam.step, not fused``: torch's default Adam on the CPU (its
     ``foreach`` implementation), on an identical copy of the net;
   - ``Adam.step``: the fused optimizer's own ``step()``;
   - ``skae``: the step skae's training loop takes
     (:func:`skae._optim.step_function`: torch's functional
     ``torch.optim.adam.adam`` with the state lists kept between steps);
   - ``kernel alone``: ``torch._foreach_add_`` of the step counts and
     ``torch._fused_adam_`` (torch's private ops, called here only to
     measure what the two above add around them).

   Each is timed over ``STEPS`` calls, ``REPEATS`` times, interleaved; the
   table gives the best and the median of the repeats.

2. **The loss in a training step** of the same net and batch (forward,
   loss, backward, fused Adam step), in microseconds per step, with skae's
   :func:`skae._penalties.scaled_squared_error` (one-pass backward) and with
   the plain expression ``((output - x) / scale).pow(2).mean()``.

3. **The statistics** ``mean_`` and ``scale_`` of a fit
   (:func:`skae._blocks.weighted_moments`) on MNIST's 60,000 training images,
   as float32 in [0, 1] and as the raw uint8 pixels, with skae's blocks of
   rows (``_MOMENT_BLOCK_BYTES``) and with blocks of 4 MB (the size before),
   best and median of ``REPEATS`` calls, in milliseconds; and, for
   comparison, the float32 range scan a fit skips on data that fits float32
   (:func:`skae._divergence.largest_magnitude` on the float32 images).

4. **Denormal weights**: a ``(32 x 784) @ (784 x 1000)`` product, as in a
   first layer on MNIST, with normal weights and with a quarter of the
   weight rows denormal (1e-40, as an L2 penalty leaves the weights of the
   blank border pixels), at one thread; and a ``(512 x 784)`` product with
   those weights at two threads; each denormal case also with
   ``torch.set_flush_denormal(True)``, which reaches only the calling
   thread; in milliseconds.

Run it alone on an idle machine, with torch's default threads::

    python benchmarks/step_costs.py

Prints a table and writes ``benchmarks/results/step_costs.{json,md}`` (or
to the folder ``--out`` names).
"""

import argparse
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
from skae._divergence import largest_magnitude  # noqa: E402
from skae._optim import step_function  # noqa: E402
from skae._penalties import scaled_squared_error  # noqa: E402

MNIST = REPO_ROOT / ".." / "shared" / "data" / "mnist.npz"
RESULTS = REPO_ROOT / "benchmarks" / "results"
SIZES = (784, 256, 64, 256, 784)
BATCH_SIZE = 256
STEPS = 2000
TRAINING_STEPS = 200  # per repeat, each from a new net
REPEATS = 7
OLD_BLOCK_BYTES = 1 << 22


def new_net():
    """The 784-256-64 autoencoder's layers, seeded: the same net every call."""
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def adam_steps():
    """The three ways of stepping one fused Adam, as zero-argument functions."""
    net = new_net()
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

    return {"Adam.step, not fused": unfused_adam_step(), "Adam.step": optimizer.step,
            "skae": skae_step, "kernel alone": kernel_alone}  # fmt: skip


def training_steps():
    """Fresh step functions of the net, with skae's loss and with the plain expression.

    Each repeat starts from the same new net: trained long on one batch, the
    loss and Adam's moments would shrink towards denormal floats, which
    slow every step down (section 4).
    """
    return {"skae's loss": lambda: training_step(skae_loss=True),
            "plain expression": lambda: training_step(skae_loss=False)}  # fmt: skip


def training_step(skae_loss):
    """One training step of a new net, with skae's loss or the plain expression."""
    net = new_net()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    x, scale = torch.rand(BATCH_SIZE, SIZES[0]), torch.tensor(0.3)

    def step(loss_of):
        optimizer.zero_grad(set_to_none=False)
        loss_of(net(x)).backward()
        optimizer.step()

    def plain(output):
        return ((output - x) / scale).pow(2).mean()

    def skae(output):
        return scaled_squared_error(output, x, scale).mean()

    loss_of = skae if skae_loss else plain
    return lambda: step(loss_of)


def unfused_adam_step():
    """Torch's default (foreach) Adam step on a copy of the net, after one backward."""
    net = new_net()
    x = torch.rand(BATCH_SIZE, SIZES[0])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    (net(x) - x).pow(2).mean().backward()
    optimizer.step()
    return optimizer.step


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


def measure_training_steps():
    makers = training_steps()
    times = {name: [] for name in makers}
    for _ in range(REPEATS):
        for name, make in makers.items():
            times[name].append(1e6 * time_calls(make(), TRAINING_STEPS))
    return times


def measure_denormals():
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand(784, 1000, generator=generator) - 0.5
    denormal = weights.clone()
    denormal[:196] = 1e-40  # a quarter of the rows: float32's normals end at 1.2e-38
    small, large = torch.rand(32, 784, generator=generator), torch.rand(512, 784)
    threads, flush = torch.get_num_threads(), torch.set_flush_denormal(False)
    cases = {
        "(32 x 784) @ normal, 1 thread": (small, weights, 1, False),
        "(32 x 784) @ a quarter denormal, 1 thread": (small, denormal, 1, False),
        "(32 x 784) @ a quarter denormal, 1 thread, flush_denormal": (small, denormal, 1, True),
        "(512 x 784) @ a quarter denormal, 2 threads": (large, denormal, 2, False),
        "(512 x 784) @ a quarter denormal, 2 threads, flush_denormal": (large, denormal, 2, True),
    }
    times = {name: [] for name in cases}
    try:
        for _ in range(REPEATS):
            for name, (X, W, n_threads, flush_denormal) in cases.items():
                torch.set_num_threads(n_threads)
                torch.set_flush_denormal(flush_denormal)
                times[name].append(1e3 * time_calls(lambda X=X, W=W: X @ W, 20))
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(flush)
    return times


def measure_moments():
    with np.load(MNIST) as data:
        pixels = data["x_train"].reshape(60_000, -1)
    arrays = {"float32": pixels.astype(np.float32) / np.float32(255), "uint8": pixels}
    weights = np.full(60_000, 1 / 60_000)
    blocks = {"skae": skae._blocks._MOMENT_BLOCK_BYTES, "4 MB": OLD_BLOCK_BYTES}
    times = {f"{dtype}, {block}": [] for dtype in arrays for block in blocks}
    times["float32 range scan (skipped by fits)"] = []
    for _ in range(REPEATS):
        tic = time.perf_counter()
        largest_magnitude(arrays["float32"])
        times["float32 range scan (skipped by fits)"].append(1e3 * (time.perf_counter() - tic))
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    command = " ".join(["python benchmarks/step_costs.py", *sys.argv[1:]])
    load = [round(value, 2) for value in os.getloadavg()]
    steps, moments = measure_steps(), measure_moments()
    training, denormals = measure_training_steps(), measure_denormals()
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
            f"A training step (forward, loss, backward, fused Adam), same net and batch, "
            f"{TRAINING_STEPS} steps from a new net x {REPEATS}:",
            "us",
            training,
        ),
        "",
        *table(
            f"weighted_moments on MNIST (60,000 x 784), {REPEATS} calls; skae's blocks: "
            f"{skae._blocks._MOMENT_BLOCK_BYTES >> 10} KB:",
            "ms",
            moments,
        ),
        "",
        *table(f"Products with denormal weights, 20 calls x {REPEATS}:", "ms", denormals),
        "",
        f"Load average at the start: {load}. Reproduce: `{command}`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "step_costs.md").write_text(text)
    results = {"steps_us": steps, "training_step_us": training, "moments_ms": moments,
               "denormal_products_ms": denormals, "threads": threads, "load": load}  # fmt: skip
    (args.out / "step_costs.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
