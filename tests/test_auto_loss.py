"""loss="auto": the squared error for linear nets, Huber (batches of 64) for the rest."""

import numpy as np
import pytest
import torch

import skae
from skae import AutoencoderTransformer, DenoisingAutoencoder

_SHORT = dict(max_iter=3, tol=0, random_state=0)


def _same_fit(a, b, X):
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize(
    "net",
    [
        dict(),
        dict(activation="tanh", output_activation="sigmoid"),
        dict(hidden_layer_sizes=(), code_activation="tanh"),
        dict(activation="identity", output_activation="sigmoid"),
        dict(architecture="conv", image_shape=(8, 8), conv_channels=(4,)),
    ],
)
def test_a_nonlinear_net_trains_as_huber_in_batches_of_64(net, digits_unit):
    X = digits_unit[:300]
    auto = AutoencoderTransformer(3, **net, **_SHORT).fit(X)
    huber = AutoencoderTransformer(
        3, loss="huber", huber_delta=0.15, batch_size=64, **net, **_SHORT
    )
    _same_fit(auto, huber.fit(X), X)
    assert auto.get_params()["loss"] == "auto"


@pytest.mark.parametrize(
    "net",
    [
        dict(activation="identity"),
        dict(hidden_layer_sizes=()),
        dict(hidden_layer_sizes=(4, 4), activation="identity"),
    ],
)
def test_a_linear_net_trains_as_mse_in_batches_of_200(net, digits_unit):
    # hidden_layer_sizes=() leaves the default "relu" unused: the net is linear.
    X = digits_unit[:300]
    auto = AutoencoderTransformer(3, **net, **_SHORT).fit(X)
    _same_fit(
        auto, AutoencoderTransformer(3, loss="mse", batch_size=200, **net, **_SHORT).fit(X), X
    )


def test_a_users_modules_keep_the_squared_error(digits_unit):
    X = digits_unit[:300]

    def architecture(n_features, n_components):
        encoder = torch.nn.Sequential(
            torch.nn.Linear(n_features, 8), torch.nn.Tanh(), torch.nn.Linear(8, n_components)
        )
        decoder = torch.nn.Sequential(
            torch.nn.Linear(n_components, 8), torch.nn.Tanh(), torch.nn.Linear(8, n_features)
        )
        return encoder, decoder

    auto = AutoencoderTransformer(3, architecture=architecture, **_SHORT).fit(X)
    mse = AutoencoderTransformer(
        3, architecture=architecture, loss="mse", batch_size=200, **_SHORT
    )
    _same_fit(auto, mse.fit(X), X)


def test_an_explicit_huber_loss_also_trains_in_batches_of_64(digits_unit):
    X = digits_unit[:300]
    net = dict(activation="identity", loss="huber", **_SHORT)
    _same_fit(
        AutoencoderTransformer(3, **net).fit(X),
        AutoencoderTransformer(3, batch_size=64, **net).fit(X),
        X,
    )


def test_the_denoising_autoencoder_keeps_the_squared_error(digits_unit):
    X = digits_unit[:300]
    dae = DenoisingAutoencoder(3, **_SHORT).fit(X)
    assert dae.get_params()["loss"] == "mse"
    _same_fit(dae, DenoisingAutoencoder(3, loss="mse", batch_size=200, **_SHORT).fit(X), X)
    auto = DenoisingAutoencoder(3, loss="auto", **_SHORT).fit(
        X
    )  # "auto" means what it means above
    _same_fit(auto, DenoisingAutoencoder(3, loss="huber", batch_size=64, **_SHORT).fit(X), X)


def test_a_saved_default_model_goes_on_training_as_huber(digits_unit, tmp_path):
    X = digits_unit[:300]
    model = AutoencoderTransformer(3, **_SHORT).fit(X)
    skae.save(model, tmp_path / "model.skops")
    loaded = skae.load(tmp_path / "model.skops")
    model.partial_fit(X)
    loaded.partial_fit(X)
    np.testing.assert_array_equal(model.loss_curve_, loaded.loss_curve_)
    reference = AutoencoderTransformer(3, loss="huber", **_SHORT).fit(X).partial_fit(X)
    np.testing.assert_array_equal(model.loss_curve_, reference.loss_curve_)


@pytest.mark.parametrize("change", [dict(loss="mse"), dict(huber_delta=1.0), dict(alpha=0.5)])
def test_a_partial_fit_on_another_objective_restarts_the_stopping_rule(change, digits_unit):
    # The squared error is about five times the Huber error here: measured
    # from the last Huber loss, every epoch would count as a stall.
    X = digits_unit[:400]
    model = AutoencoderTransformer(random_state=0, learning_rate="adaptive", n_iter_no_change=2)
    for _ in range(4):
        model.partial_fit(X)
    model.set_params(**change)
    for _ in range(4):
        model.partial_fit(X)
    assert model._optimizer_state[1]["param_groups"][0]["lr"] == model.learning_rate_init
    assert model._history.objective == model._training_objective()


def test_an_unchanged_objective_keeps_the_stopping_rule(digits_unit):
    X = digits_unit[:400]
    model = AutoencoderTransformer(random_state=0, learning_rate="adaptive", n_iter_no_change=2)
    model.partial_fit(X)
    reference = model._history.improvement_reference
    model.set_params(verbose=False, random_state=1)  # no part of the loss
    model.partial_fit(X)
    assert model._history.improvement_reference >= reference > -np.inf
