"""Safe persistence: :func:`save` and :func:`load`, one safetensors file per model.

The file is a plain `safetensors <https://huggingface.co/docs/safetensors>`_
file. Its tensors are every array of the estimator's state (module weights
and buffers, optimizer state, NumPy fitted attributes such as ``mean_``),
named by where they sit in the state (``module_/encoder.0.weight``). Its
string metadata holds:

- ``format``: ``"skae"``, and ``format_version``: ``"major.minor"``;
- ``estimator``: the class, one of skae's estimators (an allow-list);
- ``skae_version``: the skae that wrote it;
- ``state``: the parameters and fitted attributes as JSON, arrays as
  ``{"__array__": name}``, non-finite floats as ``{"__float__": "nan"}``,
  tuples, non-string dict keys and ``RandomState`` parameters tagged too;
- ``checksum``: the SHA-256 of all of the above and of every tensor.

Loading parses JSON and copies tensor bytes, nothing else: no code runs.
The state is the one pickling uses (see ``_state.py``).
"""

import hashlib
import inspect
import json
import math
import os
from collections.abc import Iterable

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from ._autoencoder import AutoencoderTransformer
from ._denoising import DenoisingAutoencoder
from ._stacked import StackedAutoencoderClassifier
from ._state import plain_state, restore_fitted_state
from ._tensors import resolve_device
from ._variational import VariationalAutoencoder
from ._warnings import warn_at_caller
from .exceptions import SkaeVersionWarning

__all__ = ["load", "save"]

FORMAT_VERSION = (1, 0)
_ESTIMATORS = {
    f"skae.{cls.__name__}": cls
    for cls in (
        AutoencoderTransformer,
        DenoisingAutoencoder,
        StackedAutoencoderClassifier,
        VariationalAutoencoder,
    )
}
_TAGS = ("__array__", "__float__", "__tuple__", "__dict__", "__random_state__", "__scalar__")
# Arrays of these kinds go to safetensors; others (strings, objects) to JSON.
_TENSOR_KINDS = "biuf"


def _class_name(cls):
    """The name a file records for ``cls``: ``skae.<Name>`` for skae's own."""
    if _ESTIMATORS.get(f"skae.{cls.__name__}") is cls:
        return f"skae.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


# ----------------------------------------------------------------- encoding


def _encode(value, arrays, path):
    """``value`` as JSON-ready data; its numeric arrays go into ``arrays``."""
    if isinstance(value, np.generic):  # before float: np.float64 is a float
        return {"__scalar__": _encode(value.item(), arrays, path), "dtype": value.dtype.str}
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _TENSOR_KINDS:
            name = path if path not in arrays else f"{path}#{len(arrays)}"  # unique
            # Native byte order: safetensors stores little-endian, and the
            # checksum must hash the bytes that load will read back.
            arrays[name] = np.array(value, dtype=value.dtype.newbyteorder("="), order="C")
            return {"__array__": name}
        items = [_encode(item, arrays, path) for item in value.ravel().tolist()]
        return {"__array__": items, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, tuple | list):
        items = [_encode(item, arrays, _join(path, i)) for i, item in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("__") for key in value):
            return {key: _encode(item, arrays, _join(path, key)) for key, item in value.items()}
        return {
            "__dict__": [
                [_encode(key, arrays, path), _encode(item, arrays, _join(path, key))]
                for key, item in value.items()
            ]
        }
    if isinstance(value, np.random.RandomState):
        return {"__random_state__": _encode(value.get_state(), arrays, path)}
    raise TypeError(
        f"{path!r} is a {type(value).__name__}, which skae.save cannot store as JSON "
        "or tensors. Save this estimator with pickle (or joblib) instead."
    )


def _join(path, key):
    """The name of item ``key`` of ``path``: the tensor names in the file."""
    return f"{path}/{key}" if path else str(key)


def _decode(value, arrays):
    """The inverse of :func:`_encode`, ``arrays`` holding the file's tensors."""
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    tag = next((key for key in _TAGS if key in value), None)
    if tag is None:
        return {key: _decode(item, arrays) for key, item in value.items()}
    content = value[tag]
    if tag == "__array__":
        if isinstance(content, str):
            return arrays[content]
        items = [_decode(item, arrays) for item in content]
        return np.array(items, dtype=np.dtype(value["dtype"])).reshape(value["shape"])
    if tag == "__float__":
        return float(content)
    if tag == "__scalar__":
        return np.dtype(value["dtype"]).type(_decode(content, arrays))
    if tag == "__tuple__":
        return tuple(_decode(item, arrays) for item in content)
    if tag == "__dict__":
        return {_decode(key, arrays): _decode(item, arrays) for key, item in content}
    random_state = np.random.RandomState()
    random_state.set_state(_decode(content, arrays))
    return random_state


def _checksum(metadata, arrays):
    """SHA-256 of the metadata (but the checksum) and of every array's bytes."""
    digest = hashlib.sha256()
    fields = {key: item for key, item in metadata.items() if key != "checksum"}
    digest.update(json.dumps(fields, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.array(arrays[name], order="C")
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _write_file(path, metadata, arrays):
    """Write ``arrays`` and ``metadata`` (checksummed here) as one safetensors file."""
    if os.path.isdir(path) or path.endswith(_SEPARATORS):
        raise IsADirectoryError(
            f"skae.save cannot write {path}: it names a folder. Give a file name, such as "
            f"{os.path.join(path, 'model.skae')}."
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        above = next((p for p in (folder, *_parents(folder)) if os.path.exists(p)), None)
        if above is not None and not os.path.isdir(above):
            raise NotADirectoryError(
                f"skae.save cannot write {path}: {above} is a file, not a folder."
            )
        raise FileNotFoundError(
            f"skae.save cannot write {path}: the folder {folder} does not exist."
        )
    metadata = dict(metadata, checksum=_checksum(metadata, arrays))
    try:
        save_file(arrays, path, metadata=metadata)
    except SafetensorError as error:  # not an OSError, and names a temporary file
        raise OSError(f"skae.save cannot write {path}: {error}") from None


_SEPARATORS = tuple(filter(None, (os.sep, os.altsep)))


def _parents(path):
    """The folders above ``path``, nearest first, up to the root."""
    while (parent := os.path.dirname(path)) != path:
        yield parent
        path = parent


def _path_string(path, caller):
    """``path`` (str, bytes or path-like) as a str: safetensors takes str paths only."""
    try:
        path = os.fsdecode(path)
    except TypeError:
        raise TypeError(
            f"{caller} takes a file path (str or path-like), got {type(path).__name__} "
            f"{path!r:.100}."
        ) from None
    if not path:
        raise ValueError(f"{caller} takes a file path, got an empty one.")
    return path


# -------------------------------------------------------------------- save


def save(estimator, path):
    """Save a skae estimator to ``path``, as safetensors and JSON only.

    Tensors (module weights and buffers, optimizer state, NumPy fitted
    attributes) go into one safetensors file whose metadata holds the
    parameters and the other fitted attributes as JSON, a format version
    and a SHA-256 checksum. :func:`load` reads it back without running any
    code, with the same outputs and optimizer state: ``partial_fit`` or a
    ``warm_start`` fit goes on exactly as it would have. An unfitted
    estimator saves its parameters only.

    Parameters
    ----------
    estimator : estimator
        A skae estimator, fitted or not. One with a callable
        ``architecture`` cannot be saved this way (its modules are Python
        code): pickle it instead.
    path : str or path-like
        The file to write (``.skae`` is a good suffix); it is replaced if
        it exists.

    Raises
    ------
    TypeError
        If the estimator is not one of skae's, has a callable
        ``architecture``, or holds a value that is neither JSON nor an array.
    IsADirectoryError, FileNotFoundError, NotADirectoryError
        If ``path`` names a folder (or ends with a separator), its folder
        does not exist, or a file stands where a folder of it should be.

    See Also
    --------
    load : Load the estimator back.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> import skae
    >>> X = np.random.RandomState(0).rand(50, 6)
    >>> model = skae.AutoencoderTransformer(
    ...     2, hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    >>> model = model.fit(X)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.skae"
    >>> skae.save(model, path)
    >>> loaded = skae.load(path)
    >>> bool(np.array_equal(loaded.transform(X), model.transform(X)))
    True
    """
    if isinstance(estimator, type):
        raise TypeError(
            f"skae.save saves an estimator, got the class {estimator.__name__} itself: "
            f"save an instance, such as {estimator.__name__}(...).fit(X)."
        )
    cls = type(estimator)
    if not hasattr(cls, "_rebuild_net"):
        raise TypeError(
            f"skae.save saves skae estimators, got a {cls.__name__}: call "
            "skae.save(estimator, path)."
        )
    path = _path_string(path, "skae.save")
    if callable(getattr(estimator, "architecture", None)):
        raise TypeError(
            f"skae.save cannot save this {cls.__name__} to {path}: its architecture is "
            f"a callable ({estimator.architecture!r}), Python code that a safe file "
            "does not hold. Save it with pickle (or joblib) instead, the callable "
            "defined at the top level of an importable module."
        )
    arrays = {}
    try:
        state = _encode(plain_state(vars(estimator)), arrays, "")
    except TypeError as error:
        raise TypeError(f"skae.save cannot save this {cls.__name__} to {path}: {error}") from None
    from . import __version__

    metadata = {
        "format": "skae",
        "format_version": "{}.{}".format(*FORMAT_VERSION),
        "estimator": _class_name(cls),
        "skae_version": __version__,
        "state": json.dumps(state, allow_nan=False),
    }
    _write_file(path, metadata, arrays)


# -------------------------------------------------------------------- load


def load(path, device=None, *, trusted=()):
    """Load an estimator that :func:`save` wrote.

    Only JSON is parsed and tensor bytes copied: no code from the file
    runs, and the class is one of skae's estimators (or of ``trusted``),
    never imported by name. The net is rebuilt from the parameters and
    fitted attributes, then its weights and the optimizer's state load.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str or torch.device, default=None
        Where the model runs (``"cpu"``, ``"cuda"``...). By default, the
        device it was fitted on, or the CPU, with a warning, when this
        machine does not have it. The ``device`` parameter is kept as
        saved: it applies to the next ``fit`` from scratch.
    trusted : sequence of classes, default=()
        Estimator classes of your own (subclasses of skae's) that the file
        may hold, besides skae's estimators.

    Returns
    -------
    estimator : estimator
        The saved estimator, fitted if it was.

    Raises
    ------
    ValueError
        If the file is not a skae model, is corrupted or truncated (its
        checksum does not match), has another major format version, or
        holds a state no ``save`` writes (an edited file: a checksum shows
        a file intact, and anyone can recompute it) that skae can tell:
        names that are no attributes, weights that do not fit the net,
        fitted attributes that disagree with the net's outputs (edited
        values, such as ``mean_``, go unnoticed); or if ``device`` names no
        device of this machine.
    TypeError
        If ``trusted`` is not a list of estimator classes.
    IsADirectoryError, FileNotFoundError
        If ``path`` is a folder, or no file is there.

    Warns
    -----
    SkaeVersionWarning
        If the file comes from another skae version, or another minor
        version of the file format.

    See Also
    --------
    save : Save an estimator.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import skae
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "unfitted.skae"
    >>> skae.save(skae.VariationalAutoencoder(n_components=3), path)
    >>> skae.load(path, device="cpu")
    VariationalAutoencoder(n_components=3)
    """
    path = _path_string(path, "skae.load")
    if device is not None:
        resolve_device(device)  # refused even when no net is there to move
    metadata, arrays = _read_file(path)
    cls = _trusted_class(metadata["estimator"], trusted, path)
    try:
        state = _decode(json.loads(metadata["state"]), arrays)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path} holds an unreadable estimator state: {error}") from None
    estimator = cls.__new__(cls)
    estimator.__dict__.update(_checked_state(state, cls, path))
    try:
        restore_fitted_state(estimator, device, source=path)
    except (TypeError, AttributeError, KeyError) as error:
        raise ValueError(
            f"{path} holds an estimator state skae cannot restore: {error}"
        ) from error
    _check_output_widths(estimator, path)
    return estimator


def _check_output_widths(estimator, path):
    """A ValueError naming ``path`` if the codes' width is not ``n_components_``.

    The autoencoders' nets are rebuilt from the parameters they were built
    with, so an edited ``n_components_`` would otherwise load, and
    ``transform`` and ``get_feature_names_out`` disagree. (An edited
    ``n_features_in_`` or ``classes_`` changes the net rebuilt, and fails as
    the weights load.) One float32 row of zeros through the net's encoder
    measures the width: not through ``transform``, which a trusted subclass
    may override, and not in float64, which would copy the net.
    """
    if vars(estimator).get("module_") is None or not hasattr(estimator, "n_components_"):
        return
    row = np.zeros((1, estimator.n_features_in_), np.float32)
    try:
        width = estimator._infer(lambda module, batch: module.encode(batch), row).shape[1]
    except (ValueError, TypeError, RuntimeError) as error:
        raise ValueError(
            f"{path} holds a net its fitted attributes cannot run: {error}"
        ) from error
    if width != estimator.n_components_:
        raise ValueError(
            f"{path} holds fitted attributes that disagree with its net: n_components_ "
            f"says {estimator.n_components_} codes, the net gives {width}."
        )


def _checked_state(state, cls, path):
    """``state``, if it can be a ``cls``'s; a ValueError naming ``path`` otherwise.

    The checksum shows the file intact, not well formed: anyone who edits
    the file can recompute it. So the state must name attributes only, none
    of them code of the class; hold no parameter of another skae estimator
    that ``cls`` lacks (a state relabelled as another class); and hold the
    net when it holds fitted attributes.
    """
    if not isinstance(state, dict) or not all(isinstance(name, str) for name in state):
        raise ValueError(f"{path} holds an estimator state that is not a mapping of names.")
    clashing = sorted(name for name in state if _is_code_of(cls, name))
    if clashing:
        raise ValueError(
            f"{path} holds a state that would replace {cls.__name__}'s own {clashing}."
        )
    others = set().union(*(other._get_param_names() for other in _ESTIMATORS.values()))
    foreign = sorted((others - set(cls._get_param_names())) & set(state))
    if foreign:
        raise ValueError(
            f"{path} holds parameters {foreign} that {cls.__name__} does not have: "
            "the state of another estimator class."
        )
    fitted = any(name.endswith("_") and not name.startswith("_") for name in state)
    if fitted and not {"module_", "device_"} <= set(state):
        raise ValueError(
            f"{path} holds a fitted {cls.__name__} without its net (module_ and device_)."
        )
    return state


def _is_code_of(cls, name):
    """Whether ``name`` is a special name, or names a method, property or other descriptor."""
    if name.startswith("__") and name.endswith("__"):
        return True
    attribute = inspect.getattr_static(cls, name, None)
    return hasattr(type(attribute), "__get__")  # plain class-level defaults have none


def _read_file(path):
    """The metadata and arrays of the skae file ``path``, checked.

    Refuses, with a ValueError naming ``path``, a file that safetensors
    cannot parse (truncated, damaged header), that is not a skae model, of
    another major format version, or whose checksum does not match.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder: pass the path of a file saved by skae.save.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No skae model file at {path}.")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{path} exists, but this process may not read it.")
    try:
        with safe_open(path, framework="np") as file:
            metadata = file.metadata() or {}
            arrays = {name: file.get_tensor(name) for name in file.keys()}
    except Exception as error:  # safetensors raises its own error types
        raise ValueError(
            f"{path} is not a readable skae model file ({_what_else(path)}): {error}"
        ) from None
    if metadata.get("format") != "skae":
        raise ValueError(
            f"{path} is a safetensors file, but not a model saved by skae.save "
            "(or its header is corrupted: it has no skae format marker)."
        )
    version = metadata.get("format_version", "")
    major, _, minor = version.partition(".")
    if major != str(FORMAT_VERSION[0]):
        raise ValueError(
            f"{path} has skae file format version {version}, and this skae reads format "
            f"{FORMAT_VERSION[0]}.x only: load it with the skae version that saved it "
            f"({metadata.get('skae_version', 'unknown')})."
        )
    if metadata.get("checksum") != _checksum(metadata, arrays):
        raise ValueError(
            f"{path} is corrupted: its content does not match its SHA-256 checksum. "
            "Use an intact copy of the file."
        )
    missing = sorted({"estimator", "state"} - set(metadata))
    if missing:  # intact (its checksum matches), so written or edited by another tool
        raise ValueError(
            f"{path} is a skae model file without its {' and '.join(missing)} field: "
            "it was not written by skae.save, or was edited since."
        )
    if minor != str(FORMAT_VERSION[1]):
        warn_at_caller(
            f"{path} has skae file format version {version}, and this skae writes "
            "{}.{}: it loads, but check the model before relying on it.".format(*FORMAT_VERSION),
            SkaeVersionWarning,
        )
    return metadata, arrays


def _what_else(path):
    """What the unreadable file ``path`` seems to be, by its first bytes."""
    with open(path, "rb") as file:
        start = file.read(4)
    if start[:1] == b"\x80":  # the PROTO opcode that starts pickles of protocol 2 and up
        return "it looks like a pickle: load it with pickle.load, from a source you trust"
    if start == b"PK\x03\x04":
        return "it looks like a zip file, as skops.io.dump writes: load it with skops.io.load"
    return "truncated or corrupted?"


def _trusted_class(name, trusted, path):
    """The estimator class ``name`` names: one of skae's or of ``trusted``."""
    if isinstance(trusted, Iterable) and not isinstance(trusted, str | type):
        trusted = tuple(trusted)  # a generator is read once
    if not isinstance(trusted, tuple) or not all(isinstance(cls, type) for cls in trusted):
        raise TypeError(
            f"trusted={trusted!r} must be a list of estimator classes (the classes "
            "themselves, not their names), such as trusted=[MyAutoencoder]."
        )
    allowed = dict(_ESTIMATORS)
    allowed.update((_class_name(cls), cls) for cls in trusted)
    if name not in allowed:
        raise ValueError(
            f"{path} holds a {name}, which is not one of skae's estimators "
            f"({', '.join(sorted(_ESTIMATORS))}). If you trust that class, pass it as "
            "skae.load(..., trusted=[TheClass])."
        )
    cls = allowed[name]
    if not hasattr(cls, "_rebuild_net"):
        raise TypeError(f"trusted={list(trusted)!r} must hold skae estimator classes only.")
    return cls
