"""loss="huber": squared up to huber_delta (in units of scale_), linear beyond."""

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderTransformer, DenoisingAutoencoder, VariationalAutoencoder
from skae._penalties import scaled_huber_error

# One batch size for every loss: "auto" would give the Huber error 64 rows, the squared 200.
_SHORT = dict(hidden_layer_sizes=(16,), max_iter=5, tol=0, random_state=0, batch_size=64)


def test_the_error_is_squared_up_to_delta_and_linear_beyond():
    residuals = torch.tensor([[0.0, 0.5, -1.0, 2.0, -4.0]])
    scale, delta = torch.tensor(2.0), 0.5  # scaled: 0, 0.25, -0.5, 1, -2
    expected = np.mean([0.0, 0.0625, 0.25, 2 * 0.5 * 1 - 0.25, 2 * 0.5 * 2 - 0.25])
    got = scaled_huber_error(residuals, torch.zeros_like(residuals), scale, delta)
    np.testing.assert_allclose(got.numpy(), [expected], rtol=1e-6)
    # Continuous, with a continuous slope, at delta.
    r = torch.tensor([[delta - 1e-4], [delta + 1e-4]], dtype=torch.float64, requires_grad=True)
    values = scaled_huber_error(r, torch.zeros_like(r), None, delta)
    values.sum().backward()
    np.testing.assert_allclose(values.detach().numpy(), [delta**2] * 2, atol=2e-4)
    np.testing.assert_allclose(r.grad.numpy().ravel(), [2 * delta] * 2, atol=3e-4)


def test_a_delta_beyond_every_residual_fits_as_mse(digits_unit):
    X = digits_unit[:200]
    mse = AutoencoderTransformer(3, loss="mse", **_SHORT).fit(X)
    huber = AutoencoderTransformer(3, loss="huber", huber_delta=1e3, **_SHORT).fit(X)
    np.testing.assert_allclose(huber.loss_curve_, mse.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(huber.transform(X), mse.transform(X), rtol=1e-4, atol=1e-5)


def _with_gross_outliers(X, seed=0):
    """4% of the rows of ``X`` with a few pixels at 40x the data's range."""
    rng = np.random.RandomState(seed)
    X = X.copy()
    for row in rng.choice(len(X), len(X) // 25, replace=False):
        X[row, rng.choice(X.shape[1], 4, replace=False)] = 40.0
    return X


@pytest.mark.parametrize("early_stopping", [False, True])
def test_gross_outliers_pull_the_huber_fit_less(digits_unit, early_stopping):
    # The squared errors of the outlier rows dominate an MSE fit; with early
    # stopping they would also pick the epoch, had the validation score
    # been the squared error (it is the Huber error).
    X_train, X_test = _with_gross_outliers(digits_unit[:600]), digits_unit[600:900]
    settings = dict(hidden_layer_sizes=(32,), random_state=0, early_stopping=early_stopping)
    settings["max_iter"] = 150 if early_stopping else 60
    errors = {
        loss: -AutoencoderTransformer(4, loss=loss, **settings).fit(X_train).score(X_test)
        for loss in ("mse", "huber")
    }
    assert errors["huber"] < 0.8 * errors["mse"], errors


def test_delta_is_in_units_of_the_data(digits_unit):
    X = digits_unit[:200]
    small = AutoencoderTransformer(3, loss="huber", **_SHORT).fit(X)
    large = AutoencoderTransformer(3, loss="huber", **_SHORT).fit(X * 1e3)
    np.testing.assert_allclose(large.loss_curve_, small.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(large.transform(X * 1e3), small.transform(X), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("estimator", [AutoencoderTransformer, DenoisingAutoencoder])
@pytest.mark.parametrize("delta", [0, -1.0, np.inf, "0.3"])
def test_a_bad_delta_is_refused_by_name(estimator, delta, digits_unit):
    with pytest.raises(InvalidParameterError, match="huber_delta"):
        estimator(loss="huber", huber_delta=delta).fit(digits_unit[:20])


def test_the_variational_autoencoder_has_no_huber_likelihood(digits_unit):
    with pytest.raises(InvalidParameterError, match="'loss' parameter of VariationalAuto"):
        VariationalAutoencoder(loss="huber").fit(digits_unit[:20])


def test_a_delta_near_float32s_limit_still_fits_as_mse(digits_unit):
    X = digits_unit[:200]
    mse = AutoencoderTransformer(3, loss="mse", **_SHORT).fit(X)
    huber = AutoencoderTransformer(3, loss="huber", huber_delta=3e38, **_SHORT).fit(X)
    np.testing.assert_allclose(huber.loss_curve_, mse.loss_curve_, rtol=1e-5)


def test_the_first_pretrained_layer_learns_the_huber_error(digits_unit):
    X = _with_gross_outliers(digits_unit[:200])
    curves = {
        delta: AutoencoderTransformer(
            3, loss="huber", huber_delta=delta, pretrain_max_iter=2, **_SHORT
        )
        .fit(X)
        .pretrain_loss_curves_  # fmt: skip
        for delta in (0.3, 1e3)
    }
    mse = AutoencoderTransformer(3, loss="mse", pretrain_max_iter=2, **_SHORT)
    mse = mse.fit(X).pretrain_loss_curves_
    np.testing.assert_allclose(curves[1e3][0], mse[0], rtol=1e-5)
    assert curves[0.3][0][0] < 0.5 * mse[0][0]  # the outliers count linearly


def test_huber_pretrains_denoises_and_scores_in_squared_error(digits_unit):
    X = digits_unit[:200]
    model = DenoisingAutoencoder(3, loss="huber", pretrain_max_iter=2, **_SHORT).fit(X)
    assert len(model.pretrain_loss_curves_) == 2  # the hidden layer, the code
    reconstruction = model.inverse_transform(model.transform(X))
    assert model.score(X) == pytest.approx(-np.mean((reconstruction - X) ** 2), rel=1e-5)
