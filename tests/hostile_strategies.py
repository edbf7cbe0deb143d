"""Hypothesis strategies of hostile input, and the dtype a result must have.

The data a user may hand an estimator: every dtype (bool, integers, float16
to float64, object arrays of numbers and of strings), NaN and inf at random
positions, magnitudes up to the dtype's limit, constant columns, 1 sample or
1 feature, scipy.sparse matrices and arrays of every format, and pandas
DataFrames with odd column names. Used by ``test_hostile_input.py``.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

NUMERIC_DTYPES = ["bool", "int8", "uint8", "int64", "float16", "float32", "float64"]
OBJECT_KINDS = ["object_numbers", "object_number_strings", "object_words"]
# scipy has no float16 or object sparse matrices.
SPARSE_DTYPES = ["bool", "int8", "uint8", "int64", "float32", "float64"]
SPARSE_FORMATS = ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"]
CONTAINERS = ["ndarray", "list", "sparse", "sparse_array", "dataframe"]
WORDS = ["", "a", "nan", "inf", "1e400", "ünïcödé", "1,5", "None"]


def _float_elements(dtype, allow_non_finite):
    """Moderate values, mostly, with the dtype's extremes mixed in."""
    info = np.finfo(dtype)
    width = info.bits
    extremes = [0.0, float(info.max), -float(info.max), float(info.tiny), float(info.eps)]
    if dtype == np.float64:
        extremes += [1e300, -1e300]
    if allow_non_finite:
        extremes += [np.nan, np.inf, -np.inf]
    return st.one_of(
        st.floats(-10, 10, width=width),
        st.sampled_from(extremes),
        st.floats(width=width, allow_nan=allow_non_finite, allow_infinity=allow_non_finite),
    )


def _int_elements(dtype):
    info = np.iinfo(dtype)
    return st.one_of(
        st.integers(max(info.min, -3), min(info.max, 3)), st.integers(info.min, info.max)
    )


@st.composite
def numeric_arrays(draw, shape, dtype, allow_non_finite=True):
    """An array of ``dtype`` (a name in NUMERIC_DTYPES) with some constant columns."""
    if dtype == "bool":
        elements = st.booleans()
    elif dtype.startswith("float"):
        elements = _float_elements(np.dtype(dtype).type, allow_non_finite)
    else:
        elements = _int_elements(np.dtype(dtype).type)
    X = draw(hnp.arrays(np.dtype(dtype), shape, elements=elements))
    constant = draw(st.lists(st.booleans(), min_size=shape[1], max_size=shape[1]))
    X[:, constant] = X[:1, constant]
    return X


@st.composite
def object_arrays(draw, shape, kind):
    """Object arrays of Python numbers, of numbers as strings, or of words."""
    X = draw(numeric_arrays(shape, "float64")).astype(object)
    if kind == "object_numbers":
        as_int = draw(hnp.arrays(bool, shape))
        X[as_int & np.isfinite(X.astype(float))] = 1  # a Python int among floats
    elif kind == "object_number_strings":
        X = X.astype(str).astype(object)
    else:
        X = np.array(draw(hnp.arrays(object, shape, elements=st.sampled_from(WORDS))))
    return X


def _sparse(X, container, fmt):
    """``X`` in a scipy.sparse matrix (or sparse array) of format ``fmt``."""
    matrix = sp.csr_matrix(X)
    matrix = matrix.asformat(fmt) if fmt != "bsr" else sp.bsr_matrix(matrix)
    if container == "sparse_array":
        matrix = {"csr": sp.csr_array, "csc": sp.csc_array, "coo": sp.coo_array}.get(
            fmt, sp.csr_array
        )(matrix)
    return matrix


def column_names(n_features):
    """Odd DataFrame column names: ints, mixed, unicode, duplicated."""
    text = st.text(min_size=0, max_size=3)
    unique = st.lists(text, min_size=n_features, max_size=n_features, unique=True)
    return st.one_of(
        st.just(list(range(n_features))),
        unique,
        st.lists(
            st.one_of(st.integers(-2, 2), text, st.floats(allow_nan=True)),
            min_size=n_features,
            max_size=n_features,
        ),
        st.lists(st.sampled_from(["a", "é"]), min_size=n_features, max_size=n_features),
    )


@st.composite
def hostile_X(draw, n_features):
    """Input data of any dtype, container, shape and content (1 to 9 rows)."""
    shape = (draw(st.integers(1, 9)), draw(n_features))
    container = draw(st.sampled_from(CONTAINERS))
    if container.startswith("sparse"):
        dtype = draw(st.sampled_from(SPARSE_DTYPES))
    else:
        dtype = draw(st.sampled_from(NUMERIC_DTYPES + OBJECT_KINDS))
    if dtype.startswith("object"):
        X = draw(object_arrays(shape, dtype))
    else:
        X = draw(numeric_arrays(shape, dtype))
    if container == "ndarray":
        return X
    if container == "list":
        return X.tolist()
    if container == "dataframe":
        return pd.DataFrame(X, columns=draw(column_names(shape[1])))
    return _sparse(X, container, draw(st.sampled_from(SPARSE_FORMATS)))


def labels(n_samples):
    """Class labels: odd values, odd dtypes, too few classes, unlabelled (-1)."""
    label_sets = st.sampled_from(
        [
            [0, 1],
            [-1, 0, 1],
            [-1, 7],
            ["a", "ünï"],
            ["", " ", "b"],
            [True, False],
            [np.iinfo(np.int64).max, np.iinfo(np.int64).min],
            [0.5, 1.5],
            [1.0, np.nan],
            [0, "a"],
            [None, "a"],
            [0.1, 0.2, 0.3, 0.4, 0.55, 0.6, 0.7, 0.8, 0.9],
            [3],
        ]
    )
    return label_sets.flatmap(
        lambda values: st.lists(
            st.sampled_from(values), min_size=n_samples, max_size=n_samples
        ).map(lambda y: np.array(y, dtype=object if len({type(v) for v in y}) > 1 else None))
    )


def float_dtype_of(X):
    """The documented output dtype for input ``X``: float32 stays, else float64."""
    if isinstance(X, pd.DataFrame):
        dtypes = set(X.dtypes)
    elif isinstance(X, list):
        return np.dtype(np.float64)
    else:
        dtypes = {X.dtype}
    return np.dtype(np.float32 if dtypes == {np.dtype(np.float32)} else np.float64)
