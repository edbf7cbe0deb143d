"""User architectures (a callable ``architecture``): built for real, seeded by random_state."""

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from skae import AutoencoderTransformer, VariationalAutoencoder


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
