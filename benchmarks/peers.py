"""skae beside its peers: PCA, KernelPCA, MLPRegressor and skorch, at equal code sizes.

For each code size ``k`` (digits: 2, 4, 8, 16; MNIST: 2, 8, 30), on the
same train/test split for every method, this measures

- the held-out reconstruction error, mean squared error per pixel (pixels
  in [0, 1]);
- the accuracy of ``KNeighborsClassifier(5)`` fitted on the training codes
  and scored on the held-out codes;
- the fit time, and the number of epochs the fit ran;
- the training time (and epochs) it takes to reach PCA's held-out error,
  checked epoch by epoch in a ``partial_fit`` loop that times only the
  ``partial_fit`` calls (evaluation excluded); "never" if the epoch budget
  runs out first. PCA and KernelPCA are not iterative: their figure is their
  fit time if their error is at most PCA's, else "never".

The methods
-----------
- ``PCA(k)``.
- ``KernelPCA(k, kernel="rbf", fit_inverse_transform=True)``: ``gamma`` and
  ``alpha`` (the ridge of the learned pre-image map) are chosen on a grid by
  the reconstruction error of a 20% validation split of the training data
  (``gamma`` as multiples of ``1 / (n_features * X.var())``, scikit-learn's
  "scale" heuristic), then refit on the training data (MNIST: a 5,000-image
  training subsample, the kernel matrix being n x n). The search time is
  reported apart from the fit time.
- ``MLPRegressor`` trained on (X, X), ``hidden_layer_sizes`` mirroring skae's
  network, ``(*hidden, k, *reversed(hidden))``, every other setting at its
  default except ``max_iter`` (400, skae's cap) and ``random_state=0``. It
  has no ``transform``: the code is computed by a hand-written forward pass
  through its first half, and MLPRegressor applies its hidden activation
  (ReLU) to every hidden layer, so its code is ReLU'd, not linear.
- skorch's ``NeuralNetRegressor`` on (X, X) with a module equivalent to the
  one skae builds: input standardised as skae does ((X - mean) / scale, with
  scale the root mean variance of the pixels), the same Linear/ReLU layers
  and linear code, output scaled back; MSE loss, Adam at skae's
  ``learning_rate_init``, skae's batch size, shuffled, no validation split,
  no weight decay, and skorch's ``EarlyStopping`` on the training loss with
  skae's relative ``tol`` and patience (skae's "constant" stopping rule;
  skae's default "plateau" schedule lowers the rate twice before stopping).
  It has no ``transform`` either: encoding by a hand-written forward pass
  through the module's encoder.
- skae's ``AutoencoderTransformer(k)``: at its defaults on digits; on MNIST
  the cheaper architecture of ``MNIST["hidden"]`` and a fixed epoch budget.
  On both, the squared error and batch 200 are pinned (``SKAE_PINNED``),
  not left to the defaults: this compares skae with its peers, skorch's is
  hard-wired to them, and the figures were measured with them.

On digits each iterative method has a plain ``fit`` (its own stopping rule)
for the error, accuracy and fit time, and a separate ``partial_fit`` loop
(a fresh model, up to ``epoch_budget`` epochs, stopped once it reaches
PCA's error) for the time to PCA. On MNIST, to stay inside the time budget,
one ``partial_fit`` loop of ``epochs`` epochs gives both: the fit time is
the sum of its ``partial_fit`` calls, and every method trains for the same
fixed number of epochs.

Threads: one torch thread and one BLAS thread (threadpoolctl) for every
method: digits' models are small, and on MNIST two threads stalled beside
the other jobs of a shared 2-core machine (``--threads`` sets MNIST's).

Run: ``python benchmarks/peers.py`` (digits and MNIST), ``--datasets
digits``, ``--quick`` (a smoke run of both in well under a minute, written
to a temporary folder unless ``--out`` is given). Results:
``benchmarks/results/peers.{md,json,png}``.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, KernelPCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from skae import AutoencoderTransformer  # noqa: E402
from skae.datasets import load_mnist  # noqa: E402

# ----------------------------------------------------------------- settings
SEED = 0
RESULTS = REPO_ROOT / "benchmarks" / "results"
DEFAULT_MNIST = REPO_ROOT / ".." / "shared" / "data" / "mnist.npz"
METHODS = ("PCA", "KernelPCA", "MLPRegressor", "skorch", "skae")
# skorch's loss and batch (_SkorchPeer), as the published figures were measured.
SKAE_PINNED = {"loss": "mse", "batch_size": 200}
DIGITS = {
    "components": (2, 4, 8, 16),
    "test_size": 0.3,  # stratified, seed 0
    "threads": 1,
    "hidden": (100,),  # skae's default hidden_layer_sizes
    "skae_params": dict(SKAE_PINNED),  # every other setting at its default
    "epoch_budget": 400,  # of the partial_fit loops (skae's max_iter)
    "kpca_train": None,  # all training images
    "kpca_gamma_factors": (0.25, 0.5, 1.0, 2.0, 4.0),
    "kpca_alphas": (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2),
    "kpca_solver": "auto",
}
MNIST = {
    "components": (2, 8, 30),
    # One thread: on this shared 2-core machine, with other jobs running,
    # two torch threads stalled (a 2-epoch fit on 3,000 images took 15 s
    # instead of under 1); --threads 2 on an idle machine.
    "threads": 1,
    # Cheaper than compare_pca.py's 784-1000-500-250-k (6 s an epoch there):
    # one hidden layer of 256 each way, as variants.py and throughput.py.
    "hidden": (256,),
    "epochs": 10,  # every iterative method: the same fixed budget
    "kpca_train": 5_000,  # KernelPCA's training subsample (first rows of a permutation)
    "kpca_gamma_factors": (0.5, 1.0, 2.0),
    "kpca_alphas": (1e-4, 1e-3, 1e-2),
    "kpca_solver": "randomized",
}
QUICK = {
    "digits": {
        "components": (2, 8),
        "epoch_budget": 5,
        "skae_params": {**SKAE_PINNED, "max_iter": 5},
        "kpca_gamma_factors": (1.0,),
        "kpca_alphas": (0.1,),
        "mlp_max_iter": 5,
        "skorch_max_epochs": 5,
    },
    "mnist": {
        "components": (2, 8),
        "epochs": 2,
        "n_train": 2_000,
        "n_test": 500,
        "kpca_train": 1_000,
        "kpca_gamma_factors": (1.0,),
        "kpca_alphas": (0.1,),
    },
}
SKAE_DEFAULTS = AutoencoderTransformer().get_params()


# ------------------------------------------------------------------ helpers
def mse(reconstruction, X):
    return float(np.mean((np.asarray(reconstruction, dtype=np.float64) - X) ** 2))


def knn_accuracy(codes_train, y_train, codes_test, y_test):
    knn = KNeighborsClassifier(n_neighbors=5).fit(codes_train, y_train)
    return float(knn.score(codes_test, y_test))


def timed(fn, *args, **kwargs):
    tic = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - tic, result


def load_now():
    return [round(v, 2) for v in os.getloadavg()]


class _Peer:
    """One method: how to fit it, step it an epoch, encode and reconstruct.

    ``fit(X)`` returns the fitted model; ``new()`` an unfitted one for the
    epoch loop, stepped by ``step(model, X)`` (one epoch, one
    ``partial_fit``); ``encode(model, X)`` and ``reconstruct(model, X)``.
    ``epochs(model)`` is the number of epochs a ``fit`` ran.
    """

    encoding = "transform"
    iterative = False

    def epochs(self, model):
        return None


class _PCAPeer(_Peer):
    def __init__(self, k):
        self.k = k

    def fit(self, X, y=None):
        return PCA(self.k, random_state=SEED).fit(X)

    def encode(self, model, X):
        return model.transform(X)

    def reconstruct(self, model, X):
        return model.inverse_transform(model.transform(X))


class _KernelPCAPeer(_PCAPeer):
    """rbf KernelPCA; ``gamma`` and ``alpha`` chosen on a validation split."""

    def __init__(self, k, settings):
        super().__init__(k)
        self.settings = settings
        self.chosen = None

    def make(self, gamma, alpha):
        return KernelPCA(
            self.k,
            kernel="rbf",
            gamma=gamma,
            alpha=alpha,
            fit_inverse_transform=True,
            eigen_solver=self.settings["kpca_solver"],
            random_state=SEED,
        )

    def search(self, X):
        """Grid over gamma (x the "scale" heuristic) and alpha; returns the grid's errors."""
        # float64: float32 MNIST makes the pre-image ridge singular at small alpha.
        X_fit, X_val = train_test_split(as64(X), test_size=0.2, random_state=SEED)
        scale_gamma = 1.0 / (X.shape[1] * X_fit.var())
        grid = []
        for factor in self.settings["kpca_gamma_factors"]:
            for alpha in self.settings["kpca_alphas"]:
                cell = {"gamma_factor": factor, "gamma": factor * scale_gamma, "alpha": alpha}
                try:
                    model = self.make(factor * scale_gamma, alpha).fit(X_fit)
                    cell["validation_mse"] = mse(self.reconstruct(model, X_val), X_val)
                except np.linalg.LinAlgError:  # the pre-image ridge too small to solve
                    cell["validation_mse"] = float("inf")
                grid.append(cell)
        self.chosen = min(grid, key=lambda g: g["validation_mse"])
        return grid

    def fit(self, X, y=None):
        return self.make(self.chosen["gamma"], self.chosen["alpha"]).fit(as64(X))

    def encode(self, model, X):
        # The kernel against every training row: in blocks, not all at once.
        return np.concatenate(
            [model.transform(as64(X[i : i + 5000])) for i in range(0, len(X), 5000)]
        )

    def reconstruct(self, model, X):
        return model.inverse_transform(self.encode(model, X))


class _SkaePeer(_Peer):
    iterative = True

    def __init__(self, k, params):
        self.k, self.params = k, params

    def new(self):
        return AutoencoderTransformer(self.k, random_state=SEED, **self.params)

    def fit(self, X, y=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return self.new().fit(X)

    def step(self, model, X):
        model.partial_fit(X)

    def epochs(self, model):
        return model.n_iter_

    def encode(self, model, X):
        return model.transform(X)

    def reconstruct(self, model, X):
        return model.inverse_transform(model.transform(X))


class _MLPPeer(_Peer):
    """MLPRegressor on (X, X); the code by a hand-written forward pass."""

    iterative = True
    encoding = "hand-written forward pass (ReLU'd code)"

    def __init__(self, k, hidden, max_iter=400):
        self.layers = (*hidden, k, *hidden[::-1])
        self.n_encoder = len(hidden) + 1
        self.max_iter = max_iter

    def new(self):
        return MLPRegressor(
            hidden_layer_sizes=self.layers, max_iter=self.max_iter, random_state=SEED
        )

    def fit(self, X, y=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return self.new().fit(X, X)

    def step(self, model, X):
        model.partial_fit(X, X)

    def epochs(self, model):
        return model.n_iter_

    def encode(self, model, X):
        # MLPRegressor applies `activation` to every hidden layer, the code too.
        h = np.asarray(X, dtype=model.coefs_[0].dtype)
        for W, b in zip(
            model.coefs_[: self.n_encoder], model.intercepts_[: self.n_encoder], strict=True
        ):
            h = np.maximum(h @ W + b, 0.0)
        return h

    def reconstruct(self, model, X):
        return model.predict(X)


class StandardizedAutoencoder(nn.Module):
    """The network skae builds, as plain torch: standardise, encode, decode, unscale."""

    def __init__(self, mean, scale, hidden=(100,), n_code=2):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        sizes = [len(mean), *hidden, n_code]
        encoder, decoder = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            encoder += [nn.Linear(n_in, n_out), nn.ReLU()]
        for n_in, n_out in zip(sizes[::-1][:-1], sizes[::-1][1:], strict=True):
            decoder += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder[:-1])  # linear code
        self.decoder = nn.Sequential(*decoder[:-1])  # identity output

    def encode(self, x):
        """The code of ``x``: (B, n_features) -> (B, n_code)."""
        return self.encoder((x - self.mean) / self.scale)

    def forward(self, x):
        """The reconstruction of ``x``."""
        return self.decoder(self.encode(x)) * self.scale + self.mean


class _SkorchPeer(_Peer):
    """NeuralNetRegressor on (X, X); the code by a forward pass through its encoder."""

    iterative = True
    encoding = "hand-written forward pass (module's encoder)"

    def __init__(self, k, hidden, max_epochs=400):
        self.k, self.hidden, self.max_epochs = k, hidden, max_epochs

    def new(self, early_stopping=False, X=None):
        from skorch import NeuralNetRegressor
        from skorch.callbacks import EarlyStopping

        callbacks = []
        if early_stopping:  # skae's relative tol and patience (stops after 21 stalls)
            callbacks.append(
                EarlyStopping(
                    monitor="train_loss",
                    patience=SKAE_DEFAULTS["n_iter_no_change"] + 1,
                    threshold=SKAE_DEFAULTS["tol"],
                    threshold_mode="rel",
                    sink=lambda *args, **kwargs: None,
                )
            )
        return NeuralNetRegressor(
            module=StandardizedAutoencoder,
            module__mean=X.mean(axis=0),
            module__scale=float(np.sqrt(X.var(axis=0).mean())),
            module__hidden=self.hidden,
            module__n_code=self.k,
            criterion=nn.MSELoss,
            optimizer=torch.optim.Adam,
            lr=SKAE_DEFAULTS["learning_rate_init"],
            batch_size=200,
            max_epochs=self.max_epochs,
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=callbacks,
            verbose=0,
        )

    def fit(self, X, y=None):
        torch.manual_seed(SEED)  # skorch initialises from torch's global generator
        return self.new(early_stopping=True, X=X).fit(as32(X), as32(X))

    def start(self, X):
        torch.manual_seed(SEED)
        model = self.new(X=X)
        model.initialize()
        return model

    def step(self, model, X):
        model.partial_fit(as32(X), as32(X), epochs=1)

    def epochs(self, model):
        return len(model.history)

    def encode(self, model, X):
        module = model.module_.eval()
        with torch.no_grad():
            return module.encode(torch.from_numpy(as32(X))).numpy()

    def reconstruct(self, model, X):
        return model.predict(as32(X))


def as32(X):
    return np.ascontiguousarray(X, dtype=np.float32)


def as64(X):
    return np.asarray(X, dtype=np.float64)


# -------------------------------------------------------------- measurement
def epoch_loop(peer, X_train, X_test, target, budget, stop_at_target, log=None):
    """Train a fresh model epoch by epoch; time the training calls only.

    Returns the model and a record: held-out MSE and cumulative training
    seconds after each epoch, the first epoch at most ``target`` (or None).
    """
    model = peer.start(X_train) if hasattr(peer, "start") else peer.new()
    seconds, curve, reached = 0.0, [], None
    for epoch in range(1, budget + 1):
        tic = time.perf_counter()
        peer.step(model, X_train)
        seconds += time.perf_counter() - tic
        error = mse(peer.reconstruct(model, X_test), X_test)
        curve.append({"epoch": epoch, "train_seconds": seconds, "mse": error})
        if log is not None:
            log(f"    epoch {epoch}: held-out MSE {error:.5f}, {seconds:.1f} s of training")
        if reached is None and error <= target:
            reached = {"epochs": epoch, "seconds": seconds}
            if stop_at_target:
                break
    return model, {"budget_epochs": budget, "reached": reached, "curve": curve}


def evaluate(peer, model, data, fit_seconds, epochs):
    X_train, X_test, y_train, y_test = data
    return {
        "mse": mse(peer.reconstruct(model, X_test), X_test),
        "knn5_accuracy": knn_accuracy(
            peer.encode(model, X_train), y_train, peer.encode(model, X_test), y_test
        ),
        "fit_seconds": fit_seconds,
        "epochs": epochs,
        "encoding": peer.encoding,
    }


def make_peers(k, settings):
    kpca = _KernelPCAPeer(k, settings)
    params = settings["skae_params"]
    return {
        "PCA": _PCAPeer(k),
        "KernelPCA": kpca,
        "MLPRegressor": _MLPPeer(k, settings["hidden"], settings.get("mlp_max_iter", 400)),
        "skorch": _SkorchPeer(k, settings["hidden"], settings.get("skorch_max_epochs", 400)),
        "skae": _SkaePeer(k, params),
    }


def warm_up(settings, X):
    """One short fit of each torch/MLP method: first-call costs out of the timings."""
    small = X[:300]
    k = settings["components"][0]
    for peer in (
        _SkaePeer(k, {**settings["skae_params"], "max_iter": 2}),
        _MLPPeer(k, settings["hidden"], max_iter=2),
        _SkorchPeer(k, settings["hidden"], max_epochs=2),
    ):
        peer.fit(small)


def run_k(k, settings, data, log, fixed_epochs):
    """Every method at code size k; ``fixed_epochs``: MNIST's single loop."""
    X_train, X_test, y_train, y_test = data
    peers = make_peers(k, settings)
    row = {"n_components": k}

    # PCA first: its held-out error is the target.
    seconds, model = timed(peers["PCA"].fit, X_train)
    row["PCA"] = evaluate(peers["PCA"], model, data, seconds, None)
    target = row["PCA"]["mse"]
    row["PCA"]["to_pca"] = {"reached": {"epochs": None, "seconds": seconds}}

    kpca = peers["KernelPCA"]
    X_kpca = X_train
    if settings.get("kpca_train"):
        rows = np.random.RandomState(SEED).permutation(len(X_train))[: settings["kpca_train"]]
        X_kpca = X_train[rows]
    search_seconds, grid = timed(kpca.search, X_kpca)
    seconds, model = timed(kpca.fit, X_kpca)
    row["KernelPCA"] = evaluate(kpca, model, data, seconds, None)
    row["KernelPCA"].update(
        search_seconds=search_seconds, grid=grid, chosen=kpca.chosen, n_train=len(X_kpca)
    )
    reached = row["KernelPCA"]["mse"] <= target
    row["KernelPCA"]["to_pca"] = {
        "reached": {"epochs": None, "seconds": seconds} if reached else None
    }
    log(
        f"  k={k}: PCA {target:.5f}; KernelPCA {row['KernelPCA']['mse']:.5f} "
        f"(gamma x{kpca.chosen['gamma_factor']}, alpha {kpca.chosen['alpha']}, "
        f"search {search_seconds:.1f} s)"
    )

    for name in ("MLPRegressor", "skorch", "skae"):
        peer = peers[name]
        if fixed_epochs:
            # One loop of fixed_epochs epochs: the fit and the time to PCA.
            model, loop = epoch_loop(peer, X_train, X_test, target, fixed_epochs, False, log)
            seconds = loop["curve"][-1]["train_seconds"]
            result = evaluate(peer, model, data, seconds, fixed_epochs)
        else:
            seconds, model = timed(peer.fit, X_train)
            result = evaluate(peer, model, data, seconds, peer.epochs(model))
            _, loop = epoch_loop(
                peer, X_train, X_test, target, settings["epoch_budget"], stop_at_target=True
            )
        result["to_pca"] = loop
        row[name] = result
        reached = loop["reached"]
        log(
            f"  k={k}: {name} {result['mse']:.5f}, 5-NN {result['knn5_accuracy']:.3f}, "
            f"fit {seconds:.1f} s ({result['epochs']} epochs), PCA's error "
            + (
                f"after {reached['epochs']} epoch(s), {reached['seconds']:.2f} s"
                if reached
                else f"never in {loop['budget_epochs']} epochs"
            )
        )
    return row


# ------------------------------------------------------------------- report
def fmt_to_pca(result):
    reached = result["to_pca"]["reached"]
    if reached is None:
        budget = result["to_pca"].get("budget_epochs")
        return "never" + (f" ({budget} ep.)" if budget else " (one fit)")
    if reached["epochs"] is None:
        return f"{reached['seconds']:.3g} s (the fit)"
    return f"{reached['seconds']:.3g} s ({reached['epochs']} ep.)"


ENCODING_NOTE = {
    "PCA": "transform",
    "KernelPCA": "transform",
    "MLPRegressor": "hand-written forward pass; code ReLU'd",
    "skorch": "hand-written forward pass through the encoder",
    "skae": "transform",
}


def markdown_table(rows):
    lines = [
        "| k | method | held-out MSE | / PCA | 5-NN acc. | fit s | epochs | s/epoch "
        "| time to PCA's error | transform |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        pca = row["PCA"]["mse"]
        for name in METHODS:
            r = row[name]
            epochs = per_epoch = ""
            if r["epochs"] is not None:
                epochs, per_epoch = str(r["epochs"]), f"{r['fit_seconds'] / r['epochs']:.3g}"
            lines.append(
                f"| {row['n_components']} | {name} | {r['mse']:.5f} | {r['mse'] / pca:.3f} "
                f"| {r['knn5_accuracy']:.3f} | {r['fit_seconds']:.3g} | {epochs} | {per_epoch} "
                f"| {fmt_to_pca(r)} | {ENCODING_NOTE[name]} |"
            )
    return "\n".join(lines) + "\n"


def notes(part):
    """What the table does not say: the KernelPCA search, the settings."""
    s = part["settings"]
    kpca = [
        f"k={r['n_components']}: gamma {r['KernelPCA']['chosen']['gamma_factor']:g} x "
        f"scale, alpha {r['KernelPCA']['chosen']['alpha']:g} "
        f"(search {r['KernelPCA']['search_seconds']:.1f} s)"
        for r in part["rows"]
    ]
    n_kpca = part["rows"][0]["KernelPCA"]["n_train"]
    lines = [
        f"KernelPCA (rbf, {s['kpca_solver']} eigensolver) on {n_kpca} training images; "
        f"gamma in {list(s['kpca_gamma_factors'])} x scale = 1 / (n_features * X.var()), "
        f"alpha in {list(s['kpca_alphas'])}, chosen by the MSE on a 20% validation split "
        "of those images (in float64; a cell whose pre-image ridge is singular is skipped): "
        + "; ".join(kpca)
        + ". Its fit time excludes the search.",
        "",
    ]
    if s.get("n_train"):
        lines += [
            f"Training images: a seeded random subset of {s['n_train']} of MNIST's 60,000, "
            f"for every method (the 5-NN classifiers too); {part['n_test']} test images.",
            "",
        ]
    if s.get("epochs"):
        lines.append(
            f"Iterative methods: one partial_fit loop of {s['epochs']} epochs each (the fit "
            "time is the sum of its partial_fit calls; the time to PCA's error the same "
            f"sum up to the first epoch at or below it). Hidden layers {list(s['hidden'])}."
        )
    else:
        skae_params = ", ".join(f"{k}={v!r}" for k, v in s.get("skae_params", {}).items())
        lines.append(
            "Fit: each method's own stopping rule (skae's defaults"
            f"{', ' + skae_params if skae_params else ''}; MLPRegressor's defaults, "
            f"max_iter={s.get('mlp_max_iter', 400)}; skorch with EarlyStopping on the "
            "training loss at skae's tol and patience, "
            f"max_epochs={s.get('skorch_max_epochs', 400)}). Time to PCA's error: a fresh model "
            f"trained by partial_fit, one epoch a call, up to {s['epoch_budget']} epochs, "
            "only the partial_fit calls timed."
        )
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = list(results["datasets"].items())
    fig, axes = plt.subplots(2, len(parts), figsize=(5.5 * len(parts), 7.5), squeeze=False)
    markers = dict(zip(METHODS, "sDv^o", strict=True))
    for column, (name, part) in enumerate(parts):
        ks = [r["n_components"] for r in part["rows"]]
        for method in METHODS:
            for ax, key in ((axes[0, column], "mse"), (axes[1, column], "knn5_accuracy")):
                values = [r[method][key] for r in part["rows"]]
                ax.plot(ks, values, marker=markers[method], label=method)
        for ax in axes[:, column]:
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.set_xlabel("code size k")
            ax.grid(alpha=0.3)
        axes[0, column].set_yscale("log")
        axes[0, column].set_ylabel("held-out MSE per pixel")
        axes[1, column].set_ylabel("5-NN accuracy of the codes")
        axes[0, column].set_title(name)
    axes[0, -1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("skae and its peers at equal code sizes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------- data
def load_data(name, quick, mnist_path, n_train=None):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return train_test_split(
            X / 16.0, y, test_size=DIGITS["test_size"], stratify=y, random_state=SEED
        )
    mnist = load_mnist(mnist_path)
    X_train, X_test, y_train, y_test = mnist.X_train, mnist.X_test, mnist.y_train, mnist.y_test
    if quick:
        n_train, n_test = QUICK["mnist"]["n_train"], QUICK["mnist"]["n_test"]
        X_test, y_test = X_test[:n_test], y_test[:n_test]
    if n_train is not None and n_train < len(X_train):
        rows = np.sort(np.random.RandomState(SEED).permutation(len(X_train))[:n_train])
        X_train, y_train = X_train[rows], y_train[rows]
    return [X_train, X_test, y_train, y_test]


def run_dataset(name, args, log):
    settings = dict(DIGITS if name == "digits" else MNIST)
    if args.quick:
        settings.update(QUICK[name])
    if name == "mnist":
        settings["threads"] = args.threads
        if args.epochs:
            settings["epochs"] = args.epochs
        if args.n_train:
            settings["n_train"] = args.n_train
        settings["skae_params"] = {
            **SKAE_PINNED,
            "hidden_layer_sizes": MNIST["hidden"],
            "max_iter": settings["epochs"],
        }
    data = load_data(name, args.quick, args.mnist, settings.get("n_train"))
    X_train, X_test = data[0], data[1]
    threads = settings["threads"]
    log(
        f"{name}: {len(X_train)} train / {len(X_test)} test images, {X_train.shape[1]} pixels; "
        f"k {list(settings['components'])}; {threads} torch and BLAS thread(s); load {load_now()}"
    )
    before = load_now()
    started = time.perf_counter()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    rows = []
    try:
        with threadpool_limits(threads):
            warm_up(settings, X_train)
            for k in settings["components"]:
                rows.append(run_k(k, settings, data, log, settings.get("epochs")))
    finally:
        torch.set_num_threads(previous_threads)
    after = load_now()
    settings = {key: (list(v) if isinstance(v, tuple) else v) for key, v in settings.items()}
    return {
        "settings": settings,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "loadavg_before": before,
        "loadavg_after": after,
        "seconds": time.perf_counter() - started,
        "rows": rows,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=("digits", "mnist"), default=["digits", "mnist"]
    )
    parser.add_argument(
        "--mnist", type=Path, default=DEFAULT_MNIST, help="MNIST .npz or IDX folder"
    )
    parser.add_argument(
        "--threads", type=int, default=MNIST["threads"], help="MNIST's torch/BLAS threads"
    )
    parser.add_argument("--epochs", type=int, help="MNIST's epochs per iterative method")
    parser.add_argument(
        "--n-train", type=int, help="MNIST: train on this many images (a seeded random subset)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run (< 1 min), not a measurement"
    )
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    parser.add_argument("--tag", help="suffix of the results files' names")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="peers_quick_")) if args.quick else RESULTS
    args.out.mkdir(parents=True, exist_ok=True)

    def log(line):
        print(line, flush=True)

    import sklearn
    import skorch

    command = "python benchmarks/peers.py " + " ".join(sys.argv[1:] if argv is None else argv)
    results = {
        "command": command.strip(),
        "versions": {
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "skorch": skorch.__version__,
            "numpy": np.__version__,
        },
        "cpu_count": os.cpu_count(),
        "datasets": {},
    }
    for name in args.datasets:
        results["datasets"][name] = run_dataset(name, args, log)

    stem = "peers" + ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else "")
    text = []
    for name, part in results["datasets"].items():
        s = part["settings"]
        text += [
            f"## {name}: {part['n_train']} train / {part['n_test']} test images, "
            f"{s['threads']} torch and BLAS thread(s)",
            "",
            markdown_table(part["rows"]),
            notes(part),
            f"1-, 5-, 15-minute load before: {part['loadavg_before']}, after: "
            f"{part['loadavg_after']} ({os.cpu_count()} CPUs); {part['seconds']:.0f} s in all.",
            "",
        ]
    text.append(f"Reproduce: `{results['command']}`")
    md = "\n".join(text) + "\n"
    print()
    print(md)
    (args.out / f"{stem}.md").write_text(md)
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    plot(results, args.out / f"{stem}.png")
    print(f"Wrote {args.out / stem}.md, .json and .png")


if __name__ == "__main__":
    main()
