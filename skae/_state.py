"""An estimator's state as NumPy arrays and plain Python, and back.

The one conversion behind pickling (``__getstate__``/``__setstate__``) and
:func:`skae.save`/:func:`skae.load`. The plain state is the estimator's
``__dict__`` with its torch objects replaced:

- ``module_``: the module's ``state_dict`` as ``{name: ndarray}``; the net
  itself is rebuilt from the parameters and fitted attributes
  (``_rebuild_net``), then the weights are loaded into it;
- ``_optimizer_state``: ``(solver, state_dict)`` with each tensor an ndarray;
- ``_history``: the :class:`~skae._training.History` fields, as a dict;
- a ``torch.device`` parameter: ``{"__torch_device__": "cuda:0"}``;
- ``_skae_version``: the version of skae that made the state.

Devices are strings (``device_``), so a state made on a GPU loads on a
CPU-only machine, optimizer state included.
"""

import dataclasses
import inspect

import numpy as np
import torch
from sklearn import config_context
from sklearn.utils._metadata_requests import MetadataRequest

from ._tensors import resolve_device
from ._training import History
from ._warnings import warn_at_caller
from .exceptions import SkaeVersionWarning

__all__ = ["plain_state", "restore_fitted_state", "skae_version"]

_DEVICE_TAG = "__torch_device__"
_ROUTING_TAG = "__metadata_request__"
_HISTORY_FIELDS = {field.name for field in dataclasses.fields(History)}


def skae_version():
    from . import __version__  # at call time: skae/__init__ imports this module first

    return __version__


def _map_leaves(value, leaf_type, convert):
    """``value`` with each ``leaf_type`` in it (in nested lists, tuples, dicts) converted."""
    if isinstance(value, leaf_type):
        return convert(value)
    if isinstance(value, dict):
        return {key: _map_leaves(item, leaf_type, convert) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_map_leaves(item, leaf_type, convert) for item in value)
    return value


def _tensors_to_arrays(value):
    """``value`` with every tensor in it an ndarray (a copy, on the CPU)."""
    return _map_leaves(value, torch.Tensor, lambda tensor: tensor.detach().cpu().numpy().copy())


def _arrays_to_tensors(value):
    """The inverse of :func:`_tensors_to_arrays`: every ndarray a CPU tensor."""
    # A writable copy, whatever held the array (a read-only file buffer).
    return _map_leaves(value, np.ndarray, lambda array: torch.from_numpy(np.array(array)))


def plain_state(state):
    """The estimator state ``state`` (a ``__dict__``) as NumPy arrays and plain Python.

    Returns a new dict; ``state`` is left as it was.
    """
    plain = dict(state, _skae_version=skae_version())
    for name, value in state.items():
        if isinstance(value, torch.device):
            plain[name] = {_DEVICE_TAG: str(value)}
    if isinstance(state.get("module_"), torch.nn.Module):
        plain["module_"] = _tensors_to_arrays(dict(state["module_"].state_dict()))
    if state.get("_optimizer_state") is not None:
        plain["_optimizer_state"] = _tensors_to_arrays(tuple(state["_optimizer_state"]))
    if isinstance(state.get("_history"), History):
        plain["_history"] = dataclasses.asdict(state["_history"])
    if isinstance(state.get("_metadata_request"), MetadataRequest):
        # What set_fit_request() & co. asked: {method: {parameter: request}}.
        plain["_metadata_request"] = {_ROUTING_TAG: state["_metadata_request"]._serialize()}
    return plain


def restore_fitted_state(estimator, device=None, source="This state"):
    """Turn the plain state in ``estimator.__dict__`` back into torch objects, in place.

    The net is rebuilt on ``device`` (default: the one it was fitted on,
    ``device_``, or the CPU with a warning when this machine lacks it).
    ``source`` names where the state comes from, for the messages. A state
    pickled before skae stored plain states (torch objects) loads too.
    """
    _warn_on_other_version(estimator, source)
    _add_missing_parameters(estimator)
    for name, value in vars(estimator).items():
        if isinstance(value, dict) and set(value) == {_DEVICE_TAG}:
            setattr(estimator, name, torch.device(value[_DEVICE_TAG]))
    _restore_metadata_requests(estimator, source)
    history = vars(estimator).get("_history")
    if isinstance(history, dict):
        estimator._history = History(**{k: v for k, v in history.items() if k in _HISTORY_FIELDS})
    if history is not None and "reported_validation_score" not in (
        history if isinstance(history, dict) else vars(history)
    ):  # saved before History kept it: the fitted attribute held it
        estimator._history.reported_validation_score = vars(estimator).get(
            "best_validation_score_"
        )
    if vars(estimator).get("_optimizer_state") is not None:
        estimator._optimizer_state = _arrays_to_tensors(tuple(estimator._optimizer_state))
    module = vars(estimator).get("module_")
    if module is not None:
        device = _target_device(estimator.device_, device)
        if isinstance(module, dict):
            module = _rebuilt_module(estimator, module, source)
        estimator.module_, estimator.device_ = module.to(device), str(device)


def _add_missing_parameters(estimator):
    # A state saved before a parameter existed lacks it: it takes its
    # default, the behaviour the estimator had before the parameter came.
    signature = inspect.signature(type(estimator).__init__)
    for name, parameter in signature.parameters.items():
        if parameter.default is not inspect.Parameter.empty and name not in vars(estimator):
            setattr(estimator, name, parameter.default)


def _warn_on_other_version(estimator, source):
    version = estimator.__dict__.pop("_skae_version", None)
    if version != skae_version():
        warn_at_caller(
            f"{source} was saved by skae {version or 'of an unknown version'}, and "
            f"this is skae {skae_version()}: the {type(estimator).__name__} may not "
            "load or behave as it did. Refit it, or save it again with this version.",
            SkaeVersionWarning,
        )


def _restore_metadata_requests(estimator, source):
    """Ask again, through ``set_<method>_request``, what the state's requests say."""
    requests = vars(estimator).get("_metadata_request")
    if not (isinstance(requests, dict) and set(requests) == {_ROUTING_TAG}):
        return
    del estimator._metadata_request
    with config_context(enable_metadata_routing=True):
        for method, parameters in requests[_ROUTING_TAG].items():
            # Only the class's own setters: the names come from a file.
            setter = getattr(type(estimator), f"set_{method}_request", None)
            if setter is None:
                raise ValueError(
                    f"{source} holds metadata requests for a method {method!r} that "
                    f"{type(estimator).__name__} does not have."
                )
            setter(estimator, **parameters)


def _target_device(fitted_device, requested):
    """The device to load on: ``requested``, else ``fitted_device`` or the CPU."""
    if requested is not None:
        return resolve_device(requested)
    try:
        return resolve_device(fitted_device)
    except ValueError:
        warn_at_caller(
            f"This model was trained on {fitted_device}, which is not available "
            "here; it runs on the CPU.",
            UserWarning,
        )
        return torch.device("cpu")


def _rebuilt_module(estimator, weights, source):
    """The net of ``estimator``'s fitted attributes, holding ``weights``."""
    try:
        module = estimator._rebuild_net()
        module.load_state_dict(_arrays_to_tensors(weights))
    except (RuntimeError, AttributeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{source} holds weights that do not fit the net a "
            f"{type(estimator).__name__} builds from its parameters and fitted "
            f"attributes: {error}"
        ) from None
    return module
