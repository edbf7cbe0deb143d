"""GridSearchCV over an autoencoder with n_jobs=1 and n_jobs=2, in one run.

An 8-candidate grid (n_components x alpha) over ``AutoencoderTransformer``
on ``load_digits`` (pixels / 16), 3-fold, scored by the estimator's own
``score`` (minus the reconstruction error). The same search runs with
``n_jobs=1`` and then ``n_jobs=2`` (joblib's default loky backend); the
measure is the ratio of their wall times (target <= 0.65 on an idle
machine: two workers should nearly halve the time). The squared error and
batch 200 are pinned, not left to the defaults: this measures parallelism,
and its figures were measured with them.

Inside each fit, a thin subclass records ``torch.get_num_threads()`` as
each batch's loss is computed, i.e. the torch threads the fit really used
(skae's thread policy, ``skae._threads.thread_budget``, chooses them); the
scorer records the worker's process id and its torch setting outside any
fit. A warm-up search with n_jobs=2 starts joblib's worker pool first (the
workers import torch once), so that the timed runs compare the searches,
not process start-up; the warm-up's time is reported too.

    python benchmarks/parallel.py              # ~1 min on 2 idle cores
    python benchmarks/parallel.py --quick      # smoke run: results/parallel_quick.*

It prints ``uptime``'s load first and warns when the machine is busy (the
ratio is then not meaningful); results go to
benchmarks/results/parallel.{json,md} (or to the folder ``--out`` names),
labelled with that load.
"""

import argparse
import json
import os
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

RESULTS = Path(__file__).parent / "results"
# ---------------------------------------------------------------- settings
GRID = {"n_components": [4, 8, 16, 32], "alpha": [0.0, 1e-4]}  # 8 candidates
CV = 3
# Epochs per fit. tol=0: a fit stops early only if its loss stops falling
# altogether, which none of the 24 does here (all run 60).
MAX_ITER = 60
QUICK_MAX_ITER = 3
HIDDEN = (64,)
N_JOBS = (1, 2)
BUSY_LOAD = 0.5  # 1-minute load average above which the ratio is unreliable
TARGET_RATIO = 0.65


class ThreadRecordingAutoencoder(AutoencoderTransformer):
    """AutoencoderTransformer that notes the torch threads its fit used."""

    def _batch_loss(self, module, batch, noise_generator):
        # Called inside the fit's thread budget: the threads really in use.
        self.threads_in_fit_ = max(getattr(self, "threads_in_fit_", 0), torch.get_num_threads())
        return super()._batch_loss(module, batch, noise_generator)


def recording_scorer(estimator, X, y=None):
    """The estimator's score, plus where and with how many threads it ran."""
    return {
        "score": estimator.score(X),
        "threads_in_fit": estimator.threads_in_fit_,
        "worker_torch_threads": torch.get_num_threads(),
        "worker_pid": os.getpid(),
    }


def search(n_jobs, max_iter, X):
    estimator = ThreadRecordingAutoencoder(
        hidden_layer_sizes=HIDDEN,
        loss="mse",  # pinned: the settings the figures were measured with
        batch_size=200,
        max_iter=max_iter,
        tol=0,
        random_state=0,
    )
    grid = GridSearchCV(
        estimator, GRID, cv=CV, n_jobs=n_jobs, scoring=recording_scorer, refit=False
    )
    tic = time.perf_counter()
    grid.fit(X)
    seconds = time.perf_counter() - tic
    results = grid.cv_results_
    folds = [f"split{k}_test_" for k in range(CV)]

    def seen(name):
        return sorted({int(v) for fold in folds for v in results[fold + name]})

    best = int(np.argmax(results["mean_test_score"]))
    return {
        "n_jobs": n_jobs,
        "seconds": seconds,
        "workers": len(seen("worker_pid")),
        "worker_torch_threads": seen("worker_torch_threads"),
        "threads_in_fit": seen("threads_in_fit"),
        "best_params": results["params"][best],
        "mean_test_scores": [float(s) for s in results["mean_test_score"]],
    }


def machine_load():
    """``uptime``'s line (or the load average where there is no uptime)."""
    try:
        line = subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        line = ""
    return line.strip() or f"load average: {os.getloadavg()}", os.getloadavg()


def markdown(report):
    first = report["runs"][0]["seconds"]
    rows = [
        "| n_jobs | wall s | ratio to n_jobs=1 | worker processes | worker torch threads "
        "| threads used in fit |",
        "|---:|---:|---:|---:|---|---|",
    ]
    for run in report["runs"]:
        rows.append(
            f"| {run['n_jobs']} | {run['seconds']:.2f} | {run['seconds'] / first:.3f} "
            f"| {run['workers']} | {run['worker_torch_threads']} | {run['threads_in_fit']} |"
        )
    met = "met" if report["ratio"] <= TARGET_RATIO else "not met"
    busy = " (BUSY: the ratio measures the other jobs too)" if report["busy"] else ""
    lines = [
        f"Load before the run: `{report['load_line']}`{busy}",
        f"{report['os_cpu_count']} CPUs; torch {torch.__version__}; 8 candidates x "
        f"{report['cv']} folds, max_iter={report['max_iter']}; warm-up (starts the worker "
        f"pool) {report['warmup_seconds']:.2f} s",
        "",
        *rows,
        "",
        f"Ratio n_jobs=2 / n_jobs=1: **{report['ratio']:.3f}** (target <= {TARGET_RATIO}: "
        f"{met}). Same best parameters and scores: {report['same_results']}.",
        "",
        f"Reproduce with: `{report['command']}`",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs per fit: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_line, load = machine_load()
    busy = load[0] > BUSY_LOAD
    print(load_line)
    if busy:
        print(
            f"WARNING: 1-minute load {load[0]:.2f} > {BUSY_LOAD}: the machine is busy, "
            "so the ratio measures the other jobs too; rerun on an idle machine."
        )
    X = load_digits().data / 16
    max_iter = QUICK_MAX_ITER if args.quick else MAX_ITER
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits stop at max_iter on purpose
        warmup = search(2, 1, X)["seconds"]
        runs = [search(n_jobs, max_iter, X) for n_jobs in N_JOBS]
    for run in runs:
        print(
            f"n_jobs={run['n_jobs']}: {run['seconds']:.2f} s, {run['workers']} worker(s), "
            f"worker torch threads {run['worker_torch_threads']}, "
            f"threads used in fit {run['threads_in_fit']}"
        )
    command = "python benchmarks/parallel.py" + (" --quick" if args.quick else "")
    if args.out != RESULTS:
        command += f" --out {args.out}"
    report = {
        "load_line": load_line,
        "load": load,
        "busy": busy,
        "os_cpu_count": os.cpu_count(),
        "max_iter": max_iter,
        "grid": GRID,
        "cv": CV,
        "warmup_seconds": warmup,
        "runs": runs,
        "ratio": runs[1]["seconds"] / runs[0]["seconds"],
        "target_ratio": TARGET_RATIO,
        "same_results": all(
            runs[0][key] == runs[1][key] for key in ("best_params", "mean_test_scores")
        ),
        "command": command,
    }
    print(f"ratio n_jobs=2 / n_jobs=1: {report['ratio']:.3f} (target <= {TARGET_RATIO})")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "parallel" + ("_quick" if args.quick else "")  # a smoke run never replaces results
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(report))
    print(f"Reproduce with: {command}")


if __name__ == "__main__":
    main()
