"""Issue 11's pipeline at many model seeds: the defaults against the previous ones.

``defaults.py`` judges the pipeline ``StandardScaler -> AutoencoderTransformer
-> LogisticRegression`` (``n_components`` searched in {4, 8, 16}) at three
seeds, where the target asks for 0.95 at every seed. This script asks how
that worst seed holds up at more seeds, on ``defaults.py``'s split and with
its search (``searched_pipeline_accuracies``), for:

- the autoencoder's defaults (for its nonlinear net, the Huber error with
  ``huber_delta=0.15`` in batches of 64);
- the previous defaults (``defaults.PREVIOUS_DEFAULTS``: the squared error
  in batches of 200);
- the defaults with ``huber_delta=0.3``, the Huber threshold's previous
  default.

    python benchmarks/pipeline_seeds.py        # seeds 0-11: ~10 min, one torch thread
    python benchmarks/pipeline_seeds.py --quick --out /tmp/skae-seeds   # smoke run

Results: benchmarks/results/pipeline_seeds.{json,md}. Nothing is asserted.
"""

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))  # defaults.py beside this file

from defaults import (  # noqa: E402
    PREVIOUS_DEFAULTS,
    RESULTS,
    SPLIT_SEED,
    TARGET_ACCURACY,
    commit,
    digits_split,
    searched_pipeline_accuracies,
)

SEEDS = tuple(range(12))
CONFIGURATIONS = {
    "defaults": {},
    "previous defaults (loss='mse', batch_size=200)": PREVIOUS_DEFAULTS,
    "defaults, huber_delta=0.3": {"huber_delta": 0.3},
}


def summary(accuracies):
    """Mean, worst, and how many seeds reach the target."""
    reached = sum(a >= TARGET_ACCURACY for a in accuracies)
    return {"mean": float(np.mean(accuracies)), "worst": float(np.min(accuracies)),
            "reached": int(reached), "accuracies": accuracies}  # fmt: skip


def markdown(results, context):
    lines = [
        "# Issue 11's pipeline at many seeds: defaults against the previous ones",
        "",
        f"load_digits, stratified 70/30 split {SPLIT_SEED} (as defaults.py); model seeds "
        f"{context['seeds']}; GridSearchCV over n_components in {{4, 8, 16}}; torch "
        f"{context['torch']}, 1 thread; commit {context['commit']}.",
        "",
        f"| autoencoder | test accuracy, mean (worst) | seeds >= {TARGET_ACCURACY} | per seed |",
        "|---|---|---:|---|",
    ]
    for name, figures in results.items():
        per_seed = ", ".join(f"{a:.3f}" for a in figures["accuracies"])
        reached = f"{figures['reached']} of {len(figures['accuracies'])}"
        lines.append(f"| {name} | {figures['mean']:.3f} ({figures['worst']:.3f}) | "
                     f"{reached} | {per_seed} |")  # fmt: skip
    lines += [
        "",
        f"Load average (1, 5, 15 min): start {context['loadavg_start']}, end "
        f"{context['loadavg_end']}. Total {context['seconds']:.0f} s.",
        "",
        f"Reproduce: `{context['command']}`",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: two seeds, less data")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = SEEDS[:2] if args.quick else SEEDS
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    X_train, X_test, y_train, y_test = digits_split(args.quick)
    results = {}
    for name, params in CONFIGURATIONS.items():
        figures = searched_pipeline_accuracies(
            StandardScaler(), X_train, X_test, y_train, y_test, seeds, **params
        )
        results[name] = summary(figures["accuracies"])
        print(f"{name:30s} {results[name]['mean']:.3f} ({results[name]['worst']:.3f})",
              flush=True)  # fmt: skip
    command = "python benchmarks/pipeline_seeds.py " + " ".join(
        map(shlex.quote, sys.argv[1:] if argv is None else argv)
    )
    context = {
        "seeds": list(seeds),
        "torch": torch.__version__,
        "commit": commit(),
        "loadavg_start": loadavg_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": time.perf_counter() - started,
        "command": command.strip(),
    }
    text = markdown(results, context)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "pipeline_seeds" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(
        json.dumps({"context": context, "results": results}, indent=1) + "\n"
    )
    print()
    print(text)


if __name__ == "__main__":
    main()
