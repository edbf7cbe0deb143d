"""What the classifier record would take: a plain PyTorch MLP with batch norm and noise.

A reference for the ``classifier`` row of ``records.py`` (target: 0.90%
test error on MNIST within 20 minutes on 2 CPU cores). Not skae: the
supervised baseline of ladder networks (Rasmus et al. 2015, "MLP, BN and
Gaussian noise", 0.80% with all labels), written out in PyTorch so that
it can be measured here before ``StackedAutoencoderClassifier`` gains
the two things it lacks, batch normalisation and Gaussian noise at every
layer:

- 784-1000-500-250-250-250-10, each hidden layer ``Linear`` (no bias) ->
  ``BatchNorm1d`` -> + N(0, 0.3^2) noise while training -> ReLU; the input
  gets the same noise, the output layer is batch-normalised logits;
- Adam at 2e-3, batch 100, ``EPOCHS_CONSTANT`` epochs at that rate, then
  ``EPOCHS_DECAY`` with the rate decaying linearly to 0 (the paper's
  schedule);
- fitted on MNIST's first 50,000 training images, the validation error
  (images 50,000-59,999) printed every epoch; the test error once, at the
  end.

Usage::

    python benchmarks/bn_noise_reference.py            # about 7.5 min on 2 idle cores
    python benchmarks/bn_noise_reference.py --quick    # a smoke run

Writes ``benchmarks/results/bn_noise_reference.{json,md}`` (``--quick``:
``bn_noise_reference_quick.*``), or to the folder ``--out`` names.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST = REPO_ROOT / ".." / "shared" / "data" / "mnist.npz"
RESULTS = REPO_ROOT / "benchmarks" / "results"
SIZES = (784, 1000, 500, 250, 250, 250, 10)
NOISE_STD = 0.3
LEARNING_RATE = 2e-3
BATCH_SIZE = 100
EPOCHS_CONSTANT, EPOCHS_DECAY = 100, 50
N_TRAIN = 50_000


class NoisyBatchNormMLP(nn.Module):
    """Linear -> BatchNorm1d -> + Gaussian noise (training) -> ReLU, layer after layer."""

    def __init__(self, sizes, noise_std):
        super().__init__()
        self.noise_std = noise_std
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in pairs)
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for _, b in pairs)

    def _noisy(self, h):
        return h + self.noise_std * torch.randn_like(h) if self.training else h

    def forward(self, x):
        """Class logits of ``x``, noisy while training."""
        h = self._noisy(x)
        for i, (linear, norm) in enumerate(zip(self.linears, self.norms, strict=True)):
            h = self._noisy(norm(linear(h)))
            if i < len(self.linears) - 1:
                h = F.relu(h)
        return h


def load(n_train):
    with np.load(MNIST) as data:
        X = data["x_train"].reshape(60_000, -1).astype(np.float32) / np.float32(255)
        X_test = data["x_test"].reshape(10_000, -1).astype(np.float32) / np.float32(255)
        y, y_test = data["y_train"].astype(np.int64), data["y_test"].astype(np.int64)
    tensors = [torch.from_numpy(a) for a in (X, y, X_test, y_test)]
    X, y, X_test, y_test = tensors
    return X[:n_train], y[:n_train], X[N_TRAIN:], y[N_TRAIN:], X_test, y_test


@torch.no_grad()
def error(net, X, y):
    net.eval()
    return float((net(X).argmax(1) != y).float().mean())


def learning_rate(epoch, n_constant, n_decay):
    """The paper's schedule: constant, then linear decay to 0."""
    if epoch < n_constant:
        return LEARNING_RATE
    return LEARNING_RATE * (n_constant + n_decay - epoch) / n_decay


def train(n_train, n_constant, n_decay, seed):
    torch.manual_seed(seed)
    X, y, X_val, y_val, X_test, y_test = load(n_train)
    net = NoisyBatchNormMLP(SIZES, NOISE_STD)
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, fused=True)
    curve, tic = [], time.perf_counter()
    for epoch in range(n_constant + n_decay):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(epoch, n_constant, n_decay)
        net.train()
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            loss = F.cross_entropy(net(X[rows]), y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        curve.append(error(net, X_val, y_val))
        print(f"epoch {epoch + 1}: validation error {curve[-1]:.2%}", flush=True)
    seconds = time.perf_counter() - tic
    return {
        "validation_curve": curve,
        "test_error": error(net, X_test, y_test),
        "seconds": seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 images, 2 + 1 epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    n_train, n_constant, n_decay = (
        (2_000, 2, 1) if args.quick else (N_TRAIN, EPOCHS_CONSTANT, EPOCHS_DECAY)
    )
    result = train(n_train, n_constant, n_decay, args.seed)
    result.update(
        n_train=n_train, epochs=[n_constant, n_decay], seed=args.seed,
        torch_threads=torch.get_num_threads(), sizes=SIZES, noise_std=NOISE_STD,
    )  # fmt: skip
    curve = result["validation_curve"]
    table = (
        f"Noisy batch-norm MLP {'-'.join(map(str, SIZES))}, seed {args.seed}, "
        f"{n_train} training images, {n_constant} + {n_decay} epochs, "
        f"{result['torch_threads']} torch threads: validation error {curve[-1]:.2%} "
        f"(best epoch {min(curve):.2%}), test error {result['test_error']:.2%}, "
        f"{result['seconds']:.0f} s.\n"
    )
    print(table)
    stem = "bn_noise_reference_quick" if args.quick else "bn_noise_reference"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(table)
    command = " ".join(["python benchmarks/bn_noise_reference.py", *sys.argv[1:]])
    print(f"Wrote {args.out / stem}.{{json,md}}. Reproduce with: {command}")


if __name__ == "__main__":
    main()
