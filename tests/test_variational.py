import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.utils._param_validation import InvalidParameterError

from skae import VariationalAutoencoder


@pytest.fixture(scope="module")
def digits():
    return load_digits().data[:500] / 16


@pytest.fixture(scope="module")
def bernoulli_vae(digits):
    return VariationalAutoencoder(
        n_components=4,
        hidden_layer_sizes=(32,),
        loss="bce",
        output_activation="sigmoid",
        learning_rate_init=0.003,
        max_iter=30,
        random_state=0,
    ).fit(digits)


def test_api_shapes(bernoulli_vae, digits):
    vae = bernoulli_vae
    assert vae.transform(digits).shape == (500, 4)
    assert vae.inverse_transform(vae.transform(digits)).shape == (500, 64)
    samples = vae.sample(7, random_state=0)
    assert samples.shape == (7, 64)  # the training shape
    assert samples.dtype == np.float64
    assert np.all((samples >= 0) & (samples <= 1))  # Bernoulli means
    np.testing.assert_array_equal(samples, vae.sample(7, random_state=0))
    assert not np.array_equal(samples, vae.sample(7, random_state=1))


def test_training_raises_the_elbo(bernoulli_vae, digits):
    untrained = VariationalAutoencoder(
        n_components=4,
        hidden_layer_sizes=(32,),
        loss="bce",
        output_activation="sigmoid",
        max_iter=1,
        random_state=0,
    ).fit(digits)
    # Centring starts the decoder at the mean image, so one epoch is already
    # decent; training still gains nats on top of it.
    assert bernoulli_vae.score(digits) > untrained.score(digits) + 1
    # The training loss is the negative ELBO per sample (single draw).
    assert abs(-bernoulli_vae.loss_curve_[-1] - bernoulli_vae.score(digits)) < 3


def test_elbo_is_a_lower_bound_on_a_known_likelihood():
    # For Bernoulli data with p(x|z) independent of z the ELBO's best value
    # is log p(x); any model scores below the empirical entropy bound.
    rng = np.random.RandomState(0)
    X = (rng.rand(300, 5) < 0.3).astype(float)
    vae = VariationalAutoencoder(
        n_components=2,
        hidden_layer_sizes=(8,),
        loss="bce",
        output_activation="sigmoid",
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X)
    p = X.mean(axis=0)
    best_log_lik = np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=1).mean()
    assert vae.score(X) <= best_log_lik + 0.05
    assert vae.score(X) > best_log_lik - 0.5


def test_score_samples_deterministic_and_per_sample(bernoulli_vae, digits):
    scores = bernoulli_vae.score_samples(digits)
    np.testing.assert_array_equal(scores, bernoulli_vae.score_samples(digits))
    np.testing.assert_allclose(bernoulli_vae.score_samples(digits[10:20]), scores[10:20])
    np.testing.assert_allclose(bernoulli_vae.score_samples(digits[::-1]), scores[::-1])
    assert np.all(scores < 0)


def test_gaussian_decoder_and_pickle(digits):
    vae = VariationalAutoencoder(
        n_components=3, hidden_layer_sizes=(16,), max_iter=10, random_state=0
    ).fit(digits)
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(vae.score_samples(digits), restored.score_samples(digits))
    np.testing.assert_array_equal(vae.transform(digits), restored.transform(digits))


@pytest.mark.parametrize("factor", [1e3, 1e20])
def test_the_gaussian_vae_does_not_depend_on_the_units_of_x(digits, factor):
    # The decoder's variance is learned in units of X / scale_: the same
    # fit, codes and epochs; the ELBO (a density of X) moves by -d log factor.
    params = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    plain = VariationalAutoencoder(**params).fit(digits)
    scaled = VariationalAutoencoder(**params).fit(digits * factor)
    assert scaled.n_iter_ == plain.n_iter_
    np.testing.assert_allclose(scaled.loss_curve_, plain.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(scaled.transform(digits * factor), plain.transform(digits),
                               atol=1e-4)  # fmt: skip
    shift = -digits.shape[1] * np.log(factor)
    np.testing.assert_allclose(
        scaled.score_samples(digits * factor), plain.score_samples(digits) + shift, rtol=1e-5
    )


@pytest.mark.parametrize("factor", [16.0, 1e-3])
def test_early_stopping_does_not_depend_on_the_units_of_x(digits, factor):
    # The validation score is the ELBO of X / scale_, as the loss: the ELBO
    # of X, shifted by -d log(scale_), made the relative tol stop earlier
    # or later with X's units.
    params = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=60, early_stopping=True,
                  n_iter_no_change=3, random_state=0)  # fmt: skip
    plain = VariationalAutoencoder(**params).fit(digits)
    scaled = VariationalAutoencoder(**params).fit(digits * factor)
    assert scaled.n_iter_ == plain.n_iter_
    np.testing.assert_allclose(scaled.validation_scores_, plain.validation_scores_, rtol=1e-5)


def test_reproducible(digits):
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=3, random_state=3)
    a = VariationalAutoencoder(**params).fit(digits)
    b = VariationalAutoencoder(**params).fit(digits)
    np.testing.assert_array_equal(a.transform(digits), b.transform(digits))
    assert a.loss_curve_ == b.loss_curve_


def test_conv_vae(digits):
    vae = VariationalAutoencoder(
        n_components=2,
        architecture="conv",
        image_shape=(1, 8, 8),
        conv_channels=(4,),
        hidden_layer_sizes=(),
        loss="bce",
        output_activation="sigmoid",
        max_iter=2,
        random_state=0,
    ).fit(digits)
    assert vae.sample(3, random_state=0).shape == (3, 64)


def test_conv_vae_rejects_max_unpooling(digits):
    vae = VariationalAutoencoder(
        architecture="conv", image_shape=(8, 8), conv_channels=(4,), unpooling="max"
    )
    with pytest.raises(ValueError, match="unpooling='nearest'"):
        vae.fit(digits)


def test_early_stopping_on_the_elbo(digits):
    vae = VariationalAutoencoder(
        n_components=2, hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, random_state=0
    ).fit(digits)
    assert len(vae.validation_scores_) == vae.n_iter_
    assert vae.best_validation_score_ == max(vae.validation_scores_)


def test_negative_beta():
    with pytest.raises(InvalidParameterError, match="beta"):
        VariationalAutoencoder(beta=-1.0).fit(np.ones((5, 3)))


def test_sample_needs_positive_count(bernoulli_vae):
    with pytest.raises(InvalidParameterError, match="n_samples"):
        bernoulli_vae.sample(0)


def test_sample_beyond_any_memory_is_a_memory_error_naming_the_count(bernoulli_vae):
    # 10**17 draws need exabytes, beyond any address space: nothing is
    # allocated, whatever the machine's overcommit setting.
    for n_samples in (10**17, 2**62, 10**30):  # beyond torch's sizes too
        with pytest.raises(MemoryError, match=f"sample cannot allocate n_samples={n_samples} "):
            bernoulli_vae.sample(n_samples)


def test_sample_uses_the_fitted_code_size(bernoulli_vae):
    vae = pickle.loads(pickle.dumps(bernoulli_vae))  # a copy to change
    drawn = vae.sample(5, random_state=0)
    vae.set_params(n_components=2)  # no refit: the fitted net keeps its 4
    np.testing.assert_array_equal(vae.sample(5, random_state=0), drawn)


def test_a_bernoulli_vae_scores_data_outside_the_unit_interval_clipped(digits_unit_split):
    # A Bernoulli log-likelihood of values outside [0, 1] is none (it could
    # exceed 0 and rank an outlier above every sample); held-out rows scaled
    # like the training rows may still fall just outside, so they are
    # clipped, with a warning, rather than refused.
    X = digits_unit_split[0][:100]
    vae = VariationalAutoencoder(
        2, loss="bce", output_activation="sigmoid", max_iter=2, random_state=0
    ).fit(X)
    outside = X * 16 - 1
    for method in (vae.score_samples, vae.score):
        with pytest.warns(UserWarning, match=r"values in \[-1, 15\]: they are clipped"):
            scores = method(outside)
        np.testing.assert_array_equal(scores, method(np.clip(outside, 0, 1)))
        assert np.all(scores <= 0)
