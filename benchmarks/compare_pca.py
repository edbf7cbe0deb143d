"""skae's main job: an autoencoder against PCA, across code sizes.

For each ``n_components`` in a sweep, on a held-out split of scikit-learn's
``load_digits`` (8x8 images scaled to [0, 1]), this measures

- the reconstruction error (mean squared error per pixel) of ``PCA`` and of
  ``AutoencoderTransformer`` (default architecture, up to 500 epochs),
- the accuracy of ``LogisticRegression`` trained on each method's codes, in
  a ``Pipeline``,
- fit and transform times,

and the 5-NN accuracy of the 2-D codes. It prints a markdown table, and
writes it (``.md``), the raw figures (``.json``) and a PNG figure to
``benchmarks/results/``.

Run: ``python benchmarks/compare_pca.py`` (about a minute on 2 CPU cores).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from skae import AutoencoderTransformer

# ----------------------------------------------------------------- settings
COMPONENTS = (2, 4, 8, 16, 32)
TEST_SIZE = 0.25
SEED = 0
# Default architecture (64-100-k-100-64, ReLU, Adam). A fixed budget of
# epochs instead of the default tol: sklearn's tol is absolute, and on pixels
# in [0, 1] the loss is small enough that tol=1e-4 stops large codes early.
AE_PARAMS = {"max_iter": 500, "tol": 0.0}
RESULTS = Path(__file__).resolve().parent / "results"


def make_methods(n_components):
    """The two methods compared, with the same code size."""
    return {
        "PCA": PCA(n_components, random_state=SEED),
        "Autoencoder": AutoencoderTransformer(n_components, random_state=SEED, **AE_PARAMS),
    }


def measure(method, X_train, X_test, y_train, y_test):
    """Reconstruction error, downstream accuracy and timings of one method."""
    tic = time.perf_counter()
    method.fit(X_train)
    fit_seconds = time.perf_counter() - tic
    tic = time.perf_counter()
    codes_test = method.transform(X_test)
    transform_seconds = time.perf_counter() - tic
    reconstruction = method.inverse_transform(codes_test)
    mse = float(np.mean((reconstruction - X_test) ** 2))

    # Downstream: the same method, refit inside a Pipeline with a classifier.
    classifier = make_pipeline(clone(method), LogisticRegression(max_iter=5000))
    accuracy = float(classifier.fit(X_train, y_train).score(X_test, y_test))
    return {
        "mse": mse,
        "accuracy": accuracy,
        "fit_seconds": fit_seconds,
        "transform_seconds": transform_seconds,
        "codes_test": codes_test,
    }


def knn_accuracy(codes_train, y_train, codes_test, y_test, k=5):
    """Accuracy of a k-NN classifier fit on train codes, scored on test codes."""
    knn = KNeighborsClassifier(n_neighbors=k).fit(codes_train, y_train)
    return float(knn.score(codes_test, y_test))


def markdown_table(rows):
    header = (
        "| n_components | PCA MSE | AE MSE | AE / PCA | PCA acc. | AE acc. "
        "| PCA fit s | AE fit s | AE transform s |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r['n_components']} | {r['PCA']['mse']:.5f} | {r['Autoencoder']['mse']:.5f} "
        f"| {r['Autoencoder']['mse'] / r['PCA']['mse']:.3f} "
        f"| {r['PCA']['accuracy']:.3f} | {r['Autoencoder']['accuracy']:.3f} "
        f"| {r['PCA']['fit_seconds']:.3f} | {r['Autoencoder']['fit_seconds']:.2f} "
        f"| {r['Autoencoder']['transform_seconds']:.4f} |"
        for r in rows
    ]
    return header + "\n".join(lines) + "\n"


def plot(rows, baseline_accuracy, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [r["n_components"] for r in rows]
    fig, (ax_mse, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for name, marker in (("PCA", "s"), ("Autoencoder", "o")):
        ax_mse.plot(ks, [r[name]["mse"] for r in rows], marker=marker, label=name)
        ax_acc.plot(ks, [r[name]["accuracy"] for r in rows], marker=marker, label=name)
    ax_acc.axhline(baseline_accuracy, color="grey", linestyle="--", label="raw pixels")
    for ax in (ax_mse, ax_acc):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("n_components")
        ax.legend()
        ax.grid(alpha=0.3)
    ax_mse.set_ylabel("held-out reconstruction MSE")
    ax_mse.set_yscale("log")
    ax_acc.set_ylabel("LogisticRegression accuracy on codes")
    fig.suptitle("load_digits: autoencoder vs PCA")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--components", type=int, nargs="+", default=list(COMPONENTS), help="code sizes"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=SEED
    )
    print(f"load_digits: {len(X_train)} train / {len(X_test)} test images, 64 pixels in [0, 1]")
    baseline = float(LogisticRegression(max_iter=5000).fit(X_train, y_train).score(X_test, y_test))

    rows = []
    started = time.perf_counter()
    for k in args.components:
        row = {"n_components": k}
        for name, method in make_methods(k).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                result = measure(method, X_train, X_test, y_train, y_test)
            if k == 2:
                codes_train = method.transform(X_train)
                result["knn5_accuracy_2d"] = knn_accuracy(
                    codes_train, y_train, result["codes_test"], y_test
                )
            del result["codes_test"]
            row[name] = result
        rows.append(row)
        print(
            f"  n_components={k:>3}: MSE PCA {row['PCA']['mse']:.5f}, "
            f"AE {row['Autoencoder']['mse']:.5f} "
            f"({time.perf_counter() - started:.0f}s elapsed)",
            flush=True,
        )

    table = markdown_table(rows)
    summary = f"LogisticRegression on raw pixels: accuracy {baseline:.3f}\n"
    two_d = next((r for r in rows if r["n_components"] == 2), None)
    if two_d is not None:
        summary += (
            f"5-NN accuracy of 2-D codes: PCA {two_d['PCA']['knn5_accuracy_2d']:.3f}, "
            f"autoencoder {two_d['Autoencoder']['knn5_accuracy_2d']:.3f}\n"
        )
    command = "python benchmarks/compare_pca.py " + " ".join(argv or sys.argv[1:])
    print()
    print(table)
    print(summary)
    (args.out / "compare_pca_digits.md").write_text(
        f"{table}\n{summary}\nReproduce: `{command.strip()}`\n"
    )
    (args.out / "compare_pca_digits.json").write_text(
        json.dumps(
            {"dataset": "load_digits", "baseline_accuracy": baseline, "rows": rows}, indent=2
        )
    )
    figure = args.out / "compare_pca_digits.png"
    plot(rows, baseline, figure)
    print(f"Wrote {figure} and the table; reproduce with: {command.strip()}")


if __name__ == "__main__":
    main()
