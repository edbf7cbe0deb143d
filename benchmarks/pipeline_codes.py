"""StandardScaler -> autoencoder -> LogisticRegression on digits, over several splits.

Issue 11 asks the pipeline ``StandardScaler -> AutoencoderTransformer ->
LogisticRegression`` (``n_components`` searched in {4, 8, 16}, every other
autoencoder setting at its default) for a test accuracy of at least 0.95.
``defaults.py`` measures it on one split. This script asks how the
autoencoder's codes compare with PCA's on several splits, what each part
of the defaults contributes, and what one more changed setting would do:

- six stratified 70/30 splits of ``load_digits`` (SPLITS), two model seeds;
- the search picks 16 components, so every row uses 16: the codes of each
  model, fitted on the standardised training pixels, feed
  ``LogisticRegression(max_iter=1000)``;
- rows: PCA(16); the autoencoder at its defaults; the autoencoder with one
  default changed (VARIANTS); the previous defaults and their parts
  (PREVIOUS: the squared error, which "auto" then runs in batches of 200;
  the Huber error in batches of 200; the Huber error at the threshold's
  previous default, 0.3); the denoising autoencoder at its defaults;
  and the autoencoder and PCA after ``MinMaxScaler`` instead, for reference;
- measures: test accuracy (mean, worst, per split), the logistic
  regression's training accuracy, the reconstruction error on the
  training and the test rows (in the scaled space), and the epochs run.

    python benchmarks/pipeline_codes.py               # ~5 min, one torch thread
    python benchmarks/pipeline_codes.py --quick --out /tmp/skae-codes   # smoke run

Results: benchmarks/results/pipeline_codes.{json,md}. Nothing is asserted.
"""

import argparse
import json
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the skae of this checkout, not an installed one

from skae import AutoencoderTransformer, DenoisingAutoencoder  # noqa: E402

# ---------------------------------------------------------------- settings
SPLITS = (0, 1, 2, 3, 4, 5)  # train_test_split random_state (stratified)
SEEDS = (0, 1)  # models' random_state
TEST_SIZE = 0.3
N_COMPONENTS = 16  # what the search over {4, 8, 16} picks
TARGET_ACCURACY = 0.95  # issue 11's target, for the "splits >= target" column
# One default changed at a time (the autoencoder's defaults otherwise).
VARIANTS = {
    "alpha=0.3": {"alpha": 0.3},
    "alpha=1": {"alpha": 1.0},
    "alpha=1.5": {"alpha": 1.5},
    "batch_size=32": {"batch_size": 32},
    "learning_rate_init=1e-3": {"learning_rate_init": 1e-3},
    'activation="sigmoid"': {"activation": "sigmoid"},
    "contractive_weight=0.01": {"contractive_weight": 0.01},
    'activation="tanh"': {"activation": "tanh"},
    'activation="gelu"': {"activation": "gelu"},
    "hidden_layer_sizes=(64,)": {"hidden_layer_sizes": (64,)},
    "hidden_layer_sizes=(200,)": {"hidden_layer_sizes": (200,)},
    "tied_weights=True": {"tied_weights": True},
    'code_activation="tanh"': {"code_activation": "tanh"},
    "early_stopping=True": {"early_stopping": True},
}
# The previous defaults, and each of their two parts on its own: before
# loss="auto", nonlinear nets trained on the squared error in batches of 200
# (which "auto" still gives the squared error), with huber_delta=0.3.
PREVIOUS = {
    'loss="mse" (previous defaults: batch 200)': {"loss": "mse"},
    "batch_size=200": {"batch_size": 200},
    "huber_delta=0.3": {"huber_delta": 0.3},
}
THREADS = 1
RESULTS = ROOT / "benchmarks" / "results"


# ------------------------------------------------------------- measurements
def code_figures(model, S_train, S_test, y_train, y_test):
    """Fit ``model`` on S_train; a logistic regression on its codes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # counted in defaults.py, not here
        model.fit(S_train)
        Z_train, Z_test = model.transform(S_train), model.transform(S_test)
        classifier = LogisticRegression(max_iter=1000).fit(Z_train, y_train)

    def reconstruction_mse(S, Z):
        return float(np.mean((model.inverse_transform(Z) - S) ** 2))

    return {
        "n_iter": getattr(model, "n_iter_", None),  # epochs; None for PCA
        "test_accuracy": float(classifier.score(Z_test, y_test)),
        "train_accuracy": float(classifier.score(Z_train, y_train)),
        "train_mse": reconstruction_mse(S_train, Z_train),
        "test_mse": reconstruction_mse(S_test, Z_test),
    }


def model_rows():
    """(row name, scaler class, model factory taking a seed or None when unseeded)."""

    def autoencoder(**params):
        return lambda seed: AutoencoderTransformer(N_COMPONENTS, random_state=seed, **params)

    def pca():
        return lambda seed: PCA(N_COMPONENTS)

    rows = [
        ("PCA(16)", StandardScaler, pca(), False),
        ("autoencoder, defaults", StandardScaler, autoencoder(), True),
    ]
    rows += [
        (f"autoencoder, {name}", StandardScaler, autoencoder(**params), True)
        for name, params in {**VARIANTS, **PREVIOUS}.items()
    ]
    rows += [("denoising autoencoder, defaults", StandardScaler,
              lambda seed: DenoisingAutoencoder(N_COMPONENTS, random_state=seed), True),
             ("MinMaxScaler: PCA(16) (reference)", MinMaxScaler, pca(), False),
             ("MinMaxScaler: autoencoder, defaults (reference)", MinMaxScaler, autoencoder(),
              True)]  # fmt: skip
    return rows


def measure(splits, seeds):
    X, y = load_digits(return_X_y=True)
    results = {}
    for name, scaler_class, make_model, seeded in model_rows():
        started = time.perf_counter()
        runs = []
        for split in splits:
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=TEST_SIZE, stratify=y, random_state=split
            )
            scaler = scaler_class().fit(X_train)
            S_train, S_test = scaler.transform(X_train), scaler.transform(X_test)
            for seed in seeds if seeded else seeds[:1]:  # PCA: one fit per split
                figures = code_figures(make_model(seed), S_train, S_test, y_train, y_test)
                runs.append({"split": split, "seed": seed, **figures})
        results[name] = runs
        accuracy = np.mean([r["test_accuracy"] for r in runs])
        print(f"{name:50s} test accuracy {accuracy:.3f} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    return results


# ------------------------------------------------------------------ report
def summary(runs, splits):
    accuracies = [r["test_accuracy"] for r in runs]
    epochs = [r["n_iter"] for r in runs if r["n_iter"] is not None]
    per_split = [np.mean([r["test_accuracy"] for r in runs if r["split"] == s]) for s in splits]
    return {
        "mean": float(np.mean(accuracies)),
        "worst": float(np.min(accuracies)),
        "per_split": [round(float(a), 3) for a in per_split],
        "splits_at_target": int(sum(a >= TARGET_ACCURACY for a in per_split)),
        "train_accuracy": float(np.mean([r["train_accuracy"] for r in runs])),
        "train_mse": float(np.mean([r["train_mse"] for r in runs])),
        "test_mse": float(np.mean([r["test_mse"] for r in runs])),
        "epochs": [min(epochs), max(epochs)] if epochs else None,
    }


def markdown(summaries, context):
    lines = [
        "# Codes for a linear classifier: autoencoder against PCA (issue 11's pipeline)",
        "",
        f"load_digits, stratified 70/30 splits {context['splits']}, model seeds "
        f"{context['seeds']}; {N_COMPONENTS} components; LogisticRegression(max_iter=1000) "
        f"on the codes; torch {torch.__version__}, {context['threads']} thread(s).",
        "",
        "| codes | test accuracy, mean (worst) | per split | splits >= "
        f"{TARGET_ACCURACY} | LogReg train accuracy | reconstruction MSE train / test | epochs |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for name, s in summaries.items():
        epochs = "-" if s["epochs"] is None else "{}-{}".format(*s["epochs"])
        per_split = ", ".join(f"{a:.3f}" for a in s["per_split"])
        lines.append(
            f"| {name} | {s['mean']:.3f} ({s['worst']:.3f}) | {per_split} | "
            f"{s['splits_at_target']} of {len(s['per_split'])} | {s['train_accuracy']:.3f} | "
            f"{s['train_mse']:.3f} / {s['test_mse']:.3f} | "
            f"{epochs} |"
        )
    return "\n".join(lines + run_footer(context))


def run_footer(context):
    """The lines that close a report: the machine's load, time, command."""
    return ["", f"Load average (1, 5, 15 min): start {context['loadavg_start']}, end "
            f"{context['loadavg_end']}. Total {context['seconds']:.0f} s.", "",
            f"Reproduce: `{context['command']}`", ""]  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: one split, one seed")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    splits, seeds = (SPLITS[:1], SEEDS[:1]) if args.quick else (SPLITS, SEEDS)
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    results = measure(splits, seeds)
    command = "python benchmarks/pipeline_codes.py " + " ".join(
        map(shlex.quote, sys.argv[1:] if argv is None else argv)
    )
    context = {
        "splits": list(splits),
        "seeds": list(seeds),
        "threads": torch.get_num_threads(),
        "loadavg_start": loadavg_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": time.perf_counter() - started,
        "command": command.strip(),
    }
    summaries = {name: summary(runs, splits) for name, runs in results.items()}
    text = markdown(summaries, context)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "pipeline_codes" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.md").write_text(text)
    payload = {"context": context, "summaries": summaries, "runs": results}
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=1) + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
