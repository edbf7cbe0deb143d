"""What the collapse check costs a fit: its seconds against an epoch's.

A fit that stops early or runs its cosine schedule to the end checks, once,
how much of its training data's error it removes (``skae._collapse``): one
inference pass over the training rows. This script times that pass, through
a wrapper around ``explained_fraction`` that only reads the clock, inside
fits of ``AutoencoderTransformer`` at its defaults but a short cosine
schedule (so that the check runs and the fit is short):

- MNIST's 60,000 training images, 30 components, ``MNIST_EPOCHS`` epochs;
- ``load_digits / 16`` (1,797 rows), 8 components, ``DIGITS_EPOCHS`` epochs;
  and a default fit of digits (the plateau schedule), whose check the
  script times too, as a share of the whole fit.

An epoch's time is the fit's time without the check, divided by its
epochs: the fit's set-up counts as epoch time. Each fit runs ``REPEATS``
times, with one torch thread. Check ``uptime``
first; the figures are ratios measured in one run::

    python benchmarks/collapse_check.py

Prints a table and writes ``benchmarks/results/collapse_check.{json,md}``
(or to the folder ``--out`` names).
"""

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fit_start import load_mnist  # noqa: E402

import skae._autoencoder  # noqa: E402
from skae import AutoencoderTransformer  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results"
MNIST_EPOCHS = 3
DIGITS_EPOCHS = 20
REPEATS = 3


def timed_fit(X, **settings):
    """(fit seconds, check seconds, epochs) of one fit that runs the check."""
    check_seconds = []
    explained_fraction = skae._autoencoder.explained_fraction

    def timed_check(*args, **kwargs):
        start = time.perf_counter()
        try:
            return explained_fraction(*args, **kwargs)
        finally:
            check_seconds.append(time.perf_counter() - start)

    skae._autoencoder.explained_fraction = timed_check
    try:
        start = time.perf_counter()
        model = AutoencoderTransformer(random_state=0, **settings).fit(X)
        fit_seconds = time.perf_counter() - start
    finally:
        skae._autoencoder.explained_fraction = explained_fraction
    if len(check_seconds) != 1:
        raise RuntimeError(f"expected one collapse check in the fit, got {len(check_seconds)}")
    return fit_seconds, check_seconds[0], model.n_iter_


def summary(runs):
    """Median (range) of the check's seconds, and of its share of an epoch and of the fit."""
    checks = [check for _, check, _ in runs]
    per_epoch = [check / ((fit - check) / epochs) for fit, check, epochs in runs]
    of_fit = [check / fit for fit, check, _ in runs]
    return {
        "fit_seconds": [fit for fit, _, _ in runs],
        "check_seconds": checks,
        "epochs": [epochs for _, _, epochs in runs],
        "check_per_epoch": per_epoch,
        "check_of_fit": of_fit,
    }


def cell(values, form):
    """``median (min-max)`` of ``values``, each written by ``form``."""
    low, middle, high = (
        form.format(v) for v in (min(values), statistics.median(values), max(values))
    )
    return f"{middle} ({low}-{high})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits = (load_digits().data / 16).astype(np.float32)
    cases = {
        f"MNIST 60,000 x 784, 30 components, cosine, {MNIST_EPOCHS} epochs": (
            load_mnist(),
            dict(n_components=30, learning_rate="cosine", max_iter=MNIST_EPOCHS),
        ),
        f"digits 1,797 x 64, 8 components, cosine, {DIGITS_EPOCHS} epochs": (
            digits,
            dict(n_components=8, learning_rate="cosine", max_iter=DIGITS_EPOCHS),
        ),
        "digits 1,797 x 64, 8 components, defaults": (digits, dict(n_components=8)),
    }
    load_before = os.getloadavg()
    with warnings.catch_warnings():  # a warm-up too short to learn: it warns of collapse
        warnings.simplefilter("ignore", ConvergenceWarning)
        timed_fit(digits[:300], n_components=8, learning_rate="cosine", max_iter=2)
    results = {}
    for name, (X, settings) in cases.items():
        results[name] = summary([timed_fit(X, **settings) for _ in range(REPEATS)])
    lines = [
        f"The collapse check's cost, median (range) of {REPEATS} fits, one torch thread, "
        f"torch {torch.__version__}:",
        "",
        "| fit | epochs | fit, s | check, s | check / one epoch | check / whole fit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        forms = {
            "epochs": "{:.0f}",
            "fit_seconds": "{:.2f}",
            "check_seconds": "{:.3f}",
            "check_per_epoch": "{:.2f}",
            "check_of_fit": "{:.1%}",
        }
        cells = " | ".join(cell(result[key], form) for key, form in forms.items())
        lines.append(f"| {name} | {cells} |")
    load = (
        f"start {[round(v, 2) for v in load_before]}, end {[round(v, 2) for v in os.getloadavg()]}"
    )
    lines += ["", f"Load average (1, 5, 15 min): {load}."]
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "collapse_check.md").write_text(table)
    (args.out / "collapse_check.json").write_text(json.dumps(results, indent=2) + "\n")
    command = " ".join(["python benchmarks/collapse_check.py", *sys.argv[1:]])
    print(f"Wrote {args.out}/collapse_check.{{json,md}}. Reproduce with: {command}")


if __name__ == "__main__":
    main()
