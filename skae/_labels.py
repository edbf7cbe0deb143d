"""Labels of the semi-supervised classifier: unlabelled samples and class indices."""

import numpy as np

__all__ = ["class_indices", "labelled_mask"]


def labelled_mask(y, unlabeled):
    """Boolean mask of the samples whose label is not ``unlabeled``.

    Raises a ValueError when no sample is labelled.
    """
    if unlabeled is None:
        return np.ones(y.shape[0], dtype=bool)
    # Elementwise for every dtype (a string array against -1 is all False).
    mask = ~np.asarray(y == unlabeled, dtype=bool).reshape(y.shape[0])
    if not mask.any():
        raise ValueError(
            f"No labelled sample: every label is unlabeled={unlabeled!r}. "
            "Fine-tuning needs labelled samples of at least 2 classes."
        )
    return mask


def class_indices(y_labelled, classes, unlabeled, continuing):
    """The index in ``classes`` of every labelled sample.

    ``classes`` needs 2 classes or more, and must hold every label: labels
    outside the fitted ``classes_`` (``continuing``) or outside the
    ``classes`` given to the first ``partial_fit`` are refused, as in
    ``MLPClassifier``.
    """
    if classes.shape[0] < 2:
        raise ValueError(
            "StackedAutoencoderClassifier needs labelled samples of at least 2 classes, "
            f"but got 1 class ({classes.tolist()[0]!r})."
            + (
                f" Note that unlabeled={unlabeled!r} marks unlabelled samples; "
                "pass unlabeled=None if it is a class."
                if unlabeled is not None
                else ""
            )
        )
    unknown = np.setdiff1d(y_labelled, classes)
    if unknown.size:
        where = "classes_ (fitted)" if continuing else "classes"
        raise ValueError(
            f"y has labels {unknown.tolist()} that are not in {where} "
            f"{classes.tolist()}; pass every class to the first call of "
            "partial_fit, or refit without warm_start."
        )
    return np.searchsorted(classes, y_labelled)
