import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderTransformer, DenoisingAutoencoder


def test_denoises_better_than_pca_and_plain_autoencoder(digits_unit_split):
    X_train, X_test, _, _ = digits_unit_split
    noisy = X_test * (np.random.RandomState(0).rand(*X_test.shape) >= 0.3)
    settings = dict(
        n_components=16,
        hidden_layer_sizes=(64,),
        output_activation="sigmoid",
        loss="bce",
        learning_rate_init=0.003,
        max_iter=30,
        random_state=0,
    )
    dae = DenoisingAutoencoder(noise="masking", noise_level=0.3, **settings).fit(X_train)
    ae = AutoencoderTransformer(**settings).fit(X_train)
    pca = PCA(16).fit(X_train)

    def error(reconstruction):
        return np.mean((reconstruction - X_test) ** 2)

    dae_error = error(dae.denoise(noisy))
    assert dae_error < error(ae.inverse_transform(ae.transform(noisy)))
    assert dae_error < error(pca.inverse_transform(pca.transform(noisy)))
    # denoise is the documented inverse_transform(transform(X)).
    np.testing.assert_allclose(
        dae.denoise(noisy), dae.inverse_transform(dae.transform(noisy)), atol=1e-6
    )


@pytest.mark.parametrize("noise", ["masking", "gaussian", "salt_and_pepper"])
def test_corruption(noise):
    dae = DenoisingAutoencoder(noise=noise, noise_level=0.3)
    X = torch.full((2000, 50), 0.5)
    corrupted = dae._corrupt(X, torch.Generator().manual_seed(0))
    changed = (corrupted != X).float().mean().item()
    if noise == "gaussian":
        assert changed == 1.0
        assert abs((corrupted - X).std().item() - 0.3) < 0.01
    else:
        assert abs(changed - 0.3) < 0.01
    if noise == "masking":
        assert set(corrupted.unique().tolist()) == {0.0, 0.5}
    if noise == "salt_and_pepper":
        assert set(corrupted.unique().tolist()) == {0.0, 0.5, 1.0}
        assert abs((corrupted == 1).float().mean().item() - 0.15) < 0.01
    # Same generator state, same corruption; the clean batch is not modified.
    again = dae._corrupt(X, torch.Generator().manual_seed(0))
    assert torch.equal(corrupted, again)
    assert torch.all(X == 0.5)


def test_no_noise_is_identity():
    X = torch.rand(5, 3)
    assert DenoisingAutoencoder(noise_level=0.0)._corrupt(X, torch.Generator()) is X


def test_reproducible_and_transform_uses_clean_input(digits_unit_split):
    X_train, _, _, _ = digits_unit_split
    params = dict(n_components=4, hidden_layer_sizes=(8,), max_iter=3, random_state=1)
    a = DenoisingAutoencoder(**params).fit(X_train)
    b = DenoisingAutoencoder(**params).fit(X_train)
    np.testing.assert_array_equal(a.transform(X_train), b.transform(X_train))
    # Inference is deterministic: no corruption outside training.
    np.testing.assert_array_equal(a.transform(X_train), a.transform(X_train))
    c = DenoisingAutoencoder(**dict(params, random_state=2)).fit(X_train)
    assert not np.array_equal(a.transform(X_train), c.transform(X_train))


def test_overcomplete_allowed_with_noise():
    X = np.random.RandomState(0).rand(30, 4)
    DenoisingAutoencoder(n_components=8, hidden_layer_sizes=(), max_iter=2).fit(X)
    with pytest.raises(ValueError, match="regularised"):
        DenoisingAutoencoder(n_components=8, noise_level=0.0, max_iter=2).fit(X)


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper", "gaussian"])
def test_noise_level_is_a_fraction_or_a_standard_deviation(noise):
    X = np.random.RandomState(0).rand(10, 4)
    with pytest.raises(InvalidParameterError, match="noise_level"):
        DenoisingAutoencoder(noise=noise, noise_level=-0.1).fit(X)
    for level in (1.0, 1.5):
        model = DenoisingAutoencoder(noise=noise, noise_level=level, max_iter=2, random_state=0)
        if noise == "gaussian":  # a standard deviation: std 1 on standardised data
            assert model.fit(X).n_iter_ == 2
        else:
            with pytest.raises(ValueError, match=f"noise_level={level} is the fraction"):
                model.fit(X)


@pytest.mark.parametrize("x_scale, noise_level", [(1.0, 1e25), (1e-25, 1.0)])
def test_divergence_from_huge_gaussian_noise_names_noise_level_first(x_scale, noise_level):
    # The noise is in X's units, and the net scales its input by X's spread:
    # noise 1e25 times X's values makes inputs whose squared error
    # overflows, and the message must not blame X or the rate.
    X = np.random.RandomState(0).rand(30, 4) * x_scale
    model = DenoisingAutoencoder(
        noise="gaussian", noise_level=noise_level, max_iter=2, random_state=0
    )
    with pytest.raises(FloatingPointError, match="Training diverged") as error:
        model.fit(X)
    first_cause = str(error.value).split("most likely first:\n- ", 1)[1]
    assert first_cause.startswith(f"noise_level={noise_level!r} is the standard"), error.value


def test_salt_and_pepper_needs_data_in_the_unit_interval():
    # Its 0s and 1s are the extremes of data in [0, 1]; written into 0-255
    # pixels they were near-black noise, fitted without a word.
    X = np.random.RandomState(0).rand(30, 4)
    fitted = DenoisingAutoencoder(noise="salt_and_pepper", max_iter=2, random_state=0).fit(X)
    before = fitted.transform(X)
    for bad in (X * 255, X - 0.5):
        with pytest.raises(ValueError, match=r"noise='salt_and_pepper' sets inputs to 0 or 1"):
            fitted.partial_fit(bad)
    np.testing.assert_array_equal(fitted.transform(X), before)
    # Masking and Gaussian noise take data of any range, as does no noise.
    for noise, level in (("masking", 0.3), ("gaussian", 0.3), ("salt_and_pepper", 0.0)):
        DenoisingAutoencoder(noise=noise, noise_level=level, max_iter=2).fit(X * 255)


def test_bad_noise_name():
    with pytest.raises(InvalidParameterError, match="noise"):
        DenoisingAutoencoder(noise="speckle").fit(np.ones((5, 3)))


def test_conv_denoising_with_max_unpooling(digits_unit_split):
    X_train, X_test, _, _ = digits_unit_split
    dae = DenoisingAutoencoder(
        n_components=8,
        architecture="conv",
        image_shape=(8, 8),
        conv_channels=(4,),
        hidden_layer_sizes=(),
        unpooling="max",
        max_iter=2,
        random_state=0,
    ).fit(X_train[:200])
    assert dae.denoise(X_test[:5]).shape == (5, 64)


def test_lbfgs_evaluates_each_step_on_one_draw_of_noise(digits_unit_split, monkeypatch):
    # Its line search compares losses: a new draw at every evaluation would
    # compare different objectives (the loss then barely fell). Each epoch
    # (one L-BFGS step) draws once; the next epoch draws anew.
    X = digits_unit_split[0][:100]
    draws, original = [], DenoisingAutoencoder._corrupt

    def recording(self, X_batch, generator):
        corrupted = original(self, X_batch, generator)
        draws.append(corrupted.clone())
        return corrupted

    monkeypatch.setattr(DenoisingAutoencoder, "_corrupt", recording)
    dae = DenoisingAutoencoder(
        4, solver="lbfgs", batch_size=100, max_iter=2, tol=0, random_state=0
    ).fit(X)
    distinct = []
    for draw in draws:
        if not any(torch.equal(draw, seen) for seen in distinct):
            distinct.append(draw)
    assert len(draws) > 2 * 2 and len(distinct) == dae.n_iter_ == 2
    assert dae.loss_curve_[1] < 0.9 * dae.loss_curve_[0]
