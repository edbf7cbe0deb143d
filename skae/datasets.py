"""Data sets for skae's benchmarks and examples.

- :func:`load_mnist` reads MNIST from an ``.npz`` file or the four standard
  IDX files, downloading the IDX files to a cache folder when given no path.
- :func:`make_sine_mixtures` makes signals ``a sin x + b sin 2x`` whose
  2-D basis an autoencoder with a linear decoder can recover.
"""

import gzip
import os
import struct
import urllib.error
import urllib.request
import zipfile
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["load_mnist", "make_sine_mixtures", "read_idx", "sine_basis"]

MNIST_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# Public mirror of the original files (the LeCun site now refuses scripts).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

# IDX type codes (third byte of the magic number) -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read one IDX file (optionally gzipped), the format MNIST ships in.

    Parameters
    ----------
    path : str or path-like
        File name; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    array : ndarray
        Shaped as the file's header says, in native byte order.

    Raises
    ------
    ValueError
        If the header is not an IDX header or the data is truncated.

    Examples
    --------
    A file of two 2x3 unsigned bytes: magic number ``0 0 0x08 2`` (type
    uint8, two dimensions), the dimensions as big-endian int32, the data.

    >>> import pathlib, struct, tempfile
    >>> from skae.datasets import read_idx
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx2-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 2, 3) + bytes(range(6)))
    >>> read_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            content = file.read()
    except (EOFError, gzip.BadGzipFile) as error:
        raise ValueError(
            f"{path} is not a valid gzip file (truncated, or not gzip): {error}. "
            "Download it again."
        ) from None
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(f"{path} is not an IDX file: bad magic number.")
    type_code, n_dims = content[2], content[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{path} has unknown IDX data type 0x{type_code:02x}.")
    header_size = 4 + 4 * n_dims
    if len(content) < header_size:
        raise ValueError(f"{path} is truncated: incomplete IDX header.")
    shape = struct.unpack(f">{n_dims}I", content[4:header_size])
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(content) - header_size != expected:
        raise ValueError(
            f"{path} holds {len(content) - header_size} bytes of data; its header "
            f"(shape {shape}, {dtype.name}) needs {expected}."
        )
    data = np.frombuffer(content, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _idx_file(folder, stem):
    """The IDX file ``stem`` in ``folder`` under any of its usual names, or None."""
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).exists():
            return folder / name
    return None


def _find_idx(folder, stem):
    found = _idx_file(folder, stem)
    if found is not None:
        return found
    raise FileNotFoundError(
        f"No MNIST file {stem}[.gz] in {folder}; expected the four standard IDX "
        f"files {sorted(MNIST_FILES.values())}."
    )


def _download(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for stem in MNIST_FILES.values():
        target = folder / (stem + ".gz")
        if _idx_file(folder, stem) is not None:  # there under one of its names
            continue
        partial = target.with_suffix(".gz.part")
        try:
            with urllib.request.urlopen(MNIST_URL + stem + ".gz", timeout=30) as response:
                partial.write_bytes(response.read())
        except (urllib.error.URLError, OSError) as error:
            partial.unlink(missing_ok=True)
            raise OSError(
                f"Could not download MNIST from {MNIST_URL} ({error}). If this "
                "machine is offline, pass path= to a local copy: an .npz with "
                "x_train, y_train, x_test, y_test, or a folder with the four IDX files."
            ) from error
        partial.rename(target)


def _default_cache():
    return Path(os.environ.get("SKAE_DATA", Path.home() / ".cache" / "skae")) / "mnist"


def load_mnist(path=None, *, cache_dir=None, scale=True):
    """Load MNIST: 60,000 training and 10,000 test images of handwritten digits.

    Parameters
    ----------
    path : str or path-like, default=None
        An ``.npz`` file with arrays ``x_train``, ``y_train``, ``x_test``,
        ``y_test`` (as ``keras.datasets.mnist`` saves them), or a folder
        holding the four IDX files (``train-images-idx3-ubyte[.gz]``...).
        If None, the IDX files are read from ``cache_dir``, downloaded there
        first if missing.
    cache_dir : str or path-like, default=None
        Where downloads go; default ``$SKAE_DATA/mnist`` or
        ``~/.cache/skae/mnist``.
    scale : bool, default=True
        Return images as float32 in [0, 1]: 0-255 pixels (as MNIST stores
        them) are divided by 255, and float images already in [0, 1] are
        kept as they are. If False, the images as stored (uint8 for the IDX
        files).

    Returns
    -------
    data : Bunch
        ``X_train`` (60000, 784), ``y_train`` (60000,), ``X_test`` (10000,
        784), ``y_test`` (10000,), and ``image_shape`` ``(1, 28, 28)``.

    Raises
    ------
    OSError
        If the files are missing and cannot be downloaded (offline).
    ValueError
        If ``path`` is no ``.npz`` archive or lacks one of the four arrays,
        its image and label counts differ, its two splits' images differ in
        shape, its labels are not one integer per image, or, with
        ``scale=True``, its pixels fall outside 0-255.

    Examples
    --------
    With no path, the four IDX files are downloaded once (about 11 MB)
    to the cache folder:

    >>> from skae.datasets import load_mnist
    >>> # Not run by the doctests: it downloads.
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.X_train.shape, mnist.X_test.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))

    An ``.npz`` file with the arrays of ``keras.datasets.mnist`` loads
    offline; here a stand-in of three random "images":

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mnist.npz"
    >>> images = rng.randint(0, 256, size=(3, 28, 28)).astype(np.uint8)
    >>> np.savez(path, x_train=images, y_train=np.array([5, 0, 4]),
    ...          x_test=images[:1], y_test=np.array([7]))
    >>> data = load_mnist(path)
    >>> data.X_train.shape, data.X_train.dtype, data.image_shape
    ((3, 784), dtype('float32'), (1, 28, 28))
    >>> bool(data.X_train.min() >= 0 and data.X_train.max() <= 1), data.y_test.tolist()
    (True, [7])
    """
    if not isinstance(scale, bool | np.bool_):
        raise TypeError(f"scale must be True or False, got {scale!r}.")
    if path is None:
        folder = Path(cache_dir) if cache_dir is not None else _default_cache()
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"cache_dir {folder} is a file; give a folder.")
        if any(_idx_file(folder, stem) is None for stem in MNIST_FILES.values()):
            _download(folder)
        path = folder
    path = Path(path)
    if path.is_dir():
        arrays = {key: read_idx(_find_idx(path, stem)) for key, stem in MNIST_FILES.items()}
    elif path.exists():
        if not zipfile.is_zipfile(path):  # an .npz is a zip archive
            raise ValueError(
                f"{path} is not an .npz archive: pass an .npz with x_train, y_train, "
                "x_test and y_test, or the folder that holds the four IDX files."
            )
        with np.load(path) as npz:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(npz.files)
            if missing:
                raise ValueError(f"{path} lacks the arrays {sorted(missing)}.")
            try:
                arrays = {
                    "X_train": npz["x_train"],
                    "y_train": npz["y_train"],
                    "X_test": npz["x_test"],
                    "y_test": npz["y_test"],
                }
            except ValueError as error:  # object arrays: np.load won't unpickle them
                raise ValueError(f"{path} holds arrays load_mnist cannot read: {error}") from None
    else:
        raise FileNotFoundError(f"No MNIST data at {path}.")
    image_shape = _image_shape(arrays["X_train"], path)
    if _image_shape(arrays["X_test"], path) != image_shape:
        raise ValueError(
            f"{path} holds train images of shape {arrays['X_train'].shape[1:]} but test "
            f"images of shape {arrays['X_test'].shape[1:]}: both splits must share one."
        )
    for split in ("train", "test"):
        n_images, n_labels = len(arrays[f"X_{split}"]), len(arrays[f"y_{split}"])
        if n_images != n_labels:
            raise ValueError(f"{path} holds {n_images} {split} images but {n_labels} labels.")
        if arrays[f"y_{split}"].ndim != 1:
            raise ValueError(
                f"{path} holds {split} labels of shape {arrays[f'y_{split}'].shape}: "
                "MNIST labels are one integer per image, of shape (n_images,)."
            )
        # The width from the shape, not -1: NumPy cannot infer it for 0 images.
        images = arrays[f"X_{split}"].reshape(len(arrays[f"X_{split}"]), int(np.prod(image_shape)))
        arrays[f"X_{split}"] = _unit_scaled(images, path, split) if scale else images
        arrays[f"y_{split}"] = _integer_labels(arrays[f"y_{split}"], path, split)
    return Bunch(**arrays, image_shape=image_shape)


def _integer_labels(labels, path, split):
    """``labels`` as int64 if they are integers int64 holds, else a ValueError naming them."""
    if labels.dtype.kind not in "iuf":
        raise ValueError(
            f"{path} holds {split} labels of dtype {labels.dtype}: MNIST labels are "
            "the integers 0-9."
        )
    if labels.size and labels.dtype.kind in "uf":
        # Floats must be whole and finite (inf equals its own round), and
        # both they and uint64 must fit int64: the cast wraps silently.
        whole = labels.dtype.kind == "u" or bool(
            np.all(np.isfinite(labels)) and np.array_equal(labels, np.round(labels))
        )
        # Compared as float64: 2**63 overflows float16 (a warning, then inf).
        extent = labels.astype(np.float64) if labels.dtype.kind == "f" else labels
        if not whole or extent.max() >= 2**63 or extent.min() < -(2**63):
            raise ValueError(
                f"{path} holds {split} labels from {labels.min()} to {labels.max()} "
                f"(dtype {labels.dtype}): MNIST labels are the integers 0-9."
            )
    return labels.astype(np.int64)


def _unit_scaled(images, path, split):
    """``images`` as float32 in [0, 1]: 0-255 pixels divided by 255, [0, 1] floats as they are.

    Decided by each split's own values: a float archive saved after
    scaling (``x / 255``) must not be divided again. Pixels outside 0-255
    (or NaN) are no 8-bit image that the rule could scale.
    """
    low, high = (float(np.min(images)), float(np.max(images))) if images.size else (0.0, 0.0)
    if not (low >= 0 and high <= 255):  # False for NaN too
        raise ValueError(
            f"{path} holds {split} pixel values from {low:g} to {high:g}: MNIST images are "
            "0-255 (uint8) or already scaled to [0, 1]."
        )
    already_scaled = np.issubdtype(images.dtype, np.floating) and high <= 1
    return images.astype(np.float32) / (1.0 if already_scaled else 255.0)


def _image_shape(images, path):
    """``(1, height, width)`` of (n, height, width) images, or of square flat ones."""
    if images.ndim == 3:
        return (1, *images.shape[1:])
    n_features = int(np.prod(images.shape[1:]))
    side = int(round(np.sqrt(n_features)))
    if images.ndim != 2 or side * side != n_features:
        raise ValueError(
            f"{path} holds images of shape {images.shape[1:]}: store them as "
            "(n_images, height, width), or flat when they are square."
        )
    return (1, side, side)


_FLOAT_MAX = float(np.finfo(np.float64).max)

# Five points are the fewest on which sin x and sin 2x are independent (at
# 4, sin 2x vanishes at every point of the grid).
_SINE_PARAMETERS = {"n_points": [Interval(Integral, 5, None, closed="left")]}


@validate_params(_SINE_PARAMETERS, prefer_skip_nested_validation=True)
def sine_basis(n_points=30):
    """The true basis ``[sin x, sin 2x]`` on the grid of :func:`make_sine_mixtures`.

    Parameters
    ----------
    n_points : int, default=30
        Number of samples of each signal, at least 5 (the fewest on which
        the two signals are independent).

    Returns
    -------
    basis : ndarray of shape (2, n_points)

    Examples
    --------
    >>> from skae.datasets import sine_basis
    >>> basis = sine_basis(8)
    >>> basis.shape
    (2, 8)
    >>> basis[1].round(3)  # sin 2x at 0, pi/4, ..., 7 pi/4
    array([ 0.,  1.,  0., -1.,  0.,  1.,  0., -1.])
    """
    x = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
    return np.stack([np.sin(x), np.sin(2 * x)])


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        **_SINE_PARAMETERS,
        # |a sin x + b sin 2x| <= 2 coef_range stays a finite float.
        "coef_range": [Interval(Real, 0, _FLOAT_MAX / 4, closed="neither")],
        # NumPy's normal draws stay below 40 standard deviations, so the
        # noisy signals stay below (1/2 + 40/100) of float64's largest.
        "noise": [Interval(Real, 0, _FLOAT_MAX / 100, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_sine_mixtures(
    n_samples=1000, n_points=30, *, coef_range=1.0, noise=0.0, random_state=None
):
    """Signals ``a sin x + b sin 2x`` sampled at ``n_points`` points of [0, 2 pi).

    Every signal lies in the 2-D span of ``{sin x, sin 2x}``, so an
    autoencoder with 2 code units and a linear decoder can recover that
    basis: the decoder's weight columns span it.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of signals.
    n_points : int, default=30
        Samples per signal, at least 5.
    coef_range : float, default=1.0
        ``a`` and ``b`` are drawn uniformly from ``[-coef_range, coef_range]``;
        positive, and at most a quarter of the largest float64 (the
        signals stay finite).
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to every sample; at most
        a hundredth of float64's largest value, so that samples stay finite.
    random_state : int, RandomState instance or None, default=None
        Seeds the coefficients and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, n_points)
        The signals.
    coef : ndarray of shape (n_samples, 2)
        Their true coefficients ``(a, b)``; ``X = coef @ sine_basis(n_points)``
        (plus noise).

    Examples
    --------
    >>> import numpy as np
    >>> from skae.datasets import make_sine_mixtures, sine_basis
    >>> X, coef = make_sine_mixtures(n_samples=5, n_points=30, random_state=0)
    >>> X.shape, coef.shape
    ((5, 30), (5, 2))
    >>> bool(np.allclose(X, coef @ sine_basis(30)))
    True
    """
    rng = check_random_state(random_state)
    # int(): True passes the Interval (bool is Integral) but is no NumPy size.
    coef = rng.uniform(-coef_range, coef_range, size=(int(n_samples), 2))
    X = coef @ sine_basis(n_points)
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, coef
