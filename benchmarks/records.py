"""The MNIST records: every row trained and measured over two seeds, one command.

Rows (MNIST test set; settings at the top of this file, public API only):

- ``30d``: a 30-D code, squared error per test image (sum over the 784
  pixels in [0, 1]); Hinton & Salakhutdinov (2006): 3.00, PCA 13.87.
- ``2d``: a 2-D code; one fit gives two measures: ``2d_knn``, the accuracy
  of ``KNeighborsClassifier(5)`` fitted on the training codes, scored on
  the test codes (published autoencoder 0.79, PCA 0.42), and ``2d_mse``,
  the mean squared error per pixel (0.0369, PCA 0.0557).
- ``classifier``: ``StackedAutoencoderClassifier`` test error on all
  60,000 labels (Vincent et al. 2010: 1.28%).
- ``semi``: a ``StackedAutoencoderClassifier`` (settings of its own, chosen
  by records_tuning.py) with 1,000 labels (100 per class, drawn
  from each seed) and the other 59,000 images unlabelled (-1).

Each (row, seed) result goes to ``<out>/records_cache/<row>_seed<seed>.json``
(wall time of the fit, epochs, the machine's load average before and after),
so rows can run one at a time; every run then merges all cached results
into ``<out>/records.{md,json,png}``: per measure the anchor, the target,
the mean and range over the seeds, and whether the target is met.

Run: ``python benchmarks/records.py`` (every row, long),
``--rows 30d,2d`` (some rows), ``--report`` (merge the cache only),
``--quick --out DIR`` (a smoke run: 1,000 / 500 images, one epoch,
narrower layers, under a minute; files ``records_quick*``, nothing said
about quality).
"""

import argparse
import json
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from defaults import commit
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer, StackedAutoencoderClassifier, __version__

# ----------------------------------------------------------------- settings
SEEDS = (0, 1)
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist.npz"
# Hinton & Salakhutdinov's 784-1000-500-250-k autoencoder: ReLU instead of
# their logistic units, sigmoid output and cross-entropy as theirs, Adam
# annealed to 0 by a cosine schedule over a fixed budget, after greedy
# layer-wise pretraining (theirs: RBMs; here: shallow autoencoders).
DEEP_AUTOENCODER = {
    "hidden_layer_sizes": (1000, 500, 250),
    "output_activation": "sigmoid",
    "loss": "bce",
    "batch_size": 256,
    "alpha": 0.0,
    "learning_rate": "cosine",
    "learning_rate_init": 1e-3,
    "tol": 0.0,
    "pretrain_max_iter": 5,
    "pretrain_learning_rate_init": 1e-3,
}
# 30-D: 100 cosine epochs from random weights reached 3.32 (200 overfit:
# 3.50). Tied weights and 10 pretraining epochs per layer regularise: on
# 10,000 training images, 40 epochs, seed 0, the test error per image was
# 6.21 untied from random weights, 6.09 tied, 6.05 tied after 3 pretraining
# epochs, 5.72 tied after 10 (learning_rate_init=2e-3: 6.29). Then with
# benchmarks/records_tuning.py --row 30d (fit on the first 50,000 training
# images, scored on the other 10,000; seed 0, one thread), tied, 10
# pretraining epochs: batch 256 and 100 epochs 3.266 (180 epochs: 3.347,
# overfit; loss="mse": 3.390); batch 128, 100 / 60 epochs 3.222 / 3.206;
# batch 64, 40 epochs 3.190; batch 32, 30 epochs 3.160 (20 epochs 3.251,
# 40 epochs 3.138); batch 16, 20 epochs 3.227. Then batch 32, 30 epochs
# with an L2 penalty alpha=1e-5: 3.053 (3.061 after the zeroing of
# vanished weights; test set 2.84); alpha=3e-5: 2.988 (test set 2.77);
# alpha=1e-4, the default: 2.930 (kept; test set 2.72); 3e-4: 3.077; 1e-3: 3.558.
AUTOENCODER_30D = dict(
    DEEP_AUTOENCODER,
    n_components=30,
    batch_size=32,
    max_iter=30,
    alpha=1e-4,
    tied_weights=True,
    pretrain_max_iter=10,
)
# 2-D: on 10,000 images, 20 epochs, 3 pretraining epochs per layer gave
# 5-NN 0.693 and MSE 0.0405 against 0.666 and 0.0409 without (tied: no gain).
# Then with benchmarks/records_tuning.py --row 2d (fit on the first 50,000
# training images, scored on the other 10,000; seed 0, one thread): 60 epochs 5-NN 0.853,
# MSE 0.0331; 10 pretraining epochs 0.841, 0.0329; batch 128 0.857,
# 0.0324; 100 epochs 0.869, 0.0327 (kept).
AUTOENCODER_2D = dict(DEEP_AUTOENCODER, n_components=2, max_iter=100, pretrain_max_iter=3)
# Before: benchmarks/sda_mnist.py's supervised settings with more epochs and
# dropout, 3 x 1000 units, 5 pretraining epochs, 100 fine-tuning epochs,
# dropout 0.5 (input 0.2): 1.13% on the test set. Tried with
# benchmarks/records_tuning.py --row classifier (fit on the first 50,000
# training images, error on the other 10,000; standard error about 0.1
# point), at 30 epochs: those settings 1.31%; consistency_weight=1 1.33%;
# with reconstruction_weight=1 1.38% (1.23% when each row went through the
# net twice); reconstruction_weight=1 1.31%; alpha=0.01 1.33%: none kept.
# Now ladder networks' supervised baseline (batch_norm, noise_std=0.3, no
# pretraining, 784-1000-500-250-250-250-10; benchmarks/bn_noise_reference.py
# measured its plain PyTorch version at 0.86%): 0.89% on the same split
# with a cosine schedule over 150 epochs (one thread, 611 s beside the tests).
CLASSIFIER = {
    "hidden_layer_sizes": (1000, 500, 250, 250, 250),
    "corruption_levels": "auto",
    "activation": "relu",
    "batch_size": 100,
    "batch_norm": True,
    "noise_std": 0.3,
    "pretrain_max_iter": 0,
    "learning_rate": "cosine",
    "max_iter": 150,
    "learning_rate_init": 2e-3,
    "alpha": 0.0,
    "tol": 0.0,
}
# 1,000 labels: chosen with benchmarks/records_tuning.py --row semi, on the
# training set only (1,000 labels among its first 50,000 images, the error
# on the other 10,000), from two hidden layers of 500 and 10 cosine epochs:
# reconstruction_weight 1 alone 5.54%; consistency_weight 1 alone 3.77%
# (2: 4.46%; 10: 60.9%, the predictions collapse); consistency 1 with
# reconstruction 1, 3, 10, 30: 3.16%, 3.01%, 2.87%, 3.19%; then, with
# consistency 1 and reconstruction 10, 20, 40 and 60 epochs: 2.49%, 2.25%,
# 2.19% (40 kept: 60 is within noise, at 1.5x the time); two layers of
# 1,000: 2.76% (10 epochs), 2.49% (40).
SEMI_SUPERVISED = {
    "hidden_layer_sizes": (500, 500),
    "corruption_levels": (0.1, 0.2),
    "activation": "relu",
    "batch_size": 100,
    "pretrain_max_iter": 2,
    "pretrain_learning_rate_init": 1e-3,
    "learning_rate": "cosine",
    "max_iter": 40,
    "learning_rate_init": 1e-3,
    "dropout": 0.3,
    "input_dropout": 0.1,
    "alpha": 0.0,
    "tol": 0.0,
    "reconstruction_weight": 10.0,
    "consistency_weight": 1.0,
}
N_LABELLED_PER_CLASS = 100
# The smoke run: subsets, one epoch of each phase, every hidden layer an
# eighth as wide (under a minute on 2 cores).
QUICK = {"n_train": 1_000, "n_test": 500, "max_iter": 1, "pretrain_max_iter": 1,
         "width_divisor": 8, "n_labelled_per_class": 10}  # fmt: skip

ROWS = {
    "30d": (AutoencoderTransformer, AUTOENCODER_30D),
    "2d": (AutoencoderTransformer, AUTOENCODER_2D),
    "classifier": (StackedAutoencoderClassifier, CLASSIFIER),
    "semi": (StackedAutoencoderClassifier, SEMI_SUPERVISED),
}
# measure: (row, label, anchor, PCA or other reference, previous best,
# target, "<=" or ">=", time limit in seconds or None, display format)
MEASURES = {
    "30d": ("30d", "30-D squared error per image", 3.00, 13.87, 3.32, 2.90, "<=", 900, "{:.2f}"),
    "2d_knn": ("2d", "2-D codes, 5-NN accuracy", 0.79, 0.42, 0.820, 0.86, ">=", None, "{:.3f}"),
    "2d_mse": ("2d", "2-D MSE per pixel", 0.0369, 0.0557, 0.0350, 0.033, "<=", None, "{:.4f}"),
    "classifier": ("classifier", "classifier test error, 60k labels", 0.0128, None, 0.0119,
                   0.0090, "<=", 1200, "{:.2%}"),
    "semi": ("semi", "test error, 1,000 labels + 59k unlabelled", None, None, 0.0742, 0.025,
             "<=", None, "{:.2%}"),
}  # fmt: skip


def load(path, n_train=None, n_test=None):
    """MNIST as float32 pixels in [0, 1]; a clear error when the file is missing."""
    if not Path(path).exists():
        sys.exit(
            f"records.py needs MNIST at {path} (keys x_train, y_train, x_test, "
            "y_test, as keras saves it); pass --mnist PATH."
        )
    with np.load(path) as data:
        X_train = data["x_train"][:n_train].reshape(-1, 784).astype(np.float32) / 255
        X_test = data["x_test"][:n_test].reshape(-1, 784).astype(np.float32) / 255
        y_train = data["y_train"][:n_train].astype(np.int64)
        return X_train, y_train, X_test, data["y_test"][:n_test].astype(np.int64)


def balanced_labels(y, per_class, seed):
    """``y`` with ``per_class`` labels of each class kept (drawn by ``seed``), the rest -1."""
    rng = np.random.RandomState(seed)
    kept = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    )
    y_semi = np.full_like(y, -1)
    y_semi[kept] = y[kept]
    return y_semi


def accepted(cls, params):
    """The settings ``cls`` takes, and the names of those it does not."""
    known = cls().get_params()
    return {k: v for k, v in params.items() if k in known}, sorted(set(params) - set(known))


def measures_of(row, estimator, X_train, y_train, X_test, y_test):
    """The measures of one fitted row."""
    if row == "30d":
        error = estimator.inverse_transform(estimator.transform(X_test)) - X_test
        return {"30d": float((error**2).sum(axis=1).mean())}
    if row == "2d":
        codes_test = estimator.transform(X_test)
        knn = KNeighborsClassifier(5).fit(estimator.transform(X_train), y_train)
        error = estimator.inverse_transform(codes_test) - X_test
        return {
            "2d_knn": float(knn.score(codes_test, y_test)),
            "2d_mse": float((error**2).mean()),
        }
    return {row: 1.0 - float(estimator.score(X_test, y_test))}


def run(row, seed, data, quick, device):
    """Train and measure ``row`` with ``seed``: the cache entry."""
    X_train, y_train, X_test, y_test = data
    cls, settings = ROWS[row]
    params, dropped = accepted(cls, dict(settings, random_state=seed, device=device))
    if quick:
        params.update(max_iter=QUICK["max_iter"], pretrain_max_iter=QUICK["pretrain_max_iter"])
        widths = params["hidden_layer_sizes"]
        params["hidden_layer_sizes"] = tuple(w // QUICK["width_divisor"] for w in widths)
    y_fit = y_train
    if row == "semi":
        per_class = QUICK["n_labelled_per_class"] if quick else N_LABELLED_PER_CLASS
        y_fit = balanced_labels(y_train, per_class, seed)
    estimator = cls(**params)
    load_before = os.getloadavg()
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets, on purpose
        estimator.fit(X_train, None if cls is AutoencoderTransformer else y_fit)
    seconds = time.perf_counter() - tic
    load_after = os.getloadavg()
    entry = {
        "row": row,
        "seed": seed,
        "measures": measures_of(row, estimator, X_train, y_train, X_test, y_test),
        "fit_seconds": seconds,
        "epochs": int(estimator.n_iter_),
        "pretrain_epochs": [len(c) for c in estimator.pretrain_loss_curves_],
        "load_before": load_before,
        "load_after": load_after,
        "params": params,
        "params_not_taken": dropped,
        "n_train": len(X_train),
        "n_labelled": int((y_fit >= 0).sum()),
        "n_test": len(X_test),
        "loss_curve": [float(v) for v in estimator.loss_curve_],
        "pretrain_loss_curves": estimator.pretrain_loss_curves_,
        "torch_threads": torch.get_num_threads(),
        # The version is the editable install's, frozen when it was made;
        # the commit is the code's.
        "skae": __version__,
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    shown = ", ".join(MEASURES[m][8].format(v) + f" ({m})" for m, v in entry["measures"].items())
    print(f"{row} seed {seed}: {shown}; fit {seconds:.1f} s, {entry['epochs']} epochs, "
          f"load {load_before[0]:.2f} -> {load_after[0]:.2f}", flush=True)  # fmt: skip
    return entry


def summarize(entries):
    """One record per measure that has results: values by seed, mean, range, met."""
    records = []
    for measure, settings in MEASURES.items():
        row, label, anchor, reference, previous, target, sense, limit, _ = settings
        runs = sorted((e for e in entries if measure in e["measures"]), key=lambda e: e["seed"])
        if not runs:
            continue
        values = [e["measures"][measure] for e in runs]
        seconds = [e["fit_seconds"] for e in runs]
        mean = float(np.mean(values))
        met = mean <= target if sense == "<=" else mean >= target
        if limit is not None:
            met = met and float(np.mean(seconds)) <= limit
        records.append({
            "measure": measure, "row": row, "label": label, "anchor": anchor,
            "reference": reference, "previous": previous, "target": target,
            "sense": sense, "time_limit_s": limit, "seeds": [e["seed"] for e in runs],
            "values": values, "mean": mean, "min": min(values), "max": max(values),
            "fit_seconds": seconds, "epochs": [e["epochs"] for e in runs],
            "load": [(e["load_before"][0], e["load_after"][0]) for e in runs],
            "met": bool(met),
        })  # fmt: skip
    return records


def markdown(records, quick):
    def show(measure, value):
        return "—" if value is None else MEASURES[measure][8].format(value)

    lines = [
        "MNIST test set; mean (range) over the seeds; wall time of each fit "
        "(pretraining included); load = 1-minute load average before -> after."
        + (" **Smoke run: subsets, one epoch, narrow layers; no quality.**" if quick else ""),
        "",
        "| record | anchor | PCA | previous | target | mean (range) | met | seeds "
        "| fit s | epochs | load |",
        "|---|---:|---:|---:|---:|---:|:---:|---|---:|---:|---|",
    ]
    for r in records:
        m = r["measure"]
        limit = "" if r["time_limit_s"] is None else f", ≤ {r['time_limit_s'] / 60:.0f} min"
        lines.append(
            f"| {r['label']} | {show(m, r['anchor'])} | {show(m, r['reference'])} "
            f"| {show(m, r['previous'])} | {r['sense']} {show(m, r['target'])}{limit} "
            f"| {show(m, r['mean'])} ({show(m, r['min'])}–{show(m, r['max'])}) "
            f"| {'yes' if r['met'] else 'no'} | {', '.join(map(str, r['seeds']))} "
            f"| {', '.join(f'{s:.0f}' for s in r['fit_seconds'])} "
            f"| {', '.join(map(str, r['epochs']))} "
            f"| {', '.join(f'{a:.1f}->{b:.1f}' for a, b in r['load'])} |"
        )
    return "\n".join(lines)


def plot(records, path):
    """Each measure: the seeds' values against the target, the anchor and the previous best."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(records), figsize=(3.2 * len(records), 3.4), squeeze=False)
    for ax, r in zip(axes[0], records, strict=True):
        ax.plot(r["seeds"], r["values"], "o", color="C0", label="seeds")
        ax.axhline(r["mean"], color="C0", lw=1, label="mean")
        ax.axhline(r["target"], color="C2", ls="--", label="target")
        for name, style in (("anchor", ":"), ("previous", "-.")):
            if r[name] is not None:
                ax.axhline(r[name], color="gray", ls=style, label=name)
        ax.set(title=r["measure"], xlabel="seed", xticks=r["seeds"])
        ax.margins(x=0.5)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated: {list(ROWS)}")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--report", action="store_true", help="merge the cache, train nothing")
    parser.add_argument("--quick", action="store_true", help="smoke run on subsets (< 1 min)")
    parser.add_argument("--out", type=Path, help="results folder (default: benchmarks/results; "
                        "with --quick: benchmarks/results/local)")  # fmt: skip
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="path of mnist.npz")
    parser.add_argument("--device", default="cpu", help="'cpu', 'cuda', 'auto'...")
    args = parser.parse_args(argv)
    rows = [] if args.report else [r for r in args.rows.split(",") if r]
    unknown = set(rows) - set(ROWS)
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}; choose from {list(ROWS)}")
    out = args.out or (RESULTS / "local" if args.quick else RESULTS)
    stem = "records_quick" if args.quick else "records"
    cache = out / f"{stem}_cache"
    cache.mkdir(parents=True, exist_ok=True)

    if rows:
        sizes = (QUICK["n_train"], QUICK["n_test"]) if args.quick else (None, None)
        data = load(args.mnist, *sizes)
        print(f"MNIST: {len(data[0])} train / {len(data[2])} test; "
              f"torch threads: {torch.get_num_threads()}", flush=True)  # fmt: skip
        # Warm-up (allocator, kernels), outside every timer; one epoch on purpose.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warm_up = AutoencoderTransformer(
                2, hidden_layer_sizes=(8,), max_iter=1, device=args.device
            )
            warm_up.fit(data[0][:256])
        for row in rows:
            for seed in map(int, args.seeds.split(",")):
                entry = run(row, seed, data, args.quick, args.device)
                path = cache / f"{row}_seed{seed}.json"
                path.write_text(json.dumps(entry, indent=1, default=str))

    entries = [json.loads(p.read_text()) for p in sorted(cache.glob("*.json"))]
    records = summarize(entries)
    command = "python benchmarks/records.py " + " ".join(map(shlex.quote, sys.argv[1:]))
    context = {
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "quick": args.quick,
        "command": command.strip(),
    }
    text = markdown(records, args.quick) + f"\n\nLast command: `{command.strip()}`\n"
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(
        json.dumps(
            {"context": context, "records": records, "runs": entries}, indent=1, default=str
        )
    )
    if records:
        plot(records, out / f"{stem}.png")
    print()
    print(text)
    print(f"Wrote {out / stem}.{{md,json,png}} and {cache}/")


if __name__ == "__main__":
    main()
