"""How far fits at 1 and 2 torch threads end apart: the training guide's exceptions.

The same seed gives bit-identical weights at any thread count, except in
the cases the training guide lists. For each case, and for a control that
must stay bit-identical, this fits the model at 1 and then 2 torch threads
(``torch.set_num_threads``) on the same data and reports the largest
absolute difference between the two fits' weights:

- control: ``AutoencoderTransformer(8, hidden_layer_sizes=(256,),
  loss="mse", batch_size=200)``, 2 epochs (8 components: no layer of 5-7
  or 9-11 units). The squared error and batch 200 are pinned, not left to
  the defaults: this measures thread differences, its figures were
  measured with them, and at batch 64 the net falls below skae's one-thread
  work threshold, so both fits would run on one thread;
- ``solver="lbfgs"``: the same autoencoder, ``max_iter=3`` (3 epochs of
  20 L-BFGS iterations);
- a layer of 10 units: the same autoencoder with 10 components, 2 epochs,
  and ``StackedAutoencoderClassifier((256, 64))`` on 10 classes (1
  pretraining and 2 fine-tuning epochs);
- ``batch_norm=True``: that classifier on 3 classes, with batch norm.

The data is ``tests/test_threads.py``'s: 512 rows of 256 uniform features.
The differences are float rounding, so they don't depend on the machine's
load; the MKL build decides them. Set ``MKL_CBWR=AUTO,STRICT`` in the
environment to see the layer-of-10-units cases become bit-identical.

    python benchmarks/thread_differences.py              # ~6 s on 2 idle cores
    python benchmarks/thread_differences.py --out DIR    # results elsewhere

Writes ``thread_differences.{json,md}`` to ``benchmarks/results/`` (or
``--out``) and prints the command that reproduces them.
"""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the skae of this checkout, not an installed one

from skae import AutoencoderTransformer, StackedAutoencoderClassifier  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
X = np.random.RandomState(0).rand(512, 256)
THREAD_COUNTS = (1, 2)


def autoencoder(n_components, **params):
    # loss and batch pinned: at the defaults' Huber batch of 64 this net would
    # fit on one thread whatever torch.set_num_threads says (skae._threads).
    settings = {
        "hidden_layer_sizes": (256,),
        "loss": "mse",
        "batch_size": 200,
        "max_iter": 2,
        "random_state": 0,
    }
    return AutoencoderTransformer(n_components, **{**settings, **params})


def classifier(**params):
    return StackedAutoencoderClassifier(
        (256, 64), pretrain_max_iter=1, max_iter=2, random_state=0, **params
    )


# (case, the model, its number of classes or None for an autoencoder)
CASES = [
    ("control: 8 components, 2 epochs", lambda: autoencoder(8), None),
    (
        "solver='lbfgs', 3 epochs (60 iterations)",
        lambda: autoencoder(8, solver="lbfgs", max_iter=3),
        None,
    ),
    ("10 components, 2 epochs", lambda: autoencoder(10), None),
    ("classifier, 10 classes", classifier, 10),
    ("classifier, 3 classes, batch_norm=True", lambda: classifier(batch_norm=True), 3),
]


def weights_at(threads, make_model, n_classes):
    """The fitted weights of ``make_model()`` trained at ``threads`` torch threads."""
    torch.set_num_threads(threads)
    model = make_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short fits by design
        if n_classes is None:
            model.fit(X)
        else:
            model.fit(X, np.arange(len(X)) % n_classes)
    return [p.detach().clone() for p in model.module_.parameters()]


def measure_case(make_model, n_classes):
    before = torch.get_num_threads()
    try:
        one, two = (weights_at(t, make_model, n_classes) for t in THREAD_COUNTS)
    finally:
        torch.set_num_threads(before)
    largest = max(float((p - q).abs().max()) for p, q in zip(one, two, strict=True))
    identical = all(torch.equal(p, q) for p, q in zip(one, two, strict=True))
    return {"max_abs_weight_difference": largest, "bit_identical": identical}


def markdown(rows, context):
    lines = [
        "| case | largest weight difference, 1 vs 2 threads | bit-identical |",
        "|---|---:|:---:|",
        *(
            f"| {r['case']} | {r['max_abs_weight_difference']:.3g} | "
            f"{'yes' if r['bit_identical'] else 'no'} |"
            for r in rows
        ),
        "",
        f"torch {context['torch']}, MKL_CBWR={context['mkl_cbwr']}. "
        f"Reproduce: `{context['command']}`",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for case, make_model, n_classes in CASES:
        rows.append({"case": case, **measure_case(make_model, n_classes)})
        print(f"{case}: {rows[-1]['max_abs_weight_difference']:.3g}", flush=True)
    arguments = sys.argv[1:] if argv is None else list(argv)
    context = {
        "torch": torch.__version__,
        "mkl_cbwr": os.environ.get("MKL_CBWR", "unset"),
        "command": " ".join(["python benchmarks/thread_differences.py", *arguments]),
    }
    (args.out / "thread_differences.json").write_text(
        json.dumps({"rows": rows, **context}, indent=2) + "\n"
    )
    table = markdown(rows, context)
    (args.out / "thread_differences.md").write_text(table)
    print("\n" + table)
    print(f"Wrote {args.out}/thread_differences.{{json,md}}")


if __name__ == "__main__":
    main()
