"""Big arrays a block of rows at a time, so that memory grows by a block, not a copy.

NumPy only. A read-only ``np.memmap``, or uint8 pixels, can be far larger
than the memory a float copy of it would need: statistics, checks and
conversions here touch one block of rows (about :data:`BLOCK_BYTES`) at a
time.
"""

import numpy as np
import scipy.sparse as sp

from ._divergence import refuse_non_finite_input

__all__ = [
    "BLOCK_BYTES",
    "INFERENCE_DTYPES",
    "all_finite",
    "in_unit_interval",
    "row_blocks",
    "summed_duplicates",
    "value_range",
    "weighted_centred_squares",
    "weighted_float32_rounding",
    "weighted_moments",
]

# Big enough for BLAS and numpy to run at full speed, small next to the
# arrays worth streaming (hundreds of MB).
BLOCK_BYTES = 1 << 22
# The moments read each float64 block twice: a block that stays in a core's
# L2 cache (2 MB here) took MNIST's from 55 to 46 ms (benchmarks/step_costs.py).
_MOMENT_BLOCK_BYTES = 1 << 20

# Input dtypes that prediction takes as they are, converting one batch at a
# time (float32 computes in float32, the others in float64). float64 comes
# first: anything else (objects, strings of numbers) is converted to it
# whole at validation, as with ``dtype=[np.float64, np.float32]``.
INFERENCE_DTYPES = [
    np.float64,
    np.float32,
    np.float16,
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
]


def row_blocks(n_rows, row_nbytes, block_bytes=BLOCK_BYTES):
    """Slices that cover ``range(n_rows)`` in order, each about ``block_bytes`` of rows.

    Examples
    --------
    >>> from skae._blocks import row_blocks
    >>> [(s.start, s.stop) for s in row_blocks(5, row_nbytes=8, block_bytes=16)]
    [(0, 2), (2, 4), (4, 5)]
    """
    step = max(1, block_bytes // max(1, row_nbytes))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _row_nbytes(array, dtype=None):
    itemsize = np.dtype(dtype or array.dtype).itemsize
    return itemsize * int(np.prod(array.shape[1:]))


def weighted_moments(X, weights, squares=True):
    """``weights @ X`` and ``weights @ (X**2).sum(axis=1)`` in float64, a block of rows at a time.

    Neither a float64 cast of ``X`` nor ``X**2`` is ever held whole. Every
    block is cast to float64, where the squares of float32 (or float16)
    values cannot overflow, and each row's sum of squares is taken as a
    dot product of the row with itself (no array of squares).

    Dense blocks go through :func:`numpy.einsum`'s own loops, never BLAS:
    after a call, OpenBLAS's worker threads keep spinning for a while, on
    the cores torch's threads train on next. A 784-256-64 fit on MNIST
    (2 cores, batch 256) lost 94 ms in its first epoch with BLAS here,
    12 ms with einsum (benchmarks/fit_start.py), which computes these sums
    as fast as BLAS did (about 55 ms with blocks of 4 MB; 46 ms with
    blocks of 1 MB, which stay in a core's L2 cache between the passes:
    benchmarks/step_costs.py).

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
    weights : ndarray of shape (n_samples,)
    squares : bool, default=True
        Whether to compute the weighted sum of squares (else None is
        returned for it).

    Returns
    -------
    first : ndarray of shape (n_features,)
        The weighted sum of the rows.
    sum_of_squares : float or None
        The weighted sum over rows of each row's sum of squared values.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._blocks import weighted_moments
    >>> X = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    >>> first, sum_of_squares = weighted_moments(X, np.array([0.5, 0.5]))
    >>> first.tolist(), sum_of_squares
    ([2.0, 3.0], 15.0)
    """
    first = np.zeros(X.shape[1])
    sum_of_squares = 0.0 if squares else None
    for rows in row_blocks(X.shape[0], _row_nbytes(X, np.float64), _MOMENT_BLOCK_BYTES):
        block, block_weights = X[rows], weights[rows]
        if block.dtype != np.float64:
            block = block.astype(np.float64)
        first += _weighted_row_sum(block_weights, block)
        if squares:
            row_squares = _row_sums_of_squares(block)
            sum_of_squares += float(np.einsum("i,i->", block_weights, row_squares))
    return first, sum_of_squares


def weighted_centred_squares(X, weights, centre):
    """``weights @ ((X - centre) ** 2).sum(axis=1)`` in float64, a block of rows at a time.

    The weighted sum of squares about ``centre``, without the cancellation
    of E[x**2] - E[x]**2 when the spread is small next to the mean. Sparse
    blocks are densified one at a time, as training does.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._blocks import weighted_centred_squares
    >>> X = np.full((4, 2), 7.0) + np.array([[0, 1e-9], [0, -1e-9], [0, 0], [0, 0]])
    >>> float(weighted_centred_squares(X, np.full(4, 0.25), np.array([7.0, 7.0])))
    5e-19
    """
    return _weighted_deviations(X, weights, lambda block: block - centre, means=False)[1]


def column_extremes(X):
    """Each column's least and greatest value, in float64, a block of rows at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._blocks import column_extremes
    >>> lowest, highest = column_extremes(np.array([[1, 5], [3, 5]], dtype=np.uint8))
    >>> lowest.tolist(), highest.tolist()
    ([1.0, 5.0], [3.0, 5.0])
    """
    lowest, highest = np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    for rows in row_blocks(X.shape[0], 8 * X.shape[1], _MOMENT_BLOCK_BYTES):
        block = X[rows].toarray() if sp.issparse(X) else X[rows]
        lowest = np.minimum(lowest, block.min(axis=0))
        highest = np.maximum(highest, block.max(axis=0))
    return lowest, highest


def weighted_huber_centre(X, weights, bound, extremes, max_rows=10_000, max_steps=30):
    """Per feature, about the constant whose Huber error about the rows of ``X`` is least.

    The error of a residual ``r`` is ``r**2`` up to ``|r| = bound`` and
    linear beyond; ``weights`` sum to 1. Its minimiser, a robust mean, is
    what a collapsed net fitted under the Huber error outputs: on the
    median's side of the mean for skewed features.

    Newton steps from the mean (the weighted mean of the residuals
    clipped to ``bound``, divided by the weight of the rows within it),
    kept inside a bracket of the root, the columns' least and greatest
    values (``extremes``: :func:`column_extremes`), by bisecting it where
    a step would leave it: far
    from every row, or with few rows within ``bound``, a Newton step is
    unreliable. On digits and MNIST, raw and standardised, the mean's
    Huber error was 5-22% above the least. It is computed on at most
    ``max_rows`` evenly spaced rows, a block at a time (sparse blocks
    densified), in up to ``max_steps`` passes over them.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._blocks import weighted_huber_centre
    >>> X = np.array([[0.0], [0.0], [0.0], [9.0]])  # mean 2.25
    >>> centre = weighted_huber_centre(X, np.full(4, 0.25), 0.1, column_extremes(X))
    >>> centre.round(4).tolist()
    [0.0333]
    """
    rows = np.arange(X.shape[0])
    if X.shape[0] > max_rows:
        rows = np.linspace(0, X.shape[0] - 1, max_rows).astype(np.intp)
    weights = weights[rows] / weights[rows].sum()

    def blocks():  # (float64 rows, their weights), a block at a time: no copy of X
        for part in row_blocks(len(rows), 8 * X.shape[1], _MOMENT_BLOCK_BYTES):
            block = X[rows[part]]
            block = block.toarray() if sp.issparse(block) else block
            yield block.astype(np.float64), weights[part]

    centre = sum(np.einsum("i,ij->j", w, block) for block, w in blocks())
    # The clipped sum falls with the centre: its root lies between the
    # columns' least and greatest values. Newton steps are bisections of
    # that bracket wherever they would leave it.
    lo, hi = extremes
    for _ in range(max_steps):
        clipped, within = np.zeros_like(centre), np.zeros_like(centre)
        for block, w in blocks():
            residuals = block - centre
            clipped += np.einsum("i,ij->j", w, np.clip(residuals, -bound, bound))
            within += np.einsum("i,ij->j", w, np.abs(residuals) < bound)
        lo, hi = np.where(clipped > 0, centre, lo), np.where(clipped < 0, centre, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = centre + clipped / within
        inside = (within > 0) & (newton > lo) & (newton < hi)
        target = np.where(inside, newton, np.where(clipped == 0, centre, (lo + hi) / 2))
        step, centre = target - centre, target
        if np.max(np.abs(step), initial=0.0) <= 1e-4 * bound:
            break
    return centre


def weighted_float32_rounding(X, weights):
    """The weighted variance of training's float32 rounding errors, summed over the features.

    ``e = X - float32(X)``, a block of rows at a time; ``weights`` sum to
    1. Its variance, not its mean square: an error that is the same in
    every row (a constant column) shifts the mean and loses no variation.
    Computed about the first row's errors, so that a large error common
    to every row cancels exactly instead of leaving digits behind in
    E[e**2] - E[e]**2. 0 for float32 X.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._blocks import weighted_float32_rounding
    >>> X = np.array([[1.0, 2**24 + 1.0], [0.5, 2**24]])  # 2**24 + 1 rounds by 1
    >>> float(weighted_float32_rounding(X, np.array([0.5, 0.5])))
    0.25
    """

    def rounding_errors(block):
        return block - block.astype(np.float32)

    first_row = X[:1].toarray() if sp.issparse(X) else X[:1]
    reference = rounding_errors(first_row.astype(np.float64))
    mean_error, mean_square = _weighted_deviations(
        X, weights, lambda block: rounding_errors(block) - reference
    )
    return max(mean_square - float(mean_error @ mean_error), 0.0)


def _weighted_deviations(X, weights, deviations_of, means=True):
    """``weights @ D`` (None unless ``means``) and ``weights @ (D ** 2).sum(axis=1)``.

    ``D = deviations_of(X)``, in float64 blocks of rows (sparse ones
    densified one at a time).
    """
    first, total = (np.zeros(X.shape[1]) if means else None), 0.0
    for rows in row_blocks(X.shape[0], 8 * X.shape[1], _MOMENT_BLOCK_BYTES):
        block = X[rows].toarray() if sp.issparse(X) else X[rows]
        deviations = deviations_of(block.astype(np.float64))
        if means:
            first += np.einsum("i,ij->j", weights[rows], deviations)
        row_squares = np.einsum("ij,ij->i", deviations, deviations)
        total += float(np.einsum("i,i->", weights[rows], row_squares))
    return first, total


def summed_duplicates(X):
    """``X``, with the duplicate entries of a sparse matrix summed (in a copy).

    A sparse matrix may store several entries for one position; they add
    up, as ``toarray`` and training see them, but checks that read the
    stored values one by one (``X.data``) would not: they read this.
    """
    if sp.issparse(X) and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _weighted_row_sum(weights, block):
    """``weights @ block`` for a float64 block, dense or sparse, without BLAS."""
    if sp.issparse(block):  # scipy's own loops
        return np.asarray(weights @ block).reshape(-1)
    return np.einsum("i,ij->j", weights, block)


def _row_sums_of_squares(block):
    """Each row's sum of squared values, of a float64 block (dense or sparse)."""
    if sp.issparse(block):
        return np.asarray(block.multiply(block).sum(axis=1)).reshape(-1)
    return np.einsum("ij,ij->i", block, block)


def all_finite(array):
    """Whether every value of the dense ``array`` is finite, checked block by block.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._blocks import all_finite
    >>> all_finite(np.ones((3, 2))), all_finite(np.array([1.0, np.inf]))
    (True, False)
    """
    if array.ndim == 0:
        return bool(np.isfinite(array))
    return all(
        np.isfinite(array[rows]).all() for rows in row_blocks(len(array), _row_nbytes(array))
    )


def value_range(X):
    """``(min, max)`` of the entries of a dense or sparse ``X``; None if it has none.

    A sparse ``X``'s implicit zeros count, as the values they stand for.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from skae._blocks import value_range
    >>> value_range(np.array([[0.5, -1.0], [2.0, 0.0]])), value_range(np.empty((0, 2)))
    ((-1.0, 2.0), None)
    >>> value_range(sp.csr_matrix(np.array([[0.5, 0.0], [2.0, 0.0]])))
    (0.0, 2.0)
    """
    if not np.prod(X.shape):
        return None
    if not sp.issparse(X):
        return float(X.min()), float(X.max())
    if X.nnz == np.prod(X.shape):  # every entry stored
        return float(X.data.min()), float(X.data.max())
    return float(X.data.min(initial=0)), float(X.data.max(initial=0))  # 0 is among them


def in_unit_interval(X):
    """Whether every entry of a dense or sparse ``X``, as float32, lies in [0, 1].

    As float32, as training sees them: ``MinMaxScaler``'s float64 output
    can end one rounding step above 1, which is 1 in float32. True if
    ``X`` has no entries.
    """
    extent = value_range(X)
    return extent is None or (np.float32(extent[0]) >= 0 and np.float32(extent[1]) <= 1)


def beyond_unit_interval(X):
    """``"X has values in [low, high]"`` if ``X`` leaves [0, 1] (as float32), else None.

    The range of X that a setting made for [0, 1] data cannot take, for its
    message. X holding NaN or inf (``assume_finite=True``) is refused first:
    its range would say nothing.
    """
    if in_unit_interval(X):
        return None
    low, high = value_range(X)
    refuse_non_finite_input(max(abs(low), abs(high)))
    return f"X has values in [{low:.8g}, {high:.8g}]"
