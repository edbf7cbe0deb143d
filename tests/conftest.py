"""Data fixtures shared by the test modules.

The fixtures are session-scoped: sklearn's digits (1797 8x8 images, 64
features) load once. Their arrays are read-only, so that no test can change
another's data: slices (``X_train[:100]``) are read-only views too, while
arithmetic (``X * 1e3``, ``X.astype(...)``) and ``.copy()`` give writable
arrays. Splits hold out 25% of the rows with ``random_state=0`` and come as
``(X_train, X_test, y_train, y_test)``.
"""

import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# One torch thread, whatever the machine: tiny models run many times faster
# on a busy 2-core machine, and results that depend on the thread count
# (docs/user_guide/training.rst lists where) do not vary between machines.
torch.set_num_threads(1)


def _read_only(*arrays):
    for array in arrays:
        array.flags.writeable = False
    return arrays


@pytest.fixture(scope="session")
def digits_raw():
    """``(X, y)``: all the digits, raw pixel values 0..16 (float64)."""
    X, y = load_digits(return_X_y=True)
    return _read_only(X, y)


@pytest.fixture(scope="session")
def digits_unit(digits_raw):
    """All the digits' pixels scaled to the unit interval, ``X / 16``."""
    X, _ = digits_raw
    (X_unit,) = _read_only(X / 16)
    return X_unit


@pytest.fixture(scope="session")
def digits_split(digits_raw):
    """``(X_train, X_test, y_train, y_test)``, raw pixels 0..16."""
    X, y = digits_raw
    return _read_only(*train_test_split(X, y, test_size=0.25, random_state=0))


@pytest.fixture(scope="session")
def digits_unit_split(digits_raw):
    """The rows of ``digits_split``, pixels scaled to the unit interval."""
    X, y = digits_raw
    return _read_only(*train_test_split(X / 16, y, test_size=0.25, random_state=0))


@pytest.fixture(scope="session")
def digits_unit_stratified_split(digits_raw):
    """Like ``digits_unit_split`` but stratified by class (other rows)."""
    X, y = digits_raw
    return _read_only(*train_test_split(X / 16, y, test_size=0.25, random_state=0, stratify=y))
