"""Defaults against PCA: what skae does with every setting left at its default.

A plain script: settings at the top, one result line per measurement,
results in benchmarks/results/defaults.{json,md} (``--quick``:
``defaults_quick.*``; ``--out DIR``: in DIR). It measures and prints;
each row carries its target and whether it is met, and nothing is asserted
(whatever the library's defaults are when it runs is what gets measured).

    python benchmarks/defaults.py                  # full run (a few minutes, 2 CPU cores)
    python benchmarks/defaults.py --seeds 0,1,2,3  # other seeds
    python benchmarks/defaults.py --quick --out /tmp/skae-defaults   # smoke run (< 1 min)

Rows (``load_digits``, a stratified 70/30 train/test split, seeded by
SPLIT_SEED; the models' ``random_state`` is the seed):

- ``AutoencoderTransformer(n_components=8, random_state=seed)`` on the
  pixels / 16: held-out MSE divided by that of ``PCA(8)`` fitted on the same
  split (mean and worst seed), with ``n_iter_``, fit seconds and the number
  of warnings ``fit`` emitted;
- the linear autoencoder (``activation="identity"``) against ``PCA(k)``,
  k in 2, 8, 16, on X and on standardised X (scaler fitted on train);
- the sine-basis autoencoder: the largest principal angle between its
  decoder's linear map and the true basis {sin x, sin 2x}, at the defaults
  and, for reference, at the test suite's settings (``solver="lbfgs"``,
  ``max_iter=50``, tests/test_sine_basis.py);
- scale: the k=8 default model on X * 1e3 and X * 1e-3 against X: ratio of
  ``n_iter_``, and change of the MSE relative to PCA's on the same data;
- offset: OFFSET added to column OFFSET_COLUMN of train and test: change of
  the held-out MSE;
- the pipeline StandardScaler -> AutoencoderTransformer -> LogisticRegression
  on the raw pixels, ``GridSearchCV`` over ``n_components``: test accuracy;
  for reference PCA(16) in its place, LogisticRegression on the raw
  pixels, the autoencoder and PCA at OUTSIDE_GRID_COMPONENTS components
  (outside the searched grid), and the largest standardised held-out
  pixel (what the squared error of a standardised pixel can reach);
- for reference, the previous defaults (PREVIOUS_DEFAULTS: the squared
  error in batches of 200) in the k=8 model and in the pipeline above;
- ``StackedAutoencoderClassifier`` at several depths with its default
  ``corruption_levels`` (short fits: STACKED_PARAMS), and a ``GridSearchCV``
  over the depths: whether each runs (an error is recorded, not raised).
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the skae of this checkout, not an installed one

import skae  # noqa: E402
from skae import AutoencoderTransformer, StackedAutoencoderClassifier  # noqa: E402
from skae.datasets import make_sine_mixtures, sine_basis  # noqa: E402

# ---------------------------------------------------------------- settings
SEEDS = (0, 1, 2)  # models' random_state (and the sine data's); --seeds
SPLIT_SEED = 0  # the one 70/30 split every row shares
TEST_SIZE = 0.3
N_COMPONENTS = 8
TARGET_MEAN_RATIO = 0.65  # default AE MSE / PCA MSE, mean over seeds
TARGET_WORST_RATIO = 0.70  # ... and at the worst seed
LINEAR_COMPONENTS = (2, 8, 16)
# identity AE held-out MSE / PCA's, mean over seeds. The worst seed and the
# ratio on the training data are shown beside it: at the defaults the
# training ratio is within 0.6% of 1 at every seed, and the held-out spread
# comes from directions the training data barely constrains.
TARGET_LINEAR_RATIO = 1.02
# The k=8 default model's epochs, every seed: at most twice the 92 the issue
# measured at the defaults it started from.
TARGET_MAX_EPOCHS = 2 * 92
SINE = {"n_samples": 500, "n_points": 30}  # as tests/test_sine_basis.py
SINE_TEST_SETTINGS = {"solver": "lbfgs", "max_iter": 50}  # the test's, for reference
TARGET_SINE_DEGREES = 1.0  # largest principal angle, every seed
SCALES = (1e3, 1e-3)
TARGET_N_ITER_FACTOR = 1.5  # n_iter_ on scaled X within this factor of X's
TARGET_RELATIVE_MSE_CHANGE = 0.05  # (AE MSE / PCA MSE) within 5% of X's
OFFSET_COLUMN = 20
OFFSET = 5.0
TARGET_OFFSET_CHANGE = 0.02  # held-out MSE within 2% of the unshifted data's
PIPELINE_COMPONENTS = (4, 8, 16)
PCA_REFERENCE_COMPONENTS = 16
OUTSIDE_GRID_COMPONENTS = 32  # a reference beyond the searched grid
CV = 3
TARGET_ACCURACY = 0.95  # pipeline test accuracy, every seed
# The defaults of nonlinear nets before loss="auto": the squared error in
# batches of 200. Now the Huber error (huber_delta=0.15) in batches of 64
# keeps the net from memorising the rarely inked pixels that standardising
# stretches; linear nets keep the squared error, which makes them PCA.
PREVIOUS_DEFAULTS = {"loss": "mse", "batch_size": 200}
STACKED_DEPTHS = ((64,), (64, 48), (64, 48, 32), (64, 48, 32, 16))
STACKED_PARAMS = {"max_iter": 20, "pretrain_max_iter": 2}  # short fits: runs or not
QUICK_N_SAMPLES = 600  # --quick: a stratified subset of the 1,797 digits, one seed
THREADS = 1  # torch threads unless --threads
RESULTS = ROOT / "benchmarks" / "results"


# ------------------------------------------------------------- measurements
def fit_counted(estimator, *fit_args):
    """Fit, timed, catching every warning fit emits (none are hidden)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tic = time.perf_counter()
        estimator.fit(*fit_args)
        seconds = time.perf_counter() - tic
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    return estimator, seconds, messages


def mse(model, X_test):
    """Held-out mean squared reconstruction error per feature."""
    return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))


def default_ae(X_train, X_test, seed, **params):
    """Fit an AutoencoderTransformer with ``params`` (the rest at defaults)."""
    ae = AutoencoderTransformer(random_state=seed, **params)
    ae, seconds, messages = fit_counted(ae, X_train)
    return ae, {
        "seed": seed,
        "mse": mse(ae, X_test),
        "n_iter": int(ae.n_iter_),
        "fit_seconds": seconds,
        "n_warnings": len(messages),
        "warnings": sorted(set(messages)),
    }


def pca_mse(n_components, X_train, X_test):
    return mse(PCA(n_components).fit(X_train), X_test)


def decoder_map(ae):
    """The decoder's linear map, (n_features, k), read through the public API.

    For a linear decoder, ``inverse_transform(e_j) - inverse_transform(0)`` is
    its j-th weight column (``module_.decoder[0].weight[:, j]`` in
    tests/test_sine_basis.py), whatever scaling or centring the estimator
    wraps around the network.
    """
    k = ae.n_components_
    codes = np.vstack([np.zeros((1, k)), np.eye(k)])
    out = ae.inverse_transform(codes)
    return (out[1:] - out[0]).T


def largest_angle_degrees(ae, n_points):
    return float(np.degrees(subspace_angles(decoder_map(ae), sine_basis(n_points).T)).max())


# ------------------------------------------------------------------ results
class Rows:
    """Result rows: each printed as one line when measured."""

    def __init__(self):
        self.rows = []

    def add(self, name, measure, value, target=None, met=None, **details):
        """Record a row and print it; ``met`` is None for a row without target."""
        self.rows.append(
            {"name": name, "measure": measure, "value": value, "target": target, "met": met}
            | ({"details": details} if details else {})
        )
        if target is None:
            verdict = ""
        else:
            verdict = f"  [target {target}: {'met' if met else 'NOT met'}]"
        print(f"{name}: {measure} = {value}{verdict}", flush=True)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def flag(met):
    return "-" if met is None else ("yes" if met else "**no**")


def markdown(rows, context):
    lines = [
        "# Defaults against PCA",
        "",
        f"load_digits, {context['n_train']} train / {context['n_test']} test "
        f"(stratified, split seed {SPLIT_SEED}); seeds {context['seeds']}; "
        f"torch {context['torch']}, {context['threads']} thread(s); skae "
        f"{context['skae']} (commit {context['commit']}).",
        "",
        "| row | measure | value | target | met |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {cell(r['name'])} | {cell(r['measure'])} | {cell(r['value'])} "
            f"| {cell(r['target'] or '-')} "
            f"| {flag(r['met'])} |"
        )
    lines += [
        "",
        f"Load average (1, 5, 15 min): start {context['loadavg_start']}, "
        f"end {context['loadavg_end']}. Total {context['seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- rows
def rows_default(rows, X_train, X_test, seeds):
    """The k=8 default model against PCA(8); returns its per-seed figures."""
    pca = pca_mse(N_COMPONENTS, X_train, X_test)
    per_seed = {}
    for seed in seeds:
        _, fig = default_ae(X_train, X_test, seed, n_components=N_COMPONENTS)
        fig["ratio"] = fig["mse"] / pca
        per_seed[seed] = fig
        rows.add(
            f"digits k={N_COMPONENTS} defaults, seed {seed}",
            "MSE / PCA, n_iter_, fit s, warnings",
            f"{fig['ratio']:.3f}, {fig['n_iter']}, {fig['fit_seconds']:.2f}, {fig['n_warnings']}",
            **fig,
            pca_mse=pca,
        )
    ratios = [f["ratio"] for f in per_seed.values()]
    mean, worst = float(np.mean(ratios)), float(np.max(ratios))
    name = f"digits k={N_COMPONENTS} defaults"
    rows.add(name, "MSE / PCA, mean of seeds", f"{mean:.3f}", f"<= {TARGET_MEAN_RATIO}",
             mean <= TARGET_MEAN_RATIO, ratios=ratios)  # fmt: skip
    rows.add(name, "MSE / PCA, worst seed", f"{worst:.3f}", f"<= {TARGET_WORST_RATIO}",
             worst <= TARGET_WORST_RATIO, ratios=ratios)  # fmt: skip
    epochs = [f["n_iter"] for f in per_seed.values()]
    rows.add(name, "n_iter_, most of seeds", str(max(epochs)), f"<= {TARGET_MAX_EPOCHS}",
             max(epochs) <= TARGET_MAX_EPOCHS, n_iter=epochs)  # fmt: skip
    n_warnings = sum(f["n_warnings"] for f in per_seed.values())
    rows.add(name, "warnings emitted by fit, all seeds", str(n_warnings),
             messages=sorted({m for f in per_seed.values() for m in f["warnings"]}))  # fmt: skip
    # The previous defaults on the same data, for reference.
    previous = [
        default_ae(X_train, X_test, seed, n_components=N_COMPONENTS, **PREVIOUS_DEFAULTS)[1]
        for seed in seeds
    ]
    ratios, epochs = [f["mse"] / pca for f in previous], [f["n_iter"] for f in previous]
    rows.add(f"digits k={N_COMPONENTS}, previous defaults {previous_label()} (reference)",
             "MSE / PCA, mean (worst seed); n_iter_",
             f"{np.mean(ratios):.3f} ({np.max(ratios):.3f}); {min(epochs)}-{max(epochs)}",
             ratios=ratios, n_iter=epochs,
             fit_seconds=[f["fit_seconds"] for f in previous])  # fmt: skip
    return per_seed, pca


def previous_label():
    return ", ".join(f"{name}={value!r}" for name, value in PREVIOUS_DEFAULTS.items())


def rows_linear(rows, X_train, X_test, seeds):
    scaler = StandardScaler().fit(X_train)
    representations = {
        "X": (X_train, X_test),
        "standardised X": (scaler.transform(X_train), scaler.transform(X_test)),
    }
    for label, (train, test) in representations.items():
        for k in LINEAR_COMPONENTS:
            pca, pca_train = pca_mse(k, train, test), pca_mse(k, train, train)
            fits = [default_ae(train, test, s, n_components=k, activation="identity")
                    for s in seeds]  # fmt: skip
            figs = [fig for _, fig in fits]
            ratios = [f["mse"] / pca for f in figs]
            train_ratios = [mse(ae, train) / pca_train for ae, _ in fits]
            mean, worst = float(np.mean(ratios)), float(np.max(ratios))
            rows.add(
                f"identity AE k={k} on {label}",
                "MSE / PCA, mean (worst seed); on the training data, worst seed",
                f"{mean:.4f} ({worst:.4f}); {max(train_ratios):.4f}",
                f"mean <= {TARGET_LINEAR_RATIO}",
                mean <= TARGET_LINEAR_RATIO,
                ratios=ratios,
                train_ratios=train_ratios,
                pca_mse=pca,
                n_iter=[f["n_iter"] for f in figs],
                fit_seconds=[f["fit_seconds"] for f in figs],
                n_warnings=[f["n_warnings"] for f in figs],
            )


def rows_sine(rows, seeds):
    # As issue 11 states the model: max_iter=500, everything else default.
    model = {
        "n_components": 2,
        "hidden_layer_sizes": (),
        "activation": "identity",
        "max_iter": 500,
    }
    for label, extra in (("defaults", {}), ("test's settings (reference)", SINE_TEST_SETTINGS)):
        angles, n_iters, n_warnings = [], [], []
        for seed in seeds:
            X, _ = make_sine_mixtures(SINE["n_samples"], SINE["n_points"], random_state=seed)
            ae, _, messages = fit_counted(
                AutoencoderTransformer(random_state=seed, **{**model, **extra}), X
            )
            angles.append(largest_angle_degrees(ae, SINE["n_points"]))
            n_iters.append(int(ae.n_iter_))
            n_warnings.append(len(messages))
        worst = float(np.max(angles))
        rows.add(
            f"sine basis, {label}",
            "largest principal angle (degrees), worst seed",
            f"{worst:.3g}",
            f"<= {TARGET_SINE_DEGREES}",
            worst <= TARGET_SINE_DEGREES,
            angles=angles,
            n_iter=n_iters,
            n_warnings=n_warnings,
            settings={**model, **extra},
        )


def rows_scale(rows, X_train, X_test, seeds, base, base_pca):
    for scale in SCALES:
        pca = pca_mse(N_COMPONENTS, X_train * scale, X_test * scale)
        iter_ratios, mse_changes = [], []
        for seed in seeds:
            _, fig = default_ae(X_train * scale, X_test * scale, seed, n_components=N_COMPONENTS)
            iter_ratios.append(fig["n_iter"] / base[seed]["n_iter"])
            relative = (fig["mse"] / pca) / (base[seed]["mse"] / base_pca)
            mse_changes.append(relative - 1)
        worst_factor = float(max(max(r, 1 / r) for r in iter_ratios))
        worst_change = float(max(abs(c) for c in mse_changes))
        name = f"digits k={N_COMPONENTS} defaults on X * {scale:g}"
        rows.add(name, "n_iter_ / n_iter_ on X, worst seed",
                 f"{iter_ratios[int(np.argmax([max(r, 1 / r) for r in iter_ratios]))]:.2f}",
                 f"within {TARGET_N_ITER_FACTOR}x", worst_factor <= TARGET_N_ITER_FACTOR,
                 ratios=iter_ratios)  # fmt: skip
        rows.add(name, "change of (MSE / PCA) from X's, worst seed",
                 f"{mse_changes[int(np.argmax(np.abs(mse_changes)))]:+.1%}",
                 f"within {TARGET_RELATIVE_MSE_CHANGE:.0%}",
                 worst_change <= TARGET_RELATIVE_MSE_CHANGE, changes=mse_changes)  # fmt: skip


def rows_offset(rows, X_train, X_test, seeds, base):
    train, test = X_train.copy(), X_test.copy()
    train[:, OFFSET_COLUMN] += OFFSET
    test[:, OFFSET_COLUMN] += OFFSET
    changes = []
    for seed in seeds:
        _, fig = default_ae(train, test, seed, n_components=N_COMPONENTS)
        changes.append(fig["mse"] / base[seed]["mse"] - 1)
    worst = float(max(abs(c) for c in changes))
    rows.add(
        f"digits k={N_COMPONENTS} defaults, column {OFFSET_COLUMN} + {OFFSET:g}",
        "held-out MSE change from unshifted, worst seed",
        f"{changes[int(np.argmax(np.abs(changes)))]:+.1%}",
        f"within {TARGET_OFFSET_CHANGE:.0%}",
        worst <= TARGET_OFFSET_CHANGE,
        changes=changes,
    )


def searched_pipeline_accuracies(scaler, X_train, X_test, y_train, y_test, seeds, **params):
    """Accuracy of scaler -> AE(**params) (n_components searched) -> LogisticRegression."""
    accuracies, best, n_warnings, seconds = [], [], [], []
    for seed in seeds:
        search = GridSearchCV(
            make_pipeline(
                scaler,
                AutoencoderTransformer(random_state=seed, **params),
                LogisticRegression(max_iter=1000),
            ),
            {"autoencodertransformer__n_components": list(PIPELINE_COMPONENTS)},
            cv=CV,
        )
        search, fit_seconds, messages = fit_counted(search, X_train, y_train)
        accuracies.append(float(search.score(X_test, y_test)))
        best.append(search.best_params_["autoencodertransformer__n_components"])
        n_warnings.append(len(messages))
        seconds.append(fit_seconds)
    return {"accuracies": accuracies, "best_n_components": best, "n_warnings": n_warnings,
            "search_seconds": seconds}  # fmt: skip


def rows_pipeline(rows, X_train, X_test, y_train, y_test, seeds):
    """StandardScaler -> AE -> LogisticRegression on the raw pixels, tuned."""
    figures = searched_pipeline_accuracies(
        StandardScaler(), X_train, X_test, y_train, y_test, seeds
    )
    accuracies = figures["accuracies"]
    worst = float(np.min(accuracies))
    rows.add(
        "pipeline scaler -> AE (grid n_components) -> LogReg",
        "test accuracy, mean (worst seed)",
        f"{np.mean(accuracies):.3f} ({worst:.3f})",
        f">= {TARGET_ACCURACY}",
        worst >= TARGET_ACCURACY,
        **figures,
    )
    # The same search with the pixels mapped to [0, 1] instead of
    # standardised: standardising inflates rarely-inked pixels, which the
    # squared error would then memorise.
    figures = searched_pipeline_accuracies(MinMaxScaler(), X_train, X_test, y_train, y_test, seeds)
    accuracies = figures["accuracies"]
    rows.add(
        "pipeline MinMaxScaler -> AE (grid n_components) -> LogReg (reference)",
        "test accuracy, mean (worst seed)",
        f"{np.mean(accuracies):.3f} ({np.min(accuracies):.3f})",
        **figures,
    )
    figures = searched_pipeline_accuracies(
        StandardScaler(), X_train, X_test, y_train, y_test, seeds, **PREVIOUS_DEFAULTS
    )
    accuracies = figures["accuracies"]
    rows.add(
        f"pipeline scaler -> AE(previous defaults {previous_label()}) (grid n_components) "
        "-> LogReg (reference)",
        "test accuracy, mean (worst seed)",
        f"{np.mean(accuracies):.3f} ({np.min(accuracies):.3f})",
        **figures,
    )
    references = {
        f"pipeline scaler -> PCA({PCA_REFERENCE_COMPONENTS}) -> LogReg (reference)": make_pipeline(
            StandardScaler(), PCA(PCA_REFERENCE_COMPONENTS), LogisticRegression(max_iter=1000)
        ),
        "LogReg on raw pixels (reference)": LogisticRegression(max_iter=1000),
    }
    for name, model in references.items():
        model, _, messages = fit_counted(model, X_train, y_train)
        rows.add(name, "test accuracy", f"{model.score(X_test, y_test):.3f}",
                 n_warnings=len(messages))  # fmt: skip
    rows_outside_grid(rows, X_train, X_test, y_train, y_test, seeds)


def rows_outside_grid(rows, X_train, X_test, y_train, y_test, seeds):
    """References: more components than the grid holds, and the stretched pixels."""
    k = OUTSIDE_GRID_COMPONENTS
    accuracies = []
    for seed in seeds:
        model = make_pipeline(StandardScaler(), AutoencoderTransformer(k, random_state=seed),
                              LogisticRegression(max_iter=1000))  # fmt: skip
        accuracies.append(float(fit_counted(model, X_train, y_train)[0].score(X_test, y_test)))
    rows.add(f"pipeline scaler -> AE({k}) -> LogReg (outside the grid; reference)",
             "test accuracy, mean (worst seed)",
             f"{np.mean(accuracies):.3f} ({np.min(accuracies):.3f})",
             accuracies=accuracies)  # fmt: skip
    pca = make_pipeline(StandardScaler(), PCA(k), LogisticRegression(max_iter=1000))
    rows.add(f"pipeline scaler -> PCA({k}) -> LogReg (reference)", "test accuracy",
             f"{fit_counted(pca, X_train, y_train)[0].score(X_test, y_test):.3f}")  # fmt: skip
    largest = float(np.abs(StandardScaler().fit(X_train).transform(X_test)).max())
    rows.add("largest standardised held-out pixel (reference)", "absolute value",
             f"{largest:.1f}")  # fmt: skip


def rows_stacked(rows, X_train, X_test, y_train, y_test, seed):
    default_corruption = StackedAutoencoderClassifier().get_params()["corruption_levels"]
    short = ", ".join(f"{k}={v}" for k, v in STACKED_PARAMS.items())
    for depth in STACKED_DEPTHS:
        name = f"stacked {depth}, default corruption_levels ({short})"
        try:
            clf, seconds, messages = fit_counted(
                StackedAutoencoderClassifier(depth, random_state=seed, **STACKED_PARAMS),
                X_train,
                y_train,
            )
        except Exception as error:  # recorded: the row's result is the error
            rows.add(name, "fits", f"no: {type(error).__name__}: {error}", "fits", False,
                     corruption_levels=repr(default_corruption))  # fmt: skip
            continue
        rows.add(name, "fits; test accuracy", f"yes; {clf.score(X_test, y_test):.3f}", "fits",
                 True, fit_seconds=seconds, n_warnings=len(messages),
                 corruption_levels=repr(default_corruption))  # fmt: skip
    name = f"stacked GridSearchCV over {len(STACKED_DEPTHS)} depths (cv={CV}; {short})"
    search = GridSearchCV(
        StackedAutoencoderClassifier(random_state=seed, **STACKED_PARAMS),
        {"hidden_layer_sizes": list(STACKED_DEPTHS)},
        cv=CV,
        error_score="raise",  # a depth that cannot fit means the search did not run
    )
    try:
        search, seconds, messages = fit_counted(search, X_train, y_train)
    except Exception as error:
        rows.add(name, "runs; best depth", f"no: {type(error).__name__}: {error}", "runs",
                 False)  # fmt: skip
        return
    rows.add(name, "runs; best depth", f"yes; {search.best_params_['hidden_layer_sizes']}",
             "runs", True, best_cv_score=float(search.best_score_), search_seconds=seconds,
             n_warnings=len(messages))  # fmt: skip


# --------------------------------------------------------------------- main
def digits_split(quick=False):
    """``load_digits``' raw pixels as every row splits them: X_train, X_test, y_train, y_test.

    ``quick``: a stratified subset of QUICK_N_SAMPLES digits first.
    """
    X, y = load_digits(return_X_y=True)
    if quick:
        X, _, y, _ = train_test_split(
            X, y, train_size=QUICK_N_SAMPLES, stratify=y, random_state=SPLIT_SEED
        )
    return train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED)


def commit():
    """HEAD's short hash, marked when tracked files other than results differ from it."""
    try:  # read-only: neither command writes the index or the working tree
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10)  # fmt: skip
        changed = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no",
             "--", ".", ":(exclude)benchmarks/results"],
            cwd=ROOT, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode or changed.returncode or not head.stdout.strip():
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes" if changed.stdout.strip() else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", default=[",".join(map(str, SEEDS))],
                        help="seeds, '0,1,2' or '0 1 2' (default %(default)s)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke run: one seed, less data")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch threads (default 1)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = [int(s) for arg in args.seeds for s in arg.split(",") if s]
    seeds = seeds[:1] if args.quick else seeds
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()

    X_raw_train, X_raw_test, y_train, y_test = digits_split(args.quick)
    X_train, X_test = X_raw_train / 16.0, X_raw_test / 16.0
    print(
        f"load_digits: {len(X_train)} train / {len(X_test)} test; seeds {seeds}; "
        f"torch threads {torch.get_num_threads()}; load average {loadavg_start}",
        flush=True,
    )
    # Warm-up (allocator, kernels), outside every timer.
    fit_counted(AutoencoderTransformer(N_COMPONENTS, max_iter=2, random_state=0), X_train)

    rows = Rows()
    base, base_pca = rows_default(rows, X_train, X_test, seeds)
    rows_linear(rows, X_train, X_test, seeds)
    rows_sine(rows, seeds)
    rows_scale(rows, X_train, X_test, seeds, base, base_pca)
    rows_offset(rows, X_train, X_test, seeds, base)
    rows_pipeline(rows, X_raw_train, X_raw_test, y_train, y_test, seeds)
    rows_stacked(rows, X_train, X_test, y_train, y_test, seeds[0])

    command = "python benchmarks/defaults.py " + " ".join(
        map(shlex.quote, sys.argv[1:] if argv is None else argv)
    )
    context = {
        "n_train": len(X_train),
        "n_test": len(X_test),
        "seeds": seeds,
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "skae": skae.__version__,
        "commit": commit(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "loadavg_start": loadavg_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": time.perf_counter() - started,
        "command": command.strip(),
    }
    n_met = sum(r["met"] is True for r in rows.rows)
    n_targets = sum(r["met"] is not None for r in rows.rows)
    text = markdown(rows.rows, context) + (
        f"\nTargets met: {n_met} of {n_targets}.\n\nReproduce: `{command.strip()}`\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "defaults" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(
        json.dumps({"context": context, "rows": rows.rows}, indent=1, default=str) + "\n"
    )
    print()
    print(text)
    print(f"Wrote {args.out / stem}.{{json,md}}; reproduce with: {command.strip()}")


if __name__ == "__main__":
    main()
