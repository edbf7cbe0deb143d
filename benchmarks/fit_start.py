"""The start-up cost of a fit: how much slower its first batches run than the rest.

Fits ``AutoencoderTransformer`` (784-256-64, ReLU, squared error, batch
256, 2 epochs, ``tol=0``; the loss pinned, not the default, because this
measures start-up time and its figures were measured with the squared
error) on MNIST's 60,000 training images and times every batch (the
interval between two consecutive batch gathers, through a wrapper around
``skae._training.get_batch`` that only reads the clock). The excess of
the first epoch is the sum, over its batches, of their time above the
second epoch's median batch: what the fit pays once, beyond its steady
pace. Three variants, each measured ``REPEATS`` times, interleaved:

- ``einsum``: skae as it is, its ``mean_`` and ``scale_`` computed through
  ``numpy.einsum``'s own loops;
- ``BLAS``: the same fit with those statistics computed by NumPy
  matrix-vector products (BLAS's dgemv), as skae did before: OpenBLAS's
  worker threads keep spinning for a while after a call, on the cores
  torch's threads need next;
- ``einsum, after the user's BLAS``: skae as it is, right after the
  products of ``BLAS`` run outside the fit, as a user's own NumPy or
  scikit-learn step (PCA, for one) would just before it.

Run it alone on an idle machine, with torch's default threads::

    python benchmarks/fit_start.py

Prints a table and writes ``benchmarks/results/fit_start.{json,md}`` (or
to the folder ``--out`` names).
"""

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import skae._autoencoder_base  # noqa: E402
import skae._training  # noqa: E402
from skae import AutoencoderTransformer  # noqa: E402

MNIST = REPO_ROOT / ".." / "shared" / "data" / "mnist.npz"
RESULTS = REPO_ROOT / "benchmarks" / "results"
BATCH_SIZE = 256
EPOCHS = 2
REPEATS = 3
BLOCK_ROWS = 668  # rows of float64 MNIST in skae._blocks.BLOCK_BYTES


def load_mnist():
    with np.load(MNIST) as data:
        x = data["x_train"]
    return x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0)


def blas_moments(X, weights, squares=True):
    """skae._blocks.weighted_moments through BLAS products, as skae computed it before."""
    first = np.zeros(X.shape[1])
    sum_of_squares = 0.0 if squares else None
    for start in range(0, len(X), BLOCK_ROWS):
        block = X[start : start + BLOCK_ROWS].astype(np.float64)
        block_weights = weights[start : start + BLOCK_ROWS]
        first += block_weights @ block  # dgemv
        if squares:
            sum_of_squares += float((block_weights @ block**2).sum())  # dgemv
    return first, sum_of_squares


def batch_times(X):
    """Seconds between consecutive batches of one fit."""
    stamps = []
    gather = skae._training.get_batch

    def timed_gather(*args, **kwargs):
        stamps.append(time.perf_counter())
        return gather(*args, **kwargs)

    skae._training.get_batch = timed_gather
    try:
        model = AutoencoderTransformer(
            64, hidden_layer_sizes=(256,), activation="relu", alpha=0.0, loss="mse",
            batch_size=BATCH_SIZE, max_iter=EPOCHS, tol=0.0, n_iter_no_change=10**9,
            random_state=0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
    finally:
        skae._training.get_batch = gather
    return np.diff(stamps)


def excess(times, n_batches):
    """First epoch's time above the second epoch's median batch, and that median."""
    first, second = times[: n_batches - 1], times[n_batches:]
    median = float(np.median(second))
    return float(np.clip(first - median, 0, None).sum()), median


def with_blas_moments(X):
    """Seconds between batches of a fit whose statistics go through BLAS."""
    einsum_moments = skae._autoencoder_base.weighted_moments
    skae._autoencoder_base.weighted_moments = blas_moments
    try:
        return batch_times(X)
    finally:
        skae._autoencoder_base.weighted_moments = einsum_moments


def after_users_blas(X):
    """Seconds between batches of a fit right after BLAS products outside it."""
    blas_moments(X, np.full(len(X), 1 / len(X)))
    return batch_times(X)


VARIANTS = {
    "einsum": batch_times,
    "BLAS": with_blas_moments,
    "einsum, after the user's BLAS": after_users_blas,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    X = load_mnist()
    n_batches = -(-len(X) // BATCH_SIZE)
    batch_times(X[:5000])  # warm-up
    runs = {name: [] for name in VARIANTS}
    for _ in range(REPEATS):
        for name, fit in VARIANTS.items():
            runs[name].append(excess(fit(X), n_batches))
    lines = [
        f"First-epoch excess of a 784-256-64 fit (MNIST, batch {BATCH_SIZE}, "
        f"torch threads {torch.get_num_threads()}), median (range) of {REPEATS}:",
        "",
        "| statistics | first-epoch excess, ms | steady batch, ms |",
        "|---|---:|---:|",
    ]
    for name, values in runs.items():
        ms = [1e3 * value for value, _ in values]
        steady = statistics.median(1e3 * median for _, median in values)
        lines.append(
            f"| {name} | {statistics.median(ms):.0f} ({min(ms):.0f}-{max(ms):.0f}) "
            f"| {steady:.2f} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fit_start.md").write_text(table)
    (args.out / "fit_start.json").write_text(json.dumps(runs, indent=2) + "\n")
    command = " ".join(["python benchmarks/fit_start.py", *sys.argv[1:]])
    print(f"Wrote {args.out}/fit_start.{{json,md}}. Reproduce with: {command}")


if __name__ == "__main__":
    main()
