"""Settings for the doctests of the ``skae`` package (``--doctest-modules``).

This file sits at the repository root, outside the package, so it is not
part of what skae ships. The test suite's own fixtures live in
``tests/conftest.py``.
"""

import os
import sys

import pytest

# Figures drawn by the examples go nowhere: no window, no display needed.
# Set before anything imports matplotlib.
os.environ["MPLBACKEND"] = "Agg"


@pytest.fixture(autouse=True)
def _doctest_settings(request):
    """One torch thread for each doctest, as tests/conftest.py sets for the tests.

    Tiny models run fastest on one thread on a busy machine, and printed
    results must not depend on the thread count. Figures the example
    opened are closed afterwards.
    """
    if type(request.node).__name__ != "DoctestItem":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
