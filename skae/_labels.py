"""Labels of the semi-supervised classifier, and the training data they make."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ._estimator import FitData, check_float32_range, drop_zero_weights
from ._tensors import Rows, shareable

__all__ = [
    "check_label_types",
    "check_unlabeled_marker",
    "class_indices",
    "labelled_fit_data",
    "labelled_mask",
]


def check_unlabeled_marker(unlabeled):
    """Refuse ``unlabeled=nan`` (no label equals NaN, and ``y`` may not hold NaN) and bools."""
    if isinstance(unlabeled, bool):  # np.bool_ fails the constraint
        # True passes the Real constraint and equals the label 1: a class
        # would silently become "unlabelled".
        raise ValueError(
            f"unlabeled={unlabeled!r} would mark every sample labelled "
            f"{int(unlabeled)} as unlabelled: unlabeled is the label of the "
            "unlabelled samples (default -1), or None for none."
        )
    if isinstance(unlabeled, Real) and math.isnan(unlabeled):
        raise ValueError(
            "unlabeled=nan cannot mark unlabelled samples: y may not contain NaN, and "
            "no label equals NaN. Mark them with a label of their own, such as -1 "
            "(the default; with pandas, y.fillna(-1), or y.astype(object).fillna(-1) "
            "for a categorical y)."
        )


def _is_labelled(labels, unlabeled):
    """Boolean mask of the ``labels`` that are not the ``unlabeled`` marker."""
    if unlabeled is None:
        return np.ones(labels.shape[0], dtype=bool)
    # Elementwise for every dtype (a string array against -1 is all False).
    return ~np.asarray(labels == unlabeled, dtype=bool).reshape(labels.shape[0])


def _check_marker_kept_its_type(labels, unlabeled, name="y"):
    """Refuse a marker and ``labels`` that write the same number in two types.

    ``np.asarray(["cat", -1])`` is ``["cat", "-1"]``: the rows the user
    marked would silently make a class "-1" (scikit-learn's
    ``SelfTrainingClassifier`` refuses string ``y`` for this reason). A
    real class "-1" (labels read from a file) needs ``unlabeled=None``.
    The other way round, ``unlabeled="-1"`` (read from a configuration)
    matches no -1 of numeric labels.
    """
    if isinstance(unlabeled, str | bytes):
        _check_string_marker(labels, unlabeled, name)
        return
    if labels.dtype.kind not in "USO" or unlabeled is None:
        return
    texts = {str(unlabeled)}
    if isinstance(unlabeled, Real) and not isinstance(unlabeled, Integral):
        if float(unlabeled).is_integer():  # -1.0 is written "-1" as often
            texts.add(str(int(unlabeled)))
    for text in sorted(texts):
        if np.any(labels == (text.encode() if labels.dtype.kind == "S" else text)):
            raise ValueError(
                f"{name} holds the string {text!r}, but unlabeled={unlabeled!r} is a "
                "number: NumPy turns a list of strings and numbers into strings, which "
                f"would make a class {text!r} of the samples marked unlabelled. Pass "
                f"{name} as an object array (np.asarray({name}, dtype=object)), set "
                f"unlabeled={text!r} if {text!r} marks unlabelled samples, or "
                "unlabeled=None if it is a class."
            )


def _check_string_marker(labels, unlabeled, name):
    """Refuse a string ``unlabeled`` whose number is among numeric ``labels``."""
    try:
        number = float(unlabeled)
    except ValueError:
        return
    if labels.dtype.kind not in "iufO" or not math.isfinite(number):
        return
    # Elementwise for object labels too (a string label never equals a float).
    if np.any(np.asarray(labels == number, dtype=bool)):
        shown = int(number) if number.is_integer() else number
        raise ValueError(
            f"{name} holds the number {shown}, but unlabeled={unlabeled!r} is a string, "
            f"which matches no number: the samples marked {shown} would be trained as "
            f"a class. Set unlabeled={shown} if {shown} marks unlabelled samples, or "
            "unlabeled=None if it is a class."
        )


def labelled_mask(y, unlabeled, zero_weights_dropped=False):
    """Boolean mask of the samples whose label is not ``unlabeled``.

    Raises a ValueError when no sample is labelled (``zero_weights_dropped``:
    ``y`` lost its zero-weight rows first, which the message then says).
    """
    _check_marker_kept_its_type(y, unlabeled)
    mask = _is_labelled(y, unlabeled)
    if not mask.any():
        weighted = " or has sample_weight 0" if zero_weights_dropped else ""
        raise ValueError(
            f"No labelled sample: every sample is marked unlabeled={unlabeled!r}{weighted}. "
            "Fine-tuning needs labelled samples of at least 2 classes."
        )
    return mask


def check_label_types(labels, name):
    """Refuse labels that cannot be sorted together (``1`` and ``"a"``); returns them."""
    try:
        np.unique(labels)
    except TypeError:
        types = sorted({type(label).__name__ for label in labels.ravel()})
        raise TypeError(
            f"{name} mixes labels of types {types}, which cannot be sorted into "
            "classes_: use labels of one type (e.g. all str)."
        ) from None
    return labels


def class_indices(y_labelled, classes, continuing, why_fewer=""):
    """The index in ``classes`` of every labelled sample.

    ``classes`` needs 2 classes or more, and must hold every label: labels
    outside the fitted ``classes_`` (``continuing``) or outside the
    ``classes`` given to the first ``partial_fit`` are refused, as in
    ``MLPClassifier``. ``why_fewer`` ends the message when there are fewer
    than 2: what removed samples before the classes were counted.
    """
    if classes.shape[0] < 2:
        raise ValueError(
            "StackedAutoencoderClassifier needs labelled samples of at least 2 classes, "
            f"but got {classes.shape[0]} class ({', '.join(map(repr, classes.tolist()))})."
            + why_fewer
        )
    unknown = np.setdiff1d(y_labelled, classes)
    if unknown.size:
        where = "classes_ (fitted)" if continuing else "classes"
        advice = (
            "pass every class to the first call of partial_fit, or refit without warm_start"
            if continuing
            else "list every label of y in classes, of the same type (NumPy turns a list "
            "of numbers and strings into strings)"
        )
        raise ValueError(
            f"y has labels {unknown.tolist()} that are not in {where} {classes.tolist()}; "
            f"{advice}."
        )
    return np.searchsorted(classes, y_labelled)


def _given_classes(classes, unlabeled):
    """The sorted ``classes`` given to ``partial_fit``, less the ``unlabeled`` marker.

    ``classes=np.unique(y)`` holds the marker when ``y`` has unlabelled
    rows; it marks rows, it is no class (``fit`` leaves it out of
    ``classes_`` too).
    """
    given = np.asarray(classes)
    if given.ndim == 0:  # a set, a string or a generator: one object to NumPy
        raise ValueError(
            f"classes must be an array-like of labels, such as a list or "
            f"np.unique(y); got {type(classes).__name__} {classes!r}."
        )
    if given.ndim == 2 and given.shape[1] == 1:  # a column, as MLPClassifier takes it
        given = given.ravel()
    if given.ndim > 1:  # flattened, it would invent classes (MLPClassifier refuses it)
        raise ValueError(
            f"classes must be 1-D, a list of labels such as np.unique(y); got an array "
            f"of shape {given.shape}."
        )
    classes = np.unique(check_label_types(given, "classes"))
    _check_marker_kept_its_type(classes, unlabeled, "classes")
    return classes[_is_labelled(classes, unlabeled)]


def _check_same_classes(given, fitted_classes):
    """Refuse ``classes`` given to a later ``partial_fit`` that differ from ``classes_``."""
    if not np.array_equal(given, fitted_classes):
        raise ValueError(
            f"classes={given.tolist()} differs from the fitted classes_ "
            f"{fitted_classes.tolist()}: a continued partial_fit takes the same "
            "classes (or none); refit to change them."
        )


def _why_fewer(unlabeled, labelled, zero_weights_dropped):
    """What removed samples before the classes were counted, for an error message."""
    why = ""
    if not labelled.all():
        why += (
            f" Note that unlabeled={unlabeled!r} marks unlabelled samples; "
            "pass unlabeled=None if it is a class."
        )
    if zero_weights_dropped:
        why += " Samples of sample_weight 0 were left out first."
    return why


def labelled_fit_data(
    X, y, sample_weight, unlabeled, fitted_classes, incremental, classes, n_layers
):
    """The classifier's FitData: all rows for pretraining, labelled ones to fine-tune.

    ``X`` is converted to float32 once (see :func:`~skae._tensors.shareable`).

    Zero-weight rows are dropped first. ``classes_`` are the fitted ones
    when continuing (``fitted_classes``), those of ``y`` for ``fit``, and
    the ``classes`` given to the first ``partial_fit``.
    """
    n_rows = X.shape[0]
    X, sample_weight, y = drop_zero_weights(X, sample_weight, y)
    check_float32_range(X)
    labelled = labelled_mask(y, unlabeled, zero_weights_dropped=X.shape[0] < n_rows)
    check_label_types(y[labelled], "y")
    check_classification_targets(y[labelled])
    if fitted_classes is not None:
        if incremental and classes is not None:
            _check_same_classes(_given_classes(classes, unlabeled), fitted_classes)
        classes = fitted_classes
    elif not incremental:
        classes = np.unique(y[labelled])
    elif classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    else:
        classes = _given_classes(classes, unlabeled)
    continuing = fitted_classes is not None
    y_index = class_indices(
        y[labelled], classes, continuing, _why_fewer(unlabeled, labelled, X.shape[0] < n_rows)
    )
    # One float32 X, shared by pretraining (all rows) and fine-tuning (the
    # labelled ones, selected without a copy): a read-only memmap or
    # float64 X is converted once, not once per phase plus a labelled copy.
    X = shareable(X)
    arrays = (X if labelled.all() else Rows(X, np.flatnonzero(labelled)), y_index)
    if sample_weight is not None:
        arrays += (sample_weight[labelled],)
    return FitData(
        X=X,
        arrays=arrays,
        stratify=y_index,
        attributes={"classes_": classes, "n_layers_": n_layers + 2},
        weighted=sample_weight is not None,
        sample_weight=sample_weight,
    )
