"""How records.py's ``semi`` settings were chosen: on the training set only.

MNIST's first 50,000 training images are the fit data, with 1,000 of their
labels kept (100 per class, drawn with seed 0, as records.py draws them)
and the rest -1; the error is measured on training images 50,000-59,999,
whose labels the fit never sees. The test set is not touched.

Each argument is a JSON object of settings that replace the sweep's base
(``BASE``: records.py's ``semi`` settings with 10 cosine epochs and no
semi-supervised term); one line per argument, with the validation error and the fit time:

    python benchmarks/semi_supervised_tuning.py '{"consistency_weight": 1.0}'

The sweep's results are in benchmarks/README.md ("Records").
"""

import json
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # records.py beside this file

from records import DEFAULT_MNIST, SEMI_SUPERVISED, balanced_labels, load  # noqa: E402

from skae import StackedAutoencoderClassifier  # noqa: E402

N_FIT = 50_000  # the rest of the 60,000 training images score the settings
# records.py's settings with 10 epochs and no semi-supervised term; every
# argument changes some of them.
BASE = dict(
    SEMI_SUPERVISED, max_iter=10, reconstruction_weight=0.0, consistency_weight=0.0, random_state=0
)


def main(argv):
    """Fit and score each setting given on the command line."""
    torch.set_num_threads(1)  # the sweep ran two settings side by side, one thread each
    X, y, _, _ = load(DEFAULT_MNIST)
    X_fit, X_val, y_val = X[:N_FIT], X[N_FIT:], y[N_FIT:]
    y_fit = balanced_labels(y[:N_FIT], per_class=100, seed=0)
    for argument in argv:
        params = dict(BASE, **json.loads(argument))
        tic = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fixed epoch budgets, on purpose
            model = StackedAutoencoderClassifier(**params).fit(X_fit, y_fit)
        error = 1.0 - model.score(X_val, y_val)
        print(f"{argument}: validation error {error:.2%}, "
              f"fit {time.perf_counter() - tic:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
