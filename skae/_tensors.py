"""Data on the device: device names, batch sources, inference in batches.

Torch only. Training data is held as whole tensors and batches are taken by
slicing a permuted index (no per-sample ``DataLoader``); scipy.sparse data
stays sparse on the host and is densified one batch at a time. Inference
streams: each batch is converted when it is needed, so a read-only memmap
or uint8 input is never copied whole.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from ._blocks import row_blocks

__all__ = [
    "BatchSource",
    "Rows",
    "batch_buffers",
    "batch_indices",
    "get_batch",
    "inference_batch_size",
    "predict_in_batches",
    "resolve_device",
    "shareable",
]

# Inference needs no gradients, so it can use bigger batches than training;
# wide rows make smaller batches, so that a batch (input or output rows) is
# at most 1 MB and its temporaries stay a few MB whatever the data's size
# (narrow codes decoded into wide rows included).
INFERENCE_BATCH_SIZE = 4096
INFERENCE_BATCH_BYTES = 1 << 20


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"``... into a ``torch.device``.

    Raises
    ------
    ValueError
        If the name is not a device torch knows, or names a device that this
        machine does not have.

    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a device name torch understands; "
            "use 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'."
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested, but CUDA is not available "
                f"(torch {torch.__version__}, torch.cuda.is_available() is False). "
                "Use device='cpu', or device='auto' to use a GPU only when present."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested, but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} was requested, but MPS is not available on this "
            "machine. Use device='cpu' or device='auto'."
        )
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not supported; use 'cpu', 'cuda', 'mps' or 'auto'."
        )
    return resolved


class Rows:
    """The rows ``index`` of ``array``, standing for ``array[index]`` without a copy.

    A validation split or the labelled samples of the training data: a
    :class:`BatchSource` made from it reads (or converts) only these rows.
    ``shape`` and ``dtype`` are those of ``array[index]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._tensors import Rows
    >>> part = Rows.of(Rows.of(np.zeros((5, 3)), [4, 2, 0]), [1, 2])
    >>> part.shape, part.index.tolist()
    ((2, 3), [2, 0])
    """

    def __init__(self, array, index):
        self.array, self.index = array, np.asarray(index, dtype=np.intp)

    @classmethod
    def of(cls, array, index):
        """``array[index]`` as Rows of the underlying array (``array`` may be Rows)."""
        if isinstance(array, Rows):
            return cls(array.array, array.index[index])
        return cls(array, index)

    @property
    def shape(self):
        return (len(self.index), *self.array.shape[1:])

    @property
    def dtype(self):
        return self.array.dtype


class BatchSource:
    """Rows of one array, served as tensors of ``dtype`` on ``device``.

    For training (the default), a dense array becomes one tensor on the
    device: NumPy's memory itself when the array is a writeable C array of
    ``dtype`` on the CPU, else a tensor filled one block of rows at a time
    (a read-only memmap, another dtype or another device costs that tensor
    and a block, never a second copy). With ``stream=True`` (inference),
    nothing is converted up front: each batch is read and converted when
    asked for. A scipy.sparse matrix stays sparse on the host either way,
    and only the requested rows are densified.

    Parameters
    ----------
    data : ndarray, scipy.sparse matrix or Rows of shape (n_samples, ...)
    device : torch.device
    dtype : torch.dtype, default=torch.float32
        ``torch.long`` for class labels.
    stream : bool, default=False
        Convert batch by batch instead of up front.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skae._tensors import BatchSource, Rows
    >>> pixels = np.arange(12, dtype=np.uint8).reshape(4, 3)
    >>> source = BatchSource(Rows(pixels, [3, 1]), torch.device("cpu"))
    >>> source.n_samples, source.slice(0, 2).tolist()
    (2, [[9.0, 10.0, 11.0], [3.0, 4.0, 5.0]])
    >>> BatchSource(pixels, torch.device("cpu"), stream=True).take(torch.tensor([2])).dtype
    torch.float32
    """

    def __init__(self, data, device, dtype=torch.float32, stream=False):
        self.device, self.dtype = device, dtype
        self._numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
        rows = None
        if isinstance(data, Rows):
            data, rows = data.array, data.index
        self.n_samples = data.shape[0] if rows is None else len(rows)
        self.row_nbytes = self._numpy_dtype.itemsize * int(np.prod(data.shape[1:]))
        self._tensor, self._host, self._rows = None, data, rows
        if sp.issparse(data):
            self._host = sp.csr_matrix(data)
        elif not stream:
            self._tensor, self._rows = _to_tensor(np.asarray(data), device, dtype, rows)

    def take(self, index, out=None):
        """Rows at ``index`` (a 1-D LongTensor, best already on ``device``).

        ``out``: a tensor of the rows' shape that a dense source gathers them
        into (see :meth:`buffer`); sources converted batch by batch ignore it.
        """
        if self._tensor is not None:
            index = index.to(self.device)
            if self._rows is not None:
                index = self._rows[index]
            return torch.index_select(self._tensor, 0, index, out=out)
        index = index.cpu().numpy()
        return self._host_rows(index if self._rows is None else self._rows[index])

    def slice(self, start, stop):
        """Rows ``start:stop`` in order (a view when they are stored that way)."""
        if self._tensor is not None:
            if self._rows is None:
                return self._tensor[start:stop]
            return self._tensor.index_select(0, self._rows[start:stop])
        rows = slice(start, stop) if self._rows is None else self._rows[start:stop]
        return self._host_rows(rows)

    def buffer(self, batch_size):
        """An empty batch of up to ``batch_size`` rows for :meth:`take`, or None.

        None for the sources that make a new tensor per batch anyway
        (scipy.sparse and streamed data, densified or converted per batch).
        """
        if self._tensor is None:
            return None
        n_rows = min(batch_size, self.n_samples)
        return self._tensor.new_empty((n_rows, *self._tensor.shape[1:]))

    def _host_rows(self, rows):
        """The host data's ``rows`` (a slice or indices), converted to a tensor on the device."""
        block = self._host[rows]
        if sp.issparse(block):
            block = block.toarray()
        return _from_numpy(block, self._numpy_dtype).to(self.device)


def shareable(array, numpy_dtype=np.float32):
    """``array`` as a C array of ``numpy_dtype``, copied only if it is not one.

    What a :class:`BatchSource` on the CPU shares rather than copies (a
    read-only memmap included): data that several sources read (pretraining
    and fine-tuning) is converted once this way. scipy.sparse matrices are
    returned as they are.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._tensors import shareable
    >>> X = np.zeros((2, 3), dtype=np.float32)
    >>> shareable(X) is X, shareable(X.astype(np.uint8)).dtype
    (True, dtype('float32'))
    """
    if sp.issparse(array):
        return array
    return np.require(np.asarray(array), numpy_dtype, ["C", "A"])


def _from_numpy(array, numpy_dtype):
    # A batch to hand to torch: a read-only view (of a memmap), uint8 or
    # float64 for a float32 model is copied; torch may write to what it wraps.
    return torch.from_numpy(np.require(array, numpy_dtype, ["C", "W", "A"]))


def _to_tensor(array, device, dtype, rows=None):
    """``array[rows]`` (all rows if None) on ``device``: ``(tensor, rows to take from it)``.

    A C array of ``dtype`` on the CPU is shared whole, read-only memmaps
    included, and the rows are taken batch by batch; anything else is
    converted one block of rows at a time into a tensor that holds only
    ``rows``.
    """
    numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
    if device.type == "cpu" and array.dtype == numpy_dtype and array.flags.c_contiguous:
        with warnings.catch_warnings():
            # Training only reads its data (batches are taken by
            # index_select, a copy, or read as views): a read-only memmap's
            # pages can back the tensor, and stay out of anonymous memory.
            warnings.filterwarnings("ignore", "The given NumPy array is not writable")
            shared = torch.from_numpy(array)
        return shared, None if rows is None else torch.from_numpy(rows).to(torch.long)
    n_rows = array.shape[0] if rows is None else len(rows)
    tensor = torch.empty((n_rows, *array.shape[1:]), dtype=dtype, device=device)
    on_host = tensor.numpy() if device.type == "cpu" else None
    row_nbytes = numpy_dtype.itemsize * int(np.prod(array.shape[1:]))
    for block in row_blocks(n_rows, row_nbytes):
        values = array[block] if rows is None else array[rows[block]]
        if on_host is not None:
            on_host[block] = values  # converted as it is copied: no temporary
        else:
            tensor[block] = _from_numpy(values, numpy_dtype).to(device)
    return tensor, None


def batch_indices(n_samples, batch_size, shuffle, generator, device=None):
    """Index tensors of the batches of one epoch (None means "in order").

    The permutation is drawn on the CPU (so that it depends only on the
    generator, whatever the device) and moved to ``device`` once per epoch.
    """
    order = None
    if shuffle:
        order = torch.randperm(n_samples, generator=generator).to(device or "cpu")
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        yield start, stop, (order[start:stop] if order is not None else None)


def batch_buffers(sources, batch_size):
    """One :meth:`BatchSource.buffer` per source, for :func:`get_batch`."""
    return tuple(source.buffer(batch_size) for source in sources)


def get_batch(sources, start, stop, index, buffers=None):
    """One batch: a tuple with the rows of each source (in order if ``index`` is None).

    With ``buffers`` (:func:`batch_buffers`), shuffled rows are gathered into
    them instead of new tensors: the batch is valid until the next call, so
    the caller must be done with it (backward included) by then. The values
    are the same bit for bit either way.
    """
    if index is None:
        return tuple(source.slice(start, stop) for source in sources)
    if buffers is None:
        return tuple(source.take(index) for source in sources)
    n_rows = len(index)
    return tuple(
        source.take(index, None if buffer is None else buffer[:n_rows])
        for source, buffer in zip(sources, buffers, strict=True)
    )


def inference_batch_size(row_nbytes):
    """Rows per inference batch: :data:`INFERENCE_BATCH_SIZE`, fewer for rows wider than 256 B."""
    return max(1, min(INFERENCE_BATCH_SIZE, INFERENCE_BATCH_BYTES // max(1, row_nbytes)))


@torch.no_grad()
def predict_in_batches(fn, source, batch_size=None):
    """Apply ``fn`` to the rows of ``source`` in eval mode, as a numpy array.

    The result is allocated once, when the first batch shows its shape and
    dtype, and filled batch by batch: memory grows by the result and a
    batch, not by a list of batches and their concatenation.
    """
    if source.n_samples == 0:
        raise ValueError("No rows to predict on.")
    batch_size = batch_size or inference_batch_size(source.row_nbytes)
    result = None
    for start in range(0, source.n_samples, batch_size):
        stop = min(start + batch_size, source.n_samples)
        output = fn(source.slice(start, stop)).detach().cpu().numpy()
        if result is None:
            result = np.empty((source.n_samples, *output.shape[1:]), output.dtype)
        result[start:stop] = output
    return result
