"""Checks of architecture settings that need the data or combine parameters."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from ._estimator import as_layer_sizes


def check_count(value, name, owner):
    """Refuse ``True``/``False`` as a count: Python's bool passes an ``Integral`` check."""
    if isinstance(value, bool | np.bool_):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be an int in the range [1, inf). "
            f"Got {value!r} instead (a bool, not a count)."
        )


def image_shape_of(image_shape):
    """``image_shape`` as ``(channels, height, width)``, or None."""
    if image_shape is None:
        return None
    shape = tuple(image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in shape
    ):
        raise ValueError(
            "image_shape must be (channels, height, width) or (height, width) "
            f"of positive ints, got {image_shape!r}."
        )
    return tuple(int(s) for s in shape)


def check_architecture(estimator, n_features):
    """Check ``image_shape`` against the data, and the conv settings.

    ``estimator`` has the parameters ``architecture``, ``image_shape`` and
    ``conv_channels``; errors name them as the user wrote them.
    """
    image_shape = image_shape_of(estimator.image_shape)
    if image_shape is not None and int(np.prod(image_shape)) != n_features:
        raise ValueError(
            f"image_shape={estimator.image_shape!r} describes images of "
            f"{int(np.prod(image_shape))} values, but X has {n_features} "
            "features. Each row of X must be one flattened image (channels "
            "first, C-order): pass the image_shape of your data."
        )
    if estimator.architecture != "conv":
        return
    if image_shape is None:
        raise ValueError(
            "architecture='conv' needs image_shape=(channels, height, width) "
            "to reshape the rows of X into images."
        )
    channels = as_layer_sizes(estimator.conv_channels, "conv_channels")
    if not channels:
        raise ValueError("conv_channels must name at least one convolution block.")
    smallest = 2 ** len(channels)
    if min(image_shape[1:]) < smallest:
        raise ValueError(
            f"Images of {image_shape[1]}x{image_shape[2]} pixels are too small for "
            f"{len(channels)} convolution blocks, each halving the size with a 2x2 "
            f"max-pool: they need at least {smallest}x{smallest}. Use fewer "
            "conv_channels."
        )


def corruption_levels(levels, n_layers):
    """``corruption_levels`` as one float per hidden layer, checked.

    "auto" rises linearly from 0.1 at the first layer to 0.3 at the last.
    """
    if isinstance(levels, str) and levels == "auto":
        return tuple(round(float(v), 12) for v in np.linspace(0.1, 0.3, n_layers))
    if isinstance(levels, Real):
        return (float(levels),) * n_layers
    levels = tuple(levels)
    if len(levels) != n_layers:
        raise ValueError(
            f"corruption_levels has {len(levels)} value(s) but hidden_layer_sizes "
            f"has {n_layers} layer(s): give one level per hidden layer, or a "
            "single float for all of them."
        )
    if not all(isinstance(v, Real) and 0 <= v < 1 for v in levels):
        raise ValueError(f"corruption_levels must lie in [0, 1), got {levels!r}.")
    return tuple(float(v) for v in levels)
