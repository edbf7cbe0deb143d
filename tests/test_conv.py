import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skae import AutoencoderTransformer
from skae._layers import ConvDecoder, pooled_sizes
from skae._nets import ConvAutoencoder


def conv_ae(**params):
    settings = dict(
        n_components=8,
        architecture="conv",
        image_shape=(1, 8, 8),
        conv_channels=(4, 8),
        hidden_layer_sizes=(),
        max_iter=3,
        random_state=0,
    )
    return AutoencoderTransformer(**{**settings, **params})


@pytest.mark.parametrize("unpooling", ["nearest", "max"])
def test_fit_transform_inverse(digits_unit, unpooling):
    X = digits_unit[:300]
    ae = conv_ae(unpooling=unpooling).fit(X)
    codes = ae.transform(X)
    assert codes.shape == (300, 8)
    assert ae.inverse_transform(codes).shape == (300, 64)
    assert np.isfinite(ae.score(X))
    restored = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(restored.transform(X), codes)
    again = clone(ae).fit(X)
    np.testing.assert_array_equal(again.transform(X), codes)


def test_max_unpooling_puts_values_at_the_maxima():
    torch.manual_seed(0)  # test data only; skae never touches the global RNG
    x = torch.rand(2, 3, 6, 6)
    pooled, indices = torch.nn.functional.max_pool2d(x, 2, return_indices=True)
    decoder = ConvDecoder((3, 6, 6), (3,), (), 3 * 3 * 3, "identity", "max")
    with torch.no_grad():
        decoder.head[0].weight.copy_(torch.eye(27))
        decoder.head[0].bias.zero_()
        decoder.convs[0].weight.zero_()
        decoder.convs[0].weight[range(3), range(3), 1, 1] = 1.0  # identity conv
        decoder.convs[0].bias.zero_()
        out = decoder(pooled.flatten(1), [indices]).reshape(2, 3, 6, 6)
        corners = decoder(pooled.flatten(1)).reshape(2, 3, 6, 6)
    assert torch.equal(out, torch.where(out != 0, x, 0.0))
    assert torch.equal(out.amax(dim=(2, 3)), x.amax(dim=(2, 3)))
    # Without indices, values go to the top-left corner of each window.
    assert torch.equal(corners[:, :, ::2, ::2], pooled)
    torch.testing.assert_close(corners.sum(), pooled.sum())


@pytest.fixture
def deterministic_algorithms():
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(before)


@pytest.mark.parametrize("image_shape", [(1, 8, 8), (1, 7, 9)])
def test_max_unpooling_under_deterministic_algorithms(image_shape, deterministic_algorithms):
    # torch refuses F.max_unpool2d there (a raw RuntimeError in fit, score,
    # inverse_transform); the pooling windows don't overlap, so unpooling
    # is deterministic: it must run, and match max_unpool2d's values and
    # gradients bit for bit.
    height, width = image_shape[1:]
    X = np.random.RandomState(0).rand(40, height * width)
    ae = conv_ae(unpooling="max", image_shape=image_shape, conv_channels=(2,)).fit(X)
    assert np.isfinite(ae.score(X)) and ae.inverse_transform(ae.transform(X)).shape == X.shape
    x = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(0))
    pooled, indices = torch.nn.functional.max_pool2d(x, 2, return_indices=True)
    ours, torchs = pooled.clone().requires_grad_(), pooled.clone().requires_grad_()
    unpooled = ConvDecoder._unpool(ours, indices, (height, width))
    torch.use_deterministic_algorithms(False)
    expected = torch.nn.functional.max_unpool2d(torchs, indices, 2, output_size=(height, width))
    assert torch.equal(unpooled, expected)
    weights = torch.rand(expected.shape, generator=torch.Generator().manual_seed(1))
    (unpooled * weights).sum().backward()
    (expected * weights).sum().backward()
    assert torch.equal(ours.grad, torchs.grad)


def test_max_unpooling_of_an_empty_batch():
    # torch's max_unpool2d took zero rows; the scatter must too.
    pooled = torch.empty(0, 3, 4, 4)
    indices = torch.empty(0, 3, 4, 4, dtype=torch.long)
    assert ConvDecoder._unpool(pooled, indices, (8, 9)).shape == (0, 3, 8, 9)


def test_odd_image_sizes_round_trip():
    sizes, final = pooled_sizes(7, 5, 2)
    assert sizes == [(7, 5), (3, 2)] and final == (1, 1)
    module = ConvAutoencoder((2, 7, 5), (3, 4), (6,), 3, "relu", "identity", unpooling="max")
    x = torch.rand(4, 70)
    code, logits = module.encode_decode(x)
    assert code.shape == (4, 3) and logits.shape == (4, 70)
    assert module.decode(code).shape == (4, 70)


def test_multichannel_rows_are_channels_first():
    X = np.random.RandomState(0).rand(20, 2 * 4 * 4)
    conv_ae(image_shape=(2, 4, 4), conv_channels=(3,)).fit(X)


def test_image_shape_must_match_n_features(digits_unit):
    X = digits_unit[:300]
    with pytest.raises(ValueError, match="image_shape=\\(1, 7, 7\\) describes images of 49"):
        conv_ae(image_shape=(1, 7, 7)).fit(X)
    with pytest.raises(ValueError, match="needs image_shape"):
        conv_ae(image_shape=None).fit(X)
    with pytest.raises(ValueError, match="image_shape must be"):
        conv_ae(image_shape=(1, 2, 4, 8)).fit(X)
    with pytest.raises(ValueError, match="too small"):
        conv_ae(image_shape=(16, 2, 2)).fit(X)


def test_bad_input_leaves_fitted_estimator_unchanged(digits_unit):
    X = digits_unit[:300]
    ae = conv_ae().fit(X)
    codes = ae.transform(X)
    ae.set_params(image_shape=(4, 4))
    with pytest.raises(ValueError, match="image_shape"):
        ae.fit(X)
    np.testing.assert_array_equal(ae.transform(X), codes)


def test_conv_with_regularisers(digits_unit):
    X = digits_unit[:300]
    ae = conv_ae(
        code_activation="logistic", sparsity_target=0.1, contractive_weight=0.01, max_iter=1
    ).fit(X[:50])
    assert ae.transform(X[:5]).shape == (5, 8)
