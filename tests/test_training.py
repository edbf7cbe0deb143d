"""The training engine on its own: it trains any module, knows no sklearn."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from torch import nn

import skae._training
from skae import AutoencoderTransformer, StackedAutoencoderClassifier
from skae._layers import build_initialized
from skae._nets import MLPAutoencoder
from skae._optim import make_optimizer
from skae._tensors import BatchSource, predict_in_batches, resolve_device
from skae._training import History, TrainingConfig, fit_module

CPU = torch.device("cpu")


def _regression_problem(n_samples=256):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_samples, 5)).astype(np.float32)
    y = (X @ rng.normal(size=(5, 1))).astype(np.float32)
    return X, y


def _mse_loss(module, batch):
    X_batch, y_batch = batch
    return nn.functional.mse_loss(module(X_batch), y_batch)


def test_engine_trains_a_plain_regression_module():
    X, y = _regression_problem()
    module = nn.Linear(5, 1)
    config = TrainingConfig(batch_size=32, max_epochs=60, learning_rate=0.05, tol=0.0)
    history = fit_module(
        module,
        _mse_loss,
        (BatchSource(X, CPU), BatchSource(y, CPU)),
        make_optimizer("adam", module.parameters(), 0.05),
        config,
        torch.Generator().manual_seed(0),
    )
    # Converged to the exact least-squares fit (it may stop before 60 epochs
    # once the loss stops improving at all).
    assert len(history.loss_curve) == history.n_epochs <= 60
    assert history.loss_curve[-1] < 1e-6 * history.loss_curve[0]


def test_lbfgs_solves_least_squares_with_full_batch_gradients():
    X, y = _regression_problem()
    module = nn.Linear(5, 1)
    config = TrainingConfig(batch_size=50, max_epochs=5, learning_rate=1.0, tol=0.0)
    history = fit_module(
        module,
        _mse_loss,
        (BatchSource(X, CPU), BatchSource(y, CPU)),
        make_optimizer("lbfgs", module.parameters(), 1.0),
        config,
        torch.Generator().manual_seed(0),
    )
    # A linear least-squares problem: L-BFGS solves it in a few iterations.
    assert history.loss_curve[-1] < 1e-6


def test_batches_come_from_the_given_generator_only():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    seen = []

    def recording_loss(module, batch):
        seen.append(batch[0][:, 0].tolist())
        return module(batch[0]).sum()

    def run(seed):
        seen.clear()
        module = nn.Linear(2, 1)
        fit_module(
            module,
            recording_loss,
            (BatchSource(X, CPU),),
            make_optimizer("sgd", module.parameters(), 1e-3),
            TrainingConfig(batch_size=4, max_epochs=2, learning_rate=1e-3),
            torch.Generator().manual_seed(seed),
        )
        return [list(batch) for batch in seen]

    first, again, other = run(0), run(0), run(1)
    assert first == again and first != other
    assert [len(b) for b in first] == [4, 4, 2, 4, 4, 2]
    # Each epoch visits every sample exactly once.
    assert sorted(sum(first[:3], [])) == list(range(0, 20, 2))


def test_batch_source_densifies_only_requested_rows():
    X = sp.random(100, 7, density=0.2, format="csr", random_state=0, dtype=np.float64)
    source = BatchSource(X, CPU)
    rows = source.take(torch.tensor([3, 50, 99]))
    assert rows.dtype == torch.float32 and rows.shape == (3, 7)
    np.testing.assert_allclose(rows.numpy(), X[[3, 50, 99]].toarray(), rtol=1e-6)
    np.testing.assert_allclose(source.slice(10, 12).numpy(), X[10:12].toarray(), rtol=1e-6)


def test_batch_source_copies_read_only_arrays_without_warning():
    X = np.ones((4, 3), dtype=np.float32)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns on non-writable arrays
        source = BatchSource(X, CPU)
    assert source.slice(0, 4).sum().item() == 12


def test_predict_in_batches_keeps_row_order():
    X = np.arange(30, dtype=np.float32).reshape(10, 3)
    out = predict_in_batches(lambda batch: batch * 2, BatchSource(X, CPU), batch_size=3)
    np.testing.assert_array_equal(out, X * 2)


def test_build_initialized_is_reproducible_and_leaves_global_rng_alone():
    def factory():
        return MLPAutoencoder(10, (8,), 3, "relu", "identity")

    torch.manual_seed(0)
    expected_next = torch.rand(1)
    torch.manual_seed(0)
    first = build_initialized(factory, torch.Generator().manual_seed(5))
    second = build_initialized(factory, torch.Generator().manual_seed(5))
    assert torch.equal(torch.rand(1), expected_next)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    biases = [p for name, p in first.named_parameters() if name.endswith("bias")]
    assert all(torch.count_nonzero(b) == 0 for b in biases)


def test_resolve_device():
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError, match="not a device name"):
        resolve_device("quantum")


def _fit_recording_learning_rates(schedule, max_epochs, tol=0.0, n_iter_no_change=10):
    """Train a linear model and return (history, the learning rate of every batch)."""
    X, y = _regression_problem(n_samples=100)
    module = nn.Linear(5, 1)
    optimizer = make_optimizer("sgd", module.parameters(), 0.01)
    rates = []

    def loss_fn(module, batch):
        rates.append(optimizer.param_groups[0]["lr"])
        return _mse_loss(module, batch)

    config = TrainingConfig(
        batch_size=25,
        max_epochs=max_epochs,
        learning_rate=0.01,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        learning_rate_schedule=schedule,
    )
    history = fit_module(
        module,
        loss_fn,
        (BatchSource(X, CPU), BatchSource(y, CPU)),
        optimizer,
        config,
        torch.Generator().manual_seed(0),
    )
    return history, rates


def test_constant_schedule_keeps_the_learning_rate():
    _, rates = _fit_recording_learning_rates("constant", max_epochs=3)
    assert rates == [0.01] * 12


def test_cosine_schedule_anneals_to_zero_batch_by_batch():
    _, rates = _fit_recording_learning_rates("cosine", max_epochs=5)
    n_steps = 5 * 4  # 100 samples in batches of 25
    expected = [0.005 * (1 + np.cos(np.pi * t / n_steps)) for t in range(n_steps)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] == 0.01 and rates[-1] < 1e-4


def test_adaptive_schedule_divides_by_five_on_plateaus_instead_of_stopping():
    # tol=1e9: only the first epoch counts as an improvement (on an infinite
    # best loss), so with n_iter_no_change=1 the rate is divided after
    # epoch 3, then every 2 epochs.
    history, rates = _fit_recording_learning_rates(
        "adaptive", max_epochs=9, tol=1e9, n_iter_no_change=1
    )
    expected = [0.01] * 3 + [0.002] * 2 + [0.0004] * 2 + [0.00008] * 2
    assert rates[::4] == pytest.approx(expected)
    assert history.n_epochs == 9 and not history.stopped_early
    # It stops once the rate is at most 1e-6, as sklearn's MLP does:
    # 0.01 / 5**6 = 6.4e-7 is the last rate used.
    history, rates = _fit_recording_learning_rates(
        "adaptive", max_epochs=100, tol=1e9, n_iter_no_change=1
    )
    assert history.stopped_early and history.n_epochs == 3 + 2 * 6
    assert min(rates) == pytest.approx(0.01 / 5**6)


def test_an_interrupt_while_an_epoch_is_saved_keeps_history_and_weights_in_step(monkeypatch):
    # Ctrl-C while the end of epoch 2 is copied: the history must not count
    # an epoch whose weights the interrupt throws away.
    X, y = _regression_problem()
    sources = (BatchSource(X, CPU), BatchSource(y, CPU))

    def train(max_epochs, history=None):
        torch.manual_seed(0)
        module = nn.Linear(5, 1)
        config = TrainingConfig(batch_size=32, max_epochs=max_epochs, learning_rate=0.05, tol=0.0)
        optimizer = make_optimizer("adam", module.parameters(), 0.05)
        generator = torch.Generator().manual_seed(0)
        trained.append(module)
        fit_module(module, _mse_loss, sources, optimizer, config, generator, history=history)

    trained = []
    snapshot, calls = skae._training._snapshot, {"n": 0}

    def interrupting(*args):
        calls["n"] += 1
        if calls["n"] == 3:  # before training, after epoch 1, after epoch 2
            raise KeyboardInterrupt
        return snapshot(*args)

    history = History()
    monkeypatch.setattr(skae._training, "_snapshot", interrupting)
    with pytest.raises(KeyboardInterrupt):
        train(5, history)
    monkeypatch.undo()
    assert calls["n"] == 3 and history.n_epochs == 1 and len(history.loss_curve) == 1
    train(1)
    interrupted, one_epoch = trained
    for p, q in zip(interrupted.parameters(), one_epoch.parameters(), strict=True):
        assert torch.equal(p, q)


def batch_norm_architecture(n_features, n_components):
    encoder = nn.Sequential(nn.Linear(n_features, 8), nn.BatchNorm1d(8), nn.ReLU())
    return nn.Sequential(encoder, nn.Linear(8, n_components)), nn.Linear(n_components, n_features)


_BATCH_TERMS = {
    "sparsity_target": AutoencoderTransformer(
        4, code_activation="logistic", sparsity_target=0.05, solver="lbfgs", max_iter=2
    ),
    "batch_norm": StackedAutoencoderClassifier(
        (8,), batch_norm=True, pretrain_max_iter=1, solver="lbfgs", max_iter=2
    ),
    "a user's BatchNorm1d": AutoencoderTransformer(
        4, architecture=batch_norm_architecture, solver="lbfgs", max_iter=2
    ),
    "semi-supervised, weighted": StackedAutoencoderClassifier(
        (8,), pretrain_max_iter=0, reconstruction_weight=1, solver="lbfgs", max_iter=2, alpha=0
    ),
}


@pytest.mark.parametrize("name", list(_BATCH_TERMS))
def test_lbfgs_objective_with_batch_terms_does_not_depend_on_batch_size(name):
    # L-BFGS sums its objective over chunks of batch_size rows; a term
    # computed over a batch (the KL sparsity term, batch statistics, the
    # semi-supervised terms, each a mean over its own rows) made the
    # "full-batch" objective depend on batch_size, and weights in the
    # semi-supervised terms were re-weighted by the labelled rows' weights.
    digits = load_digits()
    X, y = digits.data[:120] / 16, digits.target[:120].copy()
    weights = None
    if name.startswith("semi"):
        y[::3] = -1
        weights = np.where(np.arange(120) % 7 == 0, 1000.0, 1.0)
    fits = [
        clone(_BATCH_TERMS[name])
        .set_params(batch_size=size, random_state=0)
        .fit(X, y, sample_weight=weights)
        for size in (40, 500)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    for p, q in zip(fits[0].module_.parameters(), fits[1].module_.parameters(), strict=True):
        assert torch.equal(p, q)
