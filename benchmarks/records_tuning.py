"""How records.py's row settings were chosen: on the training set only.

MNIST's first 50,000 training images are the fit data and training images
50,000-59,999 score the settings; the test set is not touched. ``--row
semi`` keeps 1,000 of the fit images' labels (100 per class, drawn with
seed 0, as records.py draws them) and sets the rest to -1, and reports the
validation error; ``--row classifier`` keeps every label and reports the
validation error. ``--row 2d`` reports the 5-NN accuracy of the validation
codes (the neighbours: the fit images' codes) and the validation MSE per
pixel. ``--row 30d`` reports the validation squared error per image (sum
over the 784 pixels). Each is records.py's measure of the row, computed by
its ``measures_of``, with the validation images in place of the test set
(the errors of ``semi`` and ``classifier`` as fractions).

Each argument is a JSON object of settings that replace the row's base
(``BASES``: records.py's settings, and for ``semi`` 10 cosine epochs and
no semi-supervised term); one line per argument, with the fit time:

    python benchmarks/records_tuning.py --row semi '{"consistency_weight": 1.0}'
    python benchmarks/records_tuning.py --row classifier '{"consistency_weight": 1.0}'
    python benchmarks/records_tuning.py --row 2d '{"max_iter": 60}'
    python benchmarks/records_tuning.py --row 30d '{"max_iter": 180}'
    python benchmarks/records_tuning.py --row 30d --denoising '{"noise_level": 0.1}'

The sweeps' results are in benchmarks/README.md ("Records").
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # records.py beside this file

from records import (  # noqa: E402
    AUTOENCODER_2D,
    AUTOENCODER_30D,
    CLASSIFIER,
    DEFAULT_MNIST,
    SEMI_SUPERVISED,
    balanced_labels,
    load,
    measures_of,
)

from skae import (  # noqa: E402
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
)

N_FIT = 50_000  # the rest of the 60,000 training images score the settings
BASES = {
    "semi": (
        StackedAutoencoderClassifier,
        dict(SEMI_SUPERVISED, max_iter=10, reconstruction_weight=0.0, consistency_weight=0.0),
    ),
    "classifier": (StackedAutoencoderClassifier, CLASSIFIER),
    "2d": (AutoencoderTransformer, AUTOENCODER_2D),
    "30d": (AutoencoderTransformer, AUTOENCODER_30D),
}
# --denoising fits the row's autoencoder as a DenoisingAutoencoder (input
# noise as a regulariser), with the row's settings and "noise"/"noise_level".
DENOISING_ROWS = {"2d", "30d"}


def validation_scores(row, model, X_fit, y_fit, X_val, y_val):
    """records.py's measures of one fitted setting, on the validation images."""
    measures = measures_of(row, model, X_fit, y_fit, X_val, y_val)
    return "validation " + ", ".join(f"{name} {value:.5g}" for name, value in measures.items())


def main(argv=None):
    """Fit and score each setting given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", choices=sorted(BASES), required=True)
    parser.add_argument("--denoising", action="store_true",
                        help="fit a DenoisingAutoencoder (rows 2d, 30d)")  # fmt: skip
    parser.add_argument("settings", nargs="+", help="JSON objects of settings")
    args = parser.parse_args(argv)
    if args.denoising and args.row not in DENOISING_ROWS:
        parser.error(f"--denoising applies to rows {sorted(DENOISING_ROWS)}, not {args.row}")
    torch.set_num_threads(1)  # the sweeps ran two settings side by side, one thread each
    X, y, _, _ = load(DEFAULT_MNIST)
    X_fit, y_fit, X_val, y_val = X[:N_FIT], y[:N_FIT], X[N_FIT:], y[N_FIT:]
    cls, base = BASES[args.row]
    cls = DenoisingAutoencoder if args.denoising else cls
    labels = {"semi": balanced_labels(y_fit, per_class=100, seed=0), "classifier": y_fit}
    labels = labels.get(args.row)
    for argument in args.settings:
        params = dict(base, random_state=0, **json.loads(argument))
        tic = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fixed epoch budgets, on purpose
            model = cls(**params).fit(X_fit, labels)
        scores = validation_scores(args.row, model, X_fit, y_fit, X_val, y_val)
        print(f"{argument}: {scores}, fit {time.perf_counter() - tic:.0f} s", flush=True)


if __name__ == "__main__":
    main()
