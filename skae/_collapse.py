"""The check for a collapsed autoencoder: how much of its training data it explains.

A collapsed net (units saturated or dead, often from a large learning rate
or ``alpha``) reconstructs every row as about the same row, the mean, and
nothing else in a fit says so.
"""

import numpy as np
import torch

from ._blocks import column_extremes, weighted_huber_centre, weighted_moments

__all__ = ["collapse_threshold", "explained_fraction"]


def explained_fraction(estimator, X, weights, error, huber_bound=None):
    """``1 - e(model) / e(centre)``: the part of the centre's error that the model removes.

    ``e`` is the ``weights``-weighted mean over the rows of ``X`` of
    ``error(output, target, scale)``, the training loss's own per-row error
    (squared or Huber: outliers a Huber fit leaves alone do not count
    against it), for the fitted ``estimator``'s reconstructions and for the
    constant row with the least such error: the rows' own weighted mean
    (after a ``warm_start`` fit, ``mean_`` is an earlier fit's), or, for
    the Huber error turning linear at ``huber_bound`` (in X's units), their
    Huber centre, which a collapsed Huber fit outputs and which beats the
    mean. None for constant data, which leave nothing to explain.
    """
    lowest, highest = column_extremes(X)
    if huber_bound is None:
        centre = weighted_moments(X, weights, squares=False)[0]
    else:
        centre = weighted_huber_centre(X, weights, huber_bound, (lowest, highest))
    # A constant column's centre is its value, not a weighted sum a few
    # ulps away: constant data must leave the centre no error at all.
    centre = np.where(lowest == highest, lowest, centre)

    def both_errors(module, batch):  # (B, 2): the model's and the mean's, in float64
        model = -estimator._sample_scores(module, batch, error=error)
        mean = torch.as_tensor(centre, dtype=batch.dtype, device=batch.device)
        scale = module.data_scale
        of_mean = error(mean.expand_as(batch), batch, scale).cpu().double() * float(scale) ** 2
        return torch.stack([model, of_mean], dim=1)

    model_error, mean_error = weights @ estimator._infer(both_errors, X).astype(np.float64)
    return 1 - model_error / mean_error if mean_error > 0 else None


def collapse_threshold(n_components, n_features):
    """Below this explained fraction, a fit that ran its course has collapsed.

    1%, or a tenth of what a random ``n_components``-dimensional subspace
    explains of isotropic data (``n_components / n_features``), whichever
    is smaller: on wide data with little structure even PCA explains little.
    """
    return min(0.01, 0.1 * n_components / n_features)
