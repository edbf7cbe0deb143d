"""Warnings that point at the user's line, however deep in skae they arise."""

import os
import sys
import warnings
from pathlib import Path

__all__ = ["warn_at_caller"]

_PACKAGE_DIRECTORY = str(Path(__file__).resolve().parent) + os.sep


def warn_at_caller(message, category):
    """``warnings.warn`` attributed to the first frame outside skae.

    A fixed ``stacklevel`` is right for one call path only: ``score`` goes
    through ``score_samples``, ``load`` and unpickling reach ``__setstate__``
    along different paths, and a wrong level blames a line of skae, which
    the user's warning filters by module do not match. (Python 3.12's
    ``skip_file_prefixes`` does this; skae supports 3.10.)
    """
    frame, stacklevel = sys._getframe(1), 2
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIRECTORY
    ):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, category, stacklevel=stacklevel)
