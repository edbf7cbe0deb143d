import numpy as np
import pytest
import torch
from torch import nn

from skae import AutoencoderTransformer
from skae._nets import MLPAutoencoder, build_autoencoder


def test_tied_decoder_uses_transposed_encoder_weights():
    module = MLPAutoencoder(6, (5,), 3, "tanh", "identity", tied_weights=True)
    for p in module.parameters():
        nn.init.normal_(p)
    w1, w2 = module.encoder[0].weight, module.encoder[2].weight
    b1, b2 = module.decoder.biases
    code = torch.randn(4, 3)
    expected = torch.tanh(code @ w2 + b1) @ w1 + b2
    torch.testing.assert_close(module.decode_logits(code), expected)
    untied = build_autoencoder(
        architecture="mlp",
        n_features=6,
        n_components=3,
        hidden_layer_sizes=(5,),
        activation="tanh",
        output_activation="identity",
    )
    n_untied = sum(p.numel() for p in untied.parameters())
    n_tied = sum(p.numel() for p in module.parameters())
    assert n_tied == n_untied - (6 * 5 + 5 * 3)  # the decoder's weights are shared


def test_tied_estimator_trains_and_shares_gradients(digits_unit):
    X = digits_unit[:200]
    ae = AutoencoderTransformer(
        n_components=8, hidden_layer_sizes=(16,), tied_weights=True, max_iter=20, random_state=0
    ).fit(X)
    before = AutoencoderTransformer(
        n_components=8, hidden_layer_sizes=(16,), tied_weights=True, max_iter=1, random_state=0
    ).fit(X)
    assert ae.score(X) > before.score(X)
    assert not any(isinstance(m, nn.Linear) for m in ae.module_.decoder.modules())


def test_tied_weights_need_mlp():
    X = np.random.RandomState(0).rand(10, 16)
    ae = AutoencoderTransformer(architecture="conv", image_shape=(4, 4), tied_weights=True)
    with pytest.raises(ValueError, match="tied_weights"):
        ae.fit(X)


def my_architecture(n_features, n_components):
    encoder = nn.Sequential(nn.Linear(n_features, 10), nn.Tanh(), nn.Linear(10, n_components))
    decoder = nn.Sequential(nn.Linear(n_components, 10), nn.Tanh(), nn.Linear(10, n_features))
    return encoder, decoder


def test_user_supplied_modules(digits_unit):
    X = digits_unit[:200]
    ae = AutoencoderTransformer(n_components=4, architecture=my_architecture, random_state=0)
    ae.set_params(max_iter=5).fit(X)
    assert ae.transform(X).shape == (200, 4)
    assert ae.module_.encoder[0].in_features == 64
    # Weights come from random_state, not from torch's global generator.
    again = AutoencoderTransformer(
        n_components=4, architecture=my_architecture, random_state=0, max_iter=5
    ).fit(X)
    np.testing.assert_array_equal(ae.transform(X), again.transform(X))
