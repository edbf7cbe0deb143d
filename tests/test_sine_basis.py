"""The decoder of a 2-unit autoencoder recovers the basis {sin x, sin 2x}."""

import numpy as np
from scipy.linalg import subspace_angles

from skae import AutoencoderTransformer
from skae.datasets import make_sine_mixtures, sine_basis


def decoder_basis_angles(n_samples=500, random_state=0):
    """Principal angles (degrees) between the decoder's span and the true basis."""
    X, _ = make_sine_mixtures(n_samples, n_points=30, random_state=random_state)
    # 2 code units and a linear decoder: reconstructions lie in the span of
    # the decoder's weight columns, so a perfect fit forces that span to be
    # span{sin x, sin 2x}.
    ae = AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(),
        activation="identity",
        solver="lbfgs",
        max_iter=50,
        random_state=random_state,
    ).fit(X)
    decoder_columns = ae.module_.decoder[0].weight.detach().numpy()  # (30, 2)
    return np.degrees(subspace_angles(decoder_columns, sine_basis(30).T))


def test_decoder_spans_the_sine_basis():
    angles = decoder_basis_angles()
    assert angles.shape == (2,)
    assert np.all(angles < 1.0), angles
