"""Torch threads against work per batch: where a second thread starts to pay.

Trains MLP autoencoders of growing size for a few epochs with 1 thread and
with all threads (torch.set_num_threads), in one run, and prints the epoch
time of each and their ratio next to the work per batch (multiply-adds,
skae._threads.work_per_batch). skae uses one thread below the work where
the ratio stops favouring 1 thread (skae._threads.ONE_THREAD_BELOW).
The squared error and batch 200 are pinned, not left to the defaults:
this measures threads, and its figures were measured with them.

Run it alone on an idle machine, with torch's default threads:
python benchmarks/threads.py (``--out DIR``: results/threads.json in DIR).
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import skae._threads
from skae import AutoencoderTransformer

RESULTS = Path(__file__).parent / "results"
N_SAMPLES = 2048
EPOCHS = 3
BATCH_SIZE = 200
# (n_features, hidden_layer_sizes): from digits-sized to MNIST-sized nets.
SIZES = [(64, (32,)), (64, (100,)), (256, (256,)), (784, (256, 64)), (784, (1000, 500, 250))]


def epoch_seconds(n_features, hidden, threads):
    X = np.random.RandomState(0).rand(N_SAMPLES, n_features)
    ae = AutoencoderTransformer(
        8,
        hidden_layer_sizes=hidden,
        max_iter=EPOCHS,
        tol=0,
        loss="mse",
        batch_size=BATCH_SIZE,
        random_state=0,
    )
    torch.set_num_threads(threads)
    skae._threads.ONE_THREAD_BELOW = 0  # measure exactly the threads asked for
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.set_params(max_iter=1).fit(X)  # warm-up
        tic = time.perf_counter()
        ae.set_params(max_iter=EPOCHS).fit(X)
    work = skae._threads.work_per_batch(ae.module_, BATCH_SIZE)
    return (time.perf_counter() - tic) / EPOCHS, work


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    all_threads = torch.get_num_threads()
    print(f"load average {os.getloadavg()}; threads: 1 and {all_threads}")
    if all_threads == 1:  # OMP_NUM_THREADS=1, say: the run compares 1 with 1
        print("warning: torch has 1 thread here; run without OMP_NUM_THREADS to compare")
    rows = []
    for n_features, hidden in SIZES:
        one, work = epoch_seconds(n_features, hidden, 1)
        many, _ = epoch_seconds(n_features, hidden, all_threads)
        rows.append({"n_features": n_features, "hidden": hidden, "work_per_batch": work,
                     "epoch_s_1_thread": one, f"epoch_s_{all_threads}_threads": many,
                     "ratio_many_over_one": many / one})  # fmt: skip
        print(f"{n_features}-{hidden}: work/batch {work:.3g}, epoch 1 thread {one * 1e3:.1f} ms, "
              f"{all_threads} threads {many * 1e3:.1f} ms, ratio {many / one:.2f}")  # fmt: skip
    torch.set_num_threads(all_threads)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "threads.json").write_text(json.dumps({"load": os.getloadavg(), "rows": rows}))
    print("Reproduce with:", " ".join(["python benchmarks/threads.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
