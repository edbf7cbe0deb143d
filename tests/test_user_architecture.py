"""User architectures (a callable ``architecture``): built for real, seeded by random_state."""

import multiprocessing
import os
import pickle
import threading

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from torch import nn

from skae import AutoencoderTransformer, VariationalAutoencoder
from skae._nets import _user_modules


class _ScaledCode(nn.Module):
    """A bare Parameter with no reset_parameters: the user's own init in __init__."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_components, n_features) * 0.1)

    def forward(self, x):
        return x @ self.weight.t()


def bare_parameter_architecture(n_features, n_components):
    return _ScaledCode(n_features, n_components), nn.Linear(n_components, n_features)


class _Conv1dEncoder(nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.conv = nn.Conv1d(1, 2, kernel_size=3, padding=1)
        self.embedding = nn.Embedding(4, n_features)  # drawn from torch's global RNG
        self.head = nn.Linear(2 * n_features, n_components)

    def forward(self, x):
        x = x + self.embedding.weight[0]
        return self.head(self.conv(x[:, None, :]).flatten(1))


def global_rng_architecture(n_features, n_components):
    return _Conv1dEncoder(n_features, n_components), nn.Linear(n_components, n_features)


def _fit(architecture, random_state, cls=AutoencoderTransformer, max_iter=3):
    X = load_digits().data[:100] / 16
    model = cls(4, architecture=architecture, max_iter=max_iter, random_state=random_state)
    return model.fit(X), X


def test_user_modules_are_initialised_deterministically_from_random_state():
    for architecture in (bare_parameter_architecture, global_rng_architecture):
        state = torch.get_rng_state()
        first, X = _fit(architecture, 0)
        assert torch.equal(state, torch.get_rng_state())
        second, _ = _fit(architecture, 0)
        np.testing.assert_array_equal(first.transform(X), second.transform(X))
        other, _ = _fit(architecture, 1)
        assert not np.array_equal(first.transform(X), other.transform(X))
        assert all(torch.isfinite(p).all() for p in first.module_.parameters())


def test_the_users_own_initialisation_is_kept():
    # One epoch leaves the weights near their start, torch.randn * 0.1:
    # not garbage from uninitialised memory.
    ae, _ = _fit(bare_parameter_architecture, 0, max_iter=1)
    weight = ae.module_.encoder.weight.detach()
    assert 0.05 < weight.std().item() < 0.2
    # A second fit on the same seed does not diverge and repeats the first.
    again, X = _fit(bare_parameter_architecture, 0, max_iter=1)
    np.testing.assert_array_equal(ae.transform(X), again.transform(X))


def test_vae_head_on_a_user_encoder_is_seeded_too():
    first, X = _fit(global_rng_architecture, 0, cls=VariationalAutoencoder)
    second, _ = _fit(global_rng_architecture, 0, cls=VariationalAutoencoder)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))


def single_module_architecture(n_features, n_components):
    return nn.Linear(n_features, n_components)


def wrong_code_width_architecture(n_features, n_components):
    return nn.Linear(n_features, n_components + 1), nn.Linear(n_components, n_features)


def wrong_output_width_architecture(n_features, n_components):
    return nn.Linear(n_features, n_components), nn.Linear(n_components, n_features - 1)


def failing_decoder_architecture(n_features, n_components):
    return nn.Linear(n_features, n_components), nn.Linear(n_components + 3, n_features)


def float64_architecture(n_features, n_components):
    pair = nn.Linear(n_features, n_components), nn.Linear(n_components, n_features)
    return tuple(module.double() for module in pair)


def parameter_free_architecture(n_features, n_components):
    return nn.Identity(), nn.Identity()  # with n_components == n_features


class _DropoutBatchNormEncoder(nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 8),
            nn.BatchNorm1d(8),
            nn.Dropout(0.5),
            nn.Linear(8, n_components),
        )

    def forward(self, x):
        return self.layers(x)


def dropout_batch_norm_architecture(n_features, n_components):
    return _DropoutBatchNormEncoder(n_features, n_components), nn.Linear(n_components, n_features)


@pytest.mark.parametrize(
    "architecture, message",
    [
        (single_module_architecture, "must return an \\(encoder, decoder\\) pair.*Linear"),
        (
            wrong_code_width_architecture,
            "encoder must map \\(2, 64\\) to \\(2, 4\\).*gave \\(2, 5\\)",
        ),
        (
            wrong_output_width_architecture,
            "decoder must map \\(2, 4\\) to \\(2, 64\\).*\\(2, 63\\)",
        ),
        (failing_decoder_architecture, "decoder must map .* it raised RuntimeError: mat1"),
        (float64_architecture, "returned modules with torch.float64 parameters.*float32"),
        (parameter_free_architecture, "without parameters: there is nothing to train"),
    ],
)
def test_a_wrong_user_architecture_is_refused_by_name(architecture, message):
    model, X = _fit(bare_parameter_architecture, 0)
    before = model.transform(X)
    model.set_params(architecture=architecture)
    with pytest.raises(ValueError, match="architecture=<function .*" + message):
        model.fit(X)
    np.testing.assert_array_equal(model.transform(X), before)


class _ClampedEncoder(nn.Module):
    """A linear encoder clamped below at 0, its open upper bound a buffer of +inf."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.linear = nn.Linear(n_features, n_components)
        self.register_buffer("low", torch.tensor(0.0))
        self.register_buffer("high", torch.tensor(float("inf")))

    def forward(self, x):
        return torch.clamp(self.linear(x), self.low, self.high)


def clamped_architecture(n_features, n_components):
    return _ClampedEncoder(n_features, n_components), nn.Linear(n_components, n_features)


def test_an_infinite_buffer_is_no_divergence():
    # Training checks that its weights stayed finite: the parameters, not a
    # buffer that is infinite by design.
    model, X = _fit(clamped_architecture, 0)
    assert model.n_iter_ == 3 and np.isfinite(model.transform(X)).all()


class _InterruptedOnBrokenWeights(nn.Module):
    """A linear encoder that stops training (a user's Ctrl-C) once its weights break."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.linear = nn.Linear(n_features, n_components)

    def forward(self, x):
        if self.training and not torch.isfinite(self.linear.weight).all():
            raise KeyboardInterrupt
        return self.linear(x)


def interrupted_architecture(n_features, n_components):
    encoder = _InterruptedOnBrokenWeights(n_features, n_components)
    return encoder, nn.Linear(n_components, n_features)


def test_an_interrupt_keeps_no_epoch_whose_last_step_broke_the_weights():
    # One batch per epoch at a huge rate: epoch 1's loss is finite, its step
    # is not, and Ctrl-C comes in epoch 2. The interrupt goes on (a search
    # around fit stops), but the broken epoch is not kept.
    X = load_digits().data[:150] / 16
    model = AutoencoderTransformer(
        4, architecture=interrupted_architecture, learning_rate_init=3e38, max_iter=5,
        random_state=0,
    )  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    assert not hasattr(model, "module_")


def test_code_activation_follows_the_users_encoder():
    model, X = _fit(bare_parameter_architecture, 0)
    logistic = AutoencoderTransformer(
        4, architecture=bare_parameter_architecture, code_activation="logistic",
        max_iter=3, random_state=0,
    ).fit(X)  # fmt: skip
    codes = logistic.transform(X)
    assert codes.min() > 0 and codes.max() < 1
    assert not np.array_equal(codes, model.transform(X))
    sparse = AutoencoderTransformer(
        4, architecture=bare_parameter_architecture, code_activation="logistic",
        sparsity_target=0.05, max_iter=3, random_state=0,
    ).fit(X)  # fmt: skip
    assert 0 < sparse.transform(X).min() and sparse.transform(X).max() < 1


def test_the_shape_check_leaves_modes_statistics_and_random_state_alone():
    # The check runs in eval mode: no dropout draw from the global RNG, no
    # update of BatchNorm's running statistics, and train mode restored.
    encoder, decoder = dropout_batch_norm_architecture(64, 4)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _user_modules(lambda n_features, n_components: (encoder, decoder), 64, 4)
    assert torch.equal(torch.rand(3), expected)
    norm = encoder.layers[1]
    assert encoder.training and norm.training and norm.num_batches_tracked == 0
    assert torch.equal(norm.running_mean, torch.zeros(8))


def test_user_dropout_trains_reproducibly_and_leaves_the_global_state_alone():
    # nn.Dropout draws from torch's global generator: inside a fit, from a
    # fork seeded by random_state.
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model, X = _fit(dropout_batch_norm_architecture, 0)
    assert torch.equal(torch.rand(3), expected)
    again, _ = _fit(dropout_batch_norm_architecture, 0)
    np.testing.assert_array_equal(model.transform(X), again.transform(X))
    other, _ = _fit(dropout_batch_norm_architecture, 1)
    assert not np.array_equal(model.transform(X), other.transform(X))
    # A continued fit draws new masks, reproducibly too.
    model.set_params(warm_start=True).fit(X)
    again.set_params(warm_start=True).fit(X)
    np.testing.assert_array_equal(model.transform(X), again.transform(X))


def test_user_dropout_in_threads_trains_as_one_at_a_time():
    # torch's global generator is one per process: searches on joblib's
    # threading backend drew each other's dropout masks (and restored each
    # other's forks), so the scores changed from run to run.
    X = load_digits().data[:200] / 16
    model = AutoencoderTransformer(
        3, architecture=dropout_batch_norm_architecture, max_iter=3, batch_size=20, random_state=0
    )
    grid = {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]}
    expected = GridSearchCV(model, grid, cv=2).fit(X).cv_results_["mean_test_score"]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    for _ in range(2):
        with joblib.parallel_config("threading", n_jobs=2):
            scores = GridSearchCV(model, grid, cv=2).fit(X).cv_results_["mean_test_score"]
        np.testing.assert_array_equal(scores, expected)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_float64_default_dtype_is_named_for_a_users_modules():
    # The user's modules are built under the caller's default dtype: fitting
    # or loading them after torch.set_default_dtype(torch.float64) is
    # refused by name (not a raw dtype error in the first matrix product).
    fitted, X = _fit(bare_parameter_architecture, 0)
    pickled = pickle.dumps(fitted)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        refit = lambda: _fit(bare_parameter_architecture, 0)  # noqa: E731
        for action in (refit, lambda: pickle.loads(pickled)):
            with pytest.raises(ValueError, match=r"set_default_dtype\(torch.float64\) builds"):
                action()
    finally:
        torch.set_default_dtype(before)
    np.testing.assert_array_equal(pickle.loads(pickled).transform(X), fitted.transform(X))


def _fit_in_child(queue):
    model, _ = _fit(dropout_batch_norm_architecture, 0, max_iter=1)
    queue.put(model.n_iter_)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_process_forked_while_a_thread_forks_the_generators_can_fit():
    # Fits of user modules hold a process-wide lock while they fork torch's
    # global generators; a child forked meanwhile inherited it held, and
    # its own such fit waited forever.
    from skae import _layers

    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with _layers._GLOBAL_GENERATORS_LOCK:
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        held.wait(10)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_fit_in_child, args=(queue,))
        child.start()
        child.join(60)
        alive = child.is_alive()
        if alive:
            child.kill()
        assert not alive and queue.get(timeout=5) == 1
    finally:
        release.set()
        holder.join()
