"""Penalised training sets weights that have vanished to 0, with their moments.

An L2 penalty shrinks the weights of a constant input (digits' blank
border pixels) geometrically under Adam, with their gradients and
moments, into the denormal floats, which the CPU computes many times
slower.
"""

import numpy as np
import torch

from skae import AutoencoderTransformer
from skae._training import VANISHED, _zero_vanished


def _n_tiny(values):
    """How many entries are nonzero but below VANISHED in magnitude."""
    return sum(int(((v != 0) & (np.abs(v) < VANISHED)).sum()) for v in values)


def test_vanished_weights_and_their_moments_are_zeroed():
    weight = torch.nn.Parameter(torch.tensor([[1e-40, -1e-32, 1e-29], [0.5, -2.0, 0.0]]))
    optimizer = torch.optim.Adam([weight])
    weight.grad = torch.full_like(weight, 1e-3)
    optimizer.step()
    moments = {name: optimizer.state[weight][name].clone() for name in ("exp_avg", "exp_avg_sq")}
    weight.data = torch.tensor([[1e-40, -1e-32, 1e-29], [0.5, -2.0, 0.0]])
    _zero_vanished([weight], optimizer)
    kept = torch.tensor([[False, False, True], [True, True, False]])  # 0 has vanished too
    assert torch.equal(weight.data, torch.where(kept, weight.data, 0.0))
    assert weight.data[0, 2] == torch.tensor(1e-29) and weight.data[1, 1] == -2.0
    for name, before in moments.items():
        assert torch.equal(optimizer.state[weight][name], torch.where(kept, before, 0.0))
    assert optimizer.state[weight]["step"] == 1  # per-tensor state is left alone


def test_penalised_training_leaves_no_vanishing_weights_or_moments(digits_unit):
    # Column 0 of digits is always blank: its first-layer weights feel only
    # the L2 penalty (alpha=1e-4 by default). Without the zeroing, this fit
    # leaves dozens of them, and of their moments, near or below 1e-38.
    assert np.all(digits_unit[:, 0] == 0)
    ae = AutoencoderTransformer(4, max_iter=100, tol=0, batch_size=64, random_state=0)
    ae.fit(digits_unit)
    weights = [p.detach().numpy() for p in ae.module_.parameters() if p.ndim > 1]
    assert _n_tiny(weights) == 0
    _, state = ae._optimizer_state
    moments = [s[k] for s in state["state"].values() for k in ("exp_avg", "exp_avg_sq")]
    assert _n_tiny([np.asarray(m) for m in moments]) == 0


class _FrozenFirstLayer(torch.nn.Module):
    """A linear encoder whose weight the user froze, some of it below 1e-30."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.full((n_components, n_features), 1e-35))
        self.weight.requires_grad_(False)
        with torch.no_grad():
            self.weight[:, 1:] = 0.1

    def forward(self, x):
        return x @ self.weight.t()


def test_frozen_weights_are_neither_penalised_nor_zeroed(digits_unit):
    def architecture(n_features, n_components):
        decoder = torch.nn.Linear(n_components, n_features)
        return _FrozenFirstLayer(n_features, n_components), decoder

    ae = AutoencoderTransformer(2, architecture=architecture, max_iter=3, alpha=1.0)
    frozen = ae.fit(digits_unit[:200]).module_.encoder.weight
    assert frozen.grad is None
    assert torch.all(frozen[:, 0] == 1e-35) and torch.all(frozen[:, 1:] == 0.1)
