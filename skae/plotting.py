"""One-line matplotlib figures for autoencoders (matplotlib is optional).

Install it with ``pip install skae[bench]`` or ``pip install matplotlib``.
Each function draws on ``ax`` (or a new figure) and returns the axes, so it
works in a notebook cell and composes into bigger figures.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp

__all__ = ["plot_embedding", "plot_loss_curve", "plot_reconstructions"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "skae.plotting needs matplotlib: pip install matplotlib (or skae[bench])."
        ) from None
    return plt


def _image_shape(n_features, image_shape):
    """``(height, width)`` of one-channel images of ``n_features`` pixels."""
    if image_shape is not None:
        shape = tuple(image_shape) if np.iterable(image_shape) else (image_shape,)
        # (channels, height, width) with one channel draws as (height, width).
        if len(shape) == 3 and shape[0] == 1:
            shape = shape[1:]
        if len(shape) != 2:
            raise ValueError(
                f"plot_reconstructions draws one-channel images: image_shape must be "
                f"(height, width) or (1, height, width), got {image_shape!r}. For images "
                "of several channels, plot one channel at a time."
            )
        if not all(isinstance(side, Integral) and side > 0 for side in shape):
            raise ValueError(f"image_shape must hold positive integers, got {image_shape!r}.")
        if shape[0] * shape[1] != n_features:
            raise ValueError(
                f"image_shape={image_shape!r} holds {shape[0] * shape[1]} pixels, but X "
                f"has {n_features} features."
            )
        return shape
    side = int(round(np.sqrt(n_features)))
    if side * side != n_features:
        raise ValueError(
            f"Cannot guess the image shape of {n_features} features; pass image_shape."
        )
    return (side, side)


def plot_reconstructions(models, X, *, n_images=8, image_shape=None, ax=None, cmap="gray"):
    """Originals in the first row, each model's reconstructions below.

    Parameters
    ----------
    models : estimator or dict of str to estimator
        Fitted transformers with ``inverse_transform`` (autoencoders, PCA...);
        a dict gives the row labels.
    X : array-like of shape (n_samples, n_features)
        Images as flat rows; the first ``n_images`` are drawn.
    n_images : int, default=8
        Number of columns (at least 1).
    image_shape : tuple of int, default=None
        ``(height, width)``, or ``(1, height, width)``: one-channel images
        (for several channels, plot one at a time); square by default.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.
    cmap : str, default="gray"
        Colour map.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_reconstructions
    >>> X = load_digits().data / 16
    >>> models = {
    ...     "PCA": PCA(n_components=8).fit(X),
    ...     "autoencoder": AutoencoderTransformer(8, max_iter=3, random_state=0).fit(X),
    ... }
    >>> ax = plot_reconstructions(models, X, n_images=5)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['original', 'PCA', 'autoencoder']
    """
    plt = _pyplot()
    if not isinstance(models, dict):
        models = {type(models).__name__: models}
    for name, model in models.items():
        if not (hasattr(model, "transform") and hasattr(model, "inverse_transform")):
            raise TypeError(
                "models must be a fitted estimator with transform and inverse_transform "
                f"(an autoencoder, PCA), or a dict of them by name; {name!r} is a "
                f"{type(model).__name__}."
            )
    if "original" in models:
        raise ValueError("No model may be named 'original': that row shows X itself.")
    if isinstance(n_images, bool) or not isinstance(n_images, Integral) or n_images < 1:
        raise ValueError(f"n_images must be an int of at least 1, got {n_images!r}.")
    # The first rows as given (a DataFrame keeps the feature names the
    # models were fitted with), and as pixels.
    if not (sp.issparse(X) or hasattr(X, "__array__") or isinstance(X, list | tuple)):
        raise TypeError(f"X must be the images, one flat row each; got {type(X).__name__}.")
    if sp.issparse(X):
        X = X.tocsr()  # COO, DIA and BSR matrices cannot be sliced
    head = X[:n_images]
    X = head.toarray() if sp.issparse(head) else np.asarray(head)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D, one flat image per row; got an array of shape {X.shape}."
        )
    height, width = _image_shape(X.shape[1], image_shape)
    rows = {"original": X}
    for name, model in models.items():
        rows[name] = np.asarray(model.inverse_transform(model.transform(head)))
    # One picture, the tiles separated by blank (NaN, drawn transparent) gaps.
    gap = max(1, min(height, width) // 8)
    picture = np.full((len(rows) * (height + gap) - gap, len(X) * (width + gap) - gap), np.nan)
    for r, row in enumerate(rows.values()):
        for c, image in enumerate(row.reshape(-1, height, width)):
            top, left = r * (height + gap), c * (width + gap)
            picture[top : top + height, left : left + width] = image
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 * len(X) + 1.5, 1.1 * len(rows)), layout="constrained")
    ax.imshow(picture, cmap=cmap, vmin=min(0, X.min()), vmax=max(1, X.max()))
    centres = [r * (height + gap) + (height - 1) / 2 for r in range(len(rows))]
    ax.set_yticks(centres, list(rows))
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([])
    ax.spines[:].set_visible(False)
    return ax


def _class_colours(plt, cmap, n_classes):
    """``n_classes`` distinct colours from ``cmap``.

    A qualitative colour map (a short list of colours, as tab10 or Set1)
    gives its first ``n_classes`` colours; a continuous one (viridis...) is
    sampled at evenly spaced points from one end to the other.
    """
    from matplotlib.colors import ListedColormap

    if cmap is None:
        cmap = "tab10" if n_classes <= 10 else "tab20" if n_classes <= 20 else "viridis"
    colours = plt.get_cmap(cmap)
    if isinstance(colours, ListedColormap) and colours.N <= 32:
        if n_classes <= colours.N:
            return [colours(i) for i in range(n_classes)]
        raise ValueError(
            f"The colour map {colours.name!r} has {colours.N} colours for "
            f"{n_classes} classes; pass a continuous one, e.g. cmap='viridis'."
        )
    return [colours(x) for x in np.linspace(0, 1, n_classes)]


def plot_embedding(codes, y=None, *, ax=None, title=None, s=4, cmap=None):
    """Scatter plot of 2-D codes, coloured by class.

    Parameters
    ----------
    codes : array-like of shape (n_samples, 2)
        For instance ``AutoencoderTransformer(n_components=2).fit_transform(X)``.
    y : array-like of shape (n_samples,), default=None
        Classes for colours and a legend.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.
    title : str, default=None
        Axes title.
    s : float, default=4
        Marker size.
    cmap : str, default=None
        Colour map (its name, or a matplotlib ``Colormap``) for the classes,
        one distinct colour each: a qualitative map (tab10, Set1...) gives
        its colours in order, a continuous one (viridis...) is sampled at
        evenly spaced points. None picks tab10 for up to 10 classes, tab20
        for up to 20, viridis beyond.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_embedding
    >>> X, y = load_digits(n_class=3, return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=2, max_iter=3, random_state=0)
    >>> ax = plot_embedding(ae.fit_transform(X / 16), y, title="digits 0-2")
    >>> ax.get_title(), [text.get_text() for text in ax.get_legend().get_texts()]
    ('digits 0-2', ['0', '1', '2'])
    """
    plt = _pyplot()
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"plot_embedding needs 2-D codes, got shape {codes.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    if y is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=s)
    else:
        y = np.asarray(y)
        if y.shape != (codes.shape[0],):
            raise ValueError(
                f"y must hold one label per code, shape ({codes.shape[0]},); got {y.shape}."
            )
        if _has_missing_labels(y):
            raise ValueError(
                "y holds missing labels (NaN, None or NA), which plot_embedding cannot "
                "colour as a class: drop those samples, or give them a label of their own."
            )
        try:
            labels = np.unique(y)
        except TypeError:  # labels of several types (1 and "a") don't sort
            labels = list(dict.fromkeys(y.tolist()))  # in order of appearance
        for colour, label in zip(_class_colours(plt, cmap, len(labels)), labels, strict=True):
            mask = y == label
            ax.scatter(codes[mask, 0], codes[mask, 1], s=s, color=colour, label=str(label))
        # Outside the axes, on the right, where it hides no point.
        ax.legend(markerscale=3, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return ax


def _set_scale(ax, values, log):
    # A log axis cannot show zero or negative values (a negated MSE, a zero
    # loss): such an axis stays linear whatever ``log`` says.
    # NaN marks an epoch without a validation score (a gap in the line).
    values = np.asarray(values, dtype=float)
    if log and np.all(values[~np.isnan(values)] > 0):
        ax.set_yscale("log")


def _plot_scores(ax, scores, log):
    """Validation scores on a twin of ``ax``; returns the plotted lines."""
    score_ax = ax.twinx()
    label = "validation score (higher is better)"
    epochs = np.arange(1, len(scores) + 1)
    lines = score_ax.plot(epochs, scores, color="C1", linestyle="--", label=label)
    # A score between epochs without one (NaN) has no segment: a dot shows it.
    finite = np.isfinite(scores)
    neighbours = np.pad(finite, 1)
    alone = finite & ~neighbours[:-2] & ~neighbours[2:]
    if alone.any():
        score_ax.plot(epochs[alone], scores[alone], color="C1", linestyle="none", marker=".")
    score_ax.set_ylabel(label, color="C1")
    score_ax.tick_params(axis="y", colors="C1")
    _set_scale(score_ax, scores, log)
    # Draw ax, its line and its legend, above the twin (matplotlib draws
    # the twin last otherwise); the twin paints ax's background instead.
    ax.set_zorder(score_ax.get_zorder() + 1)
    score_ax.set_facecolor(ax.get_facecolor())
    score_ax.patch.set_visible(ax.patch.get_visible())
    ax.patch.set_visible(False)
    return lines


def _has_missing_labels(y):
    """Whether ``y`` holds a missing label: NaN, or None and pandas.NA in objects."""
    if y.dtype.kind in "fc":
        return bool(np.isnan(y).any())
    return y.dtype.kind == "O" and any(_is_missing(label) for label in y.tolist())


def _is_missing(label):
    try:
        return label is None or bool(label != label)  # NaN is the one unequal to itself
    except TypeError:  # pandas.NA: its comparisons are NA, of no truth value
        return True


def plot_loss_curve(model, *, ax=None, log=True):
    """Training loss per epoch, and the validation score with early stopping.

    The training loss (``loss_curve_``, lower is better) is drawn on ``ax``.
    When the model holds validation scores (``validation_scores_``, fitted
    with ``early_stopping=True``) they are drawn in another colour on a
    second y axis on the right (``ax.twinx()``), labelled "validation score
    (higher is better)": a score is not a loss and need not share its units
    or sign (accuracy for :class:`~skae.StackedAutoencoderClassifier`, minus
    the reconstruction MSE, or the Huber error, for autoencoders, the ELBO for
    :class:`~skae.VariationalAutoencoder`). One legend on ``ax`` names both
    lines.

    Parameters
    ----------
    model : fitted skae estimator
        Anything with ``loss_curve_`` (and optionally ``validation_scores_``,
        a list of float or None).
    ax : matplotlib Axes, default=None
        Where to draw the training loss; a new figure if None. The score
        axis, if any, is its twin: ``ax.figure.axes`` lists both.
    log : bool, default=True
        Logarithmic y axes. Each axis is logarithmic only when all the values
        drawn on it are positive, so a negative score or a zero loss keeps
        its axis linear.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the training loss.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import plot_loss_curve
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(8, max_iter=5, early_stopping=True, random_state=0)
    >>> ax = plot_loss_curve(ae.fit(X))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['training loss', 'validation score (higher is better)']
    >>> len(ax.figure.axes)  # the loss and, on its twin, the validation score
    2
    """
    plt = _pyplot()
    if not hasattr(model, "loss_curve_"):
        raise ValueError(
            f"{type(model).__name__} has no loss_curve_: pass a fitted estimator that "
            "records one (skae's, or scikit-learn's MLPs with a stochastic solver); "
            "from a Pipeline, its final step, pipeline[-1]."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    loss = np.asarray(model.loss_curve_, dtype=float)
    lines = ax.plot(np.arange(1, len(loss) + 1), loss, color="C0", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    _set_scale(ax, loss, log)
    validation = getattr(model, "validation_scores_", None)
    if validation is not None and len(validation):
        lines += _plot_scores(ax, np.asarray(validation, dtype=float), log)
    ax.legend(lines, [line.get_label() for line in lines])
    return ax
