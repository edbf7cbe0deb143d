"""Warnings that point at the user's line, however deep in skae they arise."""

import os
import sys
import warnings
from pathlib import Path

import joblib
import sklearn

__all__ = ["warn_at_caller"]

# skae's own frames, and those of scikit-learn and its joblib between the
# user and skae: fit_transform, the set_output wrappers, a Pipeline's fit,
# cross_val_score's Parallel.
_LIBRARY_DIRECTORIES = tuple(
    str(Path(module.__file__).resolve().parent) + os.sep
    for module in (sys.modules[__package__], sklearn, joblib)
)


def warn_at_caller(message, category):
    """``warnings.warn`` attributed to the first frame outside skae, scikit-learn, joblib.

    A fixed ``stacklevel`` is right for one call path only: ``score`` goes
    through ``score_samples``, ``fit_transform`` through scikit-learn's
    mixin, ``load`` and unpickling reach ``__setstate__`` along different
    paths. A wrong level blames a library line, which the user's warning
    filters by module do not match. (Python 3.12's ``skip_file_prefixes``
    does this; skae supports 3.10.)
    """
    frame, stacklevel = sys._getframe(1), 2
    while frame is not None and _in_libraries(frame.f_code.co_filename):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, category, stacklevel=stacklevel)


def _in_libraries(filename):
    return str(Path(filename).resolve()).startswith(_LIBRARY_DIRECTORIES)
