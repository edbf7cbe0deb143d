"""Data on the device: device names, batch sources, inference in batches.

Torch only. Training data is held as whole tensors and batches are taken by
slicing a permuted index (no per-sample ``DataLoader``); scipy.sparse data
stays sparse on the host and is densified one batch at a time.
"""

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["BatchSource", "batch_indices", "get_batch", "predict_in_batches", "resolve_device"]

# Inference needs no gradients, so it can use bigger batches than training.
INFERENCE_BATCH_SIZE = 4096


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


class BatchSource:
    """Rows of one array, served as float32 tensors on ``device``.

    A dense array is moved to the device once; a scipy.sparse matrix stays
    sparse on the host and only the requested rows are densified.

    Parameters
    ----------
    data : ndarray or scipy.sparse matrix of shape (n_samples, ...)
    device : torch.device
    dtype : torch.dtype, default=torch.float32
        ``torch.long`` for class labels.

    """

    def __init__(self, data, device, dtype=torch.float32):
        self.device = device
        self.dtype = dtype
        self.n_samples = data.shape[0]
        if sp.issparse(data):
            self._sparse = sp.csr_matrix(data)
            self._tensor = None
        else:
            self._sparse = None
            self._tensor = _to_tensor(data, device, dtype)

    def take(self, index):
        """Rows at ``index`` (a 1-D LongTensor, best already on ``device``)."""
        if self._tensor is not None:
            return self._tensor.index_select(0, index.to(self.device))
        rows = self._sparse[index.cpu().numpy()].toarray()
        return torch.from_numpy(rows).to(self.device, self.dtype)

    def slice(self, start, stop):
        """Rows ``start:stop`` in order (a view for dense data)."""
        if self._tensor is not None:
            return self._tensor[start:stop]
        rows = self._sparse[start:stop].toarray()
        return torch.from_numpy(rows).to(self.device, self.dtype)


def _to_tensor(array, device, dtype):
    array = np.asarray(array)
    numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
    # Share memory when we can; copy read-only arrays (memmaps), which torch
    # cannot wrap without warning, and anything of another dtype.
    if array.dtype != numpy_dtype or not array.flags.writeable:
        array = np.array(array, dtype=numpy_dtype, order="C")
    else:
        array = np.ascontiguousarray(array)
    return torch.from_numpy(array).to(device)


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


def get_batch(sources, start, stop, index):
    """One batch: a tuple with the rows of each source (in order if ``index`` is None)."""
    if index is None:
        return tuple(source.slice(start, stop) for source in sources)
    return tuple(source.take(index) for source in sources)


@torch.no_grad()
def predict_in_batches(fn, source, batch_size=INFERENCE_BATCH_SIZE):
    """Apply ``fn`` to the rows of ``source`` in eval mode, as a numpy array."""
    outputs = []
    for start in range(0, source.n_samples, batch_size):
        stop = min(start + batch_size, source.n_samples)
        outputs.append(fn(source.slice(start, stop)).detach().cpu())
    if not outputs:
        raise ValueError("No rows to predict on.")
    return torch.cat(outputs).numpy()
