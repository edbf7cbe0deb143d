"""Warnings and errors that skae raises."""

__all__ = ["SkaeVersionWarning"]


class SkaeVersionWarning(UserWarning):
    """A model saved by another version of skae, or of its file format, was loaded.

    Raised by unpickling and by :func:`skae.load` when the saved state comes
    from another skae version, or a file from another minor version of the
    file format. The model loads, but check its outputs before relying on
    them; refit, or save it again with this version, to silence the warning.

    Examples
    --------
    >>> import warnings
    >>> from skae.exceptions import SkaeVersionWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("saved by skae 0.0.1", SkaeVersionWarning)
    >>> caught[0].category.__name__
    'SkaeVersionWarning'
    """
