"""Memory: how much anonymous memory each call on big data adds, against its target.

Measures the peak growth of ``RssAnon`` (tests/memory_sampler.py: sampled
every 2 ms in a background thread), not RSS, which counts the pages of a
memory-mapped file as they are read. Each case runs in a fresh process,
after a warm-up on a small slice, so that torch's one-time allocations and
what earlier cases left in the allocator do not count. The data are
MNIST-shaped memmaps (float32 in [0, 1), and uint8) on disk.

Targets (issue 12): inference adds at most 0.25x its input plus its output;
``fit`` with a validation split, and the classifier's ``fit``, at most 1.0x
the (float32) training data plus O(batch); ``partial_fit`` over chunks of a
memmap at most 0.25x the array.

The autoencoder's squared error and batch 200 are pinned, not left to the
defaults: this measures memory, and its figures were measured with them.

Run it: python benchmarks/memory.py  (about 2 minutes; --rows for less;
results/memory.{json,md}, or in the folder --out names)
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the skae of this checkout, not an installed one
sys.path.insert(0, str(ROOT / "tests"))

from memory_sampler import peak_growth, random_memmap  # noqa: E402

from skae import AutoencoderTransformer, StackedAutoencoderClassifier  # noqa: E402

RESULTS = Path(__file__).parent / "results"
N_ROWS = 200_000  # x 784 float32: 627 MB
N_FEATURES = 784
WARM_UP_ROWS = 2_000
MB = 1e6

# name: (what it measures, the input it is measured against, target as
# (times the input, plus the output?)).
CASES = {
    "transform_float32_memmap": ("transform, float32 memmap", "float32", (0.25, True)),
    "transform_uint8_memmap": ("transform, uint8 memmap", "uint8", (0.25, True)),
    "inverse_transform_codes": ("inverse_transform, float32 codes memmap", "codes", (0.25, True)),
    "predict_proba_memmap": ("classifier predict_proba, float32 memmap", "float32", (0.25, True)),
    "fit_early_stopping_memmap": ("fit, early_stopping, float32 memmap", "float32", (1.0, False)),
    "fit_early_stopping_array": ("fit, early_stopping, float32 array", "array", (1.0, False)),
    "classifier_fit_memmap": ("classifier fit, early_stopping, memmap", "float32", (1.0, False)),
    "partial_fit_memmap_chunks": ("partial_fit, 10 chunks of a memmap", "float32", (0.25, False)),
}


def autoencoder(**params):
    # loss and batch pinned: the settings the figures were measured with.
    return AutoencoderTransformer(
        16,
        hidden_layer_sizes=(64,),
        loss="mse",
        batch_size=200,
        max_iter=2,
        tol=0,
        random_state=0,
        **params,
    )


def classifier():
    return StackedAutoencoderClassifier(
        hidden_layer_sizes=(64,), max_iter=2, pretrain_max_iter=1, early_stopping=True,
        random_state=0,
    )  # fmt: skip


def labels(n_rows):
    y = np.arange(n_rows) % 10
    y[::4] = -1  # a quarter unlabelled: pretraining only
    return y


def load(folder, kind):
    """The input of a case: a read-only memmap, or (``array``) a float32 copy in memory."""
    if kind == "array":
        return np.array(np.load(folder / "float32.npy", mmap_mode="r"))
    return np.load(folder / f"{kind}.npy", mmap_mode="r")


def the_call(name, X, folder):
    """The call to measure, as ``(function, args)``, its model fitted and warmed up.

    The warm-up runs the same call on a small slice (one-time allocations
    of torch and of the float64 inference path), and a whole fit for fits.
    """
    warm = np.asarray(load(folder, "float32")[:WARM_UP_ROWS])
    if name == "inverse_transform_codes":
        model = autoencoder().fit(warm)
        fn, args = model.inverse_transform, (X,)
    elif name.startswith("transform"):
        fn, args = autoencoder().fit(warm).transform, (X,)
    elif name.startswith("fit_early_stopping"):
        autoencoder(early_stopping=True).fit(warm)
        return autoencoder(early_stopping=True).fit, (X,)
    elif name == "predict_proba_memmap":
        fn, args = classifier().fit(warm, labels(len(warm))).predict_proba, (X,)
    elif name == "classifier_fit_memmap":
        classifier().fit(warm, labels(len(warm)))
        return classifier().fit, (X, labels(X.shape[0]))
    else:
        model = autoencoder().partial_fit(warm)
        chunks = np.array_split(np.arange(X.shape[0]), 10)
        return (lambda: [model.partial_fit(X[c[0] : c[-1] + 1]) for c in chunks]), ()
    fn(np.asarray(X[:WARM_UP_ROWS]))
    return fn, args


def measure(name, folder):
    """One case, in this process: a row of results."""
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    description, kind, (times_input, plus_output) = CASES[name]
    X = load(folder, kind)
    fn, args = the_call(name, X, folder)
    tic = time.perf_counter()
    result, growth = peak_growth(fn, *args)
    seconds = time.perf_counter() - tic
    output = result.nbytes if plus_output else 0
    bound = times_input * X.nbytes + output
    return {
        "case": name,
        "description": description,
        "input_mb": X.nbytes / MB,
        "output_mb": output / MB,
        "growth_mb": growth / MB,
        "growth_over_input": (growth - output) / X.nbytes,
        "target": f"<= {times_input}x input" + (" + output" if plus_output else ""),
        "growth_over_target": growth / bound,
        "excess_mb": (growth - bound) / MB,
        "seconds": seconds,
    }


def make_data(folder, n_rows):
    X = random_memmap(folder / "float32.npy", (n_rows, N_FEATURES), np.float32)
    random_memmap(folder / "uint8.npy", (n_rows, N_FEATURES), np.uint8)
    codes = np.lib.format.open_memmap(folder / "codes.npy", "w+", np.float32, (n_rows, 16))
    codes[:] = X[:, :16]  # any values will do: decoding costs the same
    codes.flush()


def markdown(rows, command):
    lines = [
        "| case | input MB | output MB | growth MB | (growth - output) / input | target "
        "| growth / target | s |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['description']} | {r['input_mb']:.0f} | {r['output_mb']:.0f} "
            f"| {r['growth_mb']:.1f} | {r['growth_over_input']:.3f} | {r['target']} "
            f"| {r['growth_over_target']:.2f} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines) + f"\n\nReproduce: `{command}`\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=N_ROWS, help="rows of the data")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:  # a child process: one case, one JSON line
        print(json.dumps(measure(args.case, args.data)))
        return
    command = " ".join(["python benchmarks/memory.py", *sys.argv[1:]])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        make_data(Path(folder), args.rows)
        for name in CASES:
            child = [sys.executable, __file__, "--case", name, "--data", folder]
            output = subprocess.run(child, capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(output.splitlines()[-1]))
            r = rows[-1]
            print(
                f"{r['description']:<45} growth {r['growth_mb']:7.1f} MB "
                f"(growth - output) / input {r['growth_over_input']:.3f}; "
                f"target {r['target']}: {r['growth_over_target']:.2f} of it",
                flush=True,
            )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.json").write_text(json.dumps({"rows": args.rows, "cases": rows}, indent=1))
    (args.out / "memory.md").write_text(markdown(rows, command))
    print(f"wrote {args.out / 'memory.json'} and memory.md; reproduce: {command}")


if __name__ == "__main__":
    main()
