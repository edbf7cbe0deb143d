"""Regenerate the intersphinx inventories shipped in ``docs/_inventories/``.

The documentation links to Python, NumPy, SciPy, scikit-learn, PyTorch,
matplotlib, skops and skl2onnx, offline: the build never fetches an
``objects.inv`` (CI reaches package registries only), it reads the files
this script writes. Run it from the repository root after upgrading a
dependency whose new names the docs use::

    apt-get install python3-doc python-scipy-doc python-sklearn-doc  # Debian
    .venv/bin/python docs/build_inventories.py

Where an inventory comes from:

- Python, SciPy: the real inventories of Debian's documentation packages
  (``/usr/share/doc/*/html/objects.inv``; older releases, the same URLs),
  Python and SciPy objects only (no page labels), to keep them small.
- scikit-learn: Debian's real inventory (objects and the glossary terms),
  plus every public class and function of the installed scikit-learn that
  it lacks, at the site's URL pattern.
- NumPy, PyTorch, matplotlib, skops, skl2onnx: built from the installed
  packages' public names and each site's URL pattern (these sites' pages are
  named after the objects, so the links land on the right page).

A missing Debian package leaves that project's shipped inventory as it is.
"""

import glob
import importlib
import inspect
import sys
from pathlib import Path

import sphobjinv as soi

OUT = Path(__file__).parent / "_inventories"


def _new(project, version):
    inv = soi.Inventory()
    inv.project, inv.version = project, version
    return inv


def _add(inv, name, role, uri, domain="py", dispname="-"):
    # "$" in ``uri`` stands for the name (page and anchor are named after the
    # object); the written file shortens a trailing name back to "$".
    uri = uri.replace("$", name)
    inv.objects.append(
        soi.DataObjStr(
            name=name, domain=domain, role=role, priority="1", uri=uri, dispname=dispname
        )
    )


def _write(inv, name):
    path = OUT / f"{name}.inv"
    soi.writebytes(path, soi.compress(inv.data_file(contract=True)))
    print(f"{path}: {len(inv.objects)} objects, {path.stat().st_size // 1024} KiB")


def _debian(pattern):
    found = sorted(glob.glob(pattern))
    if not found:
        print(f"skipped: no {pattern} (install Debian's doc package)", file=sys.stderr)
        return None
    return soi.Inventory(found[-1])


def _filtered(src, keep):
    inv = _new(src.project, src.version)
    inv.objects.extend(o for o in src.objects if keep(o))
    return inv


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    for name in sorted(set(names)):
        try:
            obj = getattr(module, name, None)
        except ImportError:  # experimental (sklearn's halving searches)
            continue
        if obj is not None and not inspect.ismodule(obj):
            yield name, obj


def _role(obj):
    return "class" if inspect.isclass(obj) else "function"


def _methods(cls):
    return sorted(n for n, v in vars(cls).items() if not n.startswith("_") and callable(v))


def python():
    src = _debian("/usr/share/doc/python3*/html/objects.inv")
    if src:
        # numpydoc links "bool" to the label bltin-boolean-values.
        labels = {"bltin-boolean-values"}
        inv = _filtered(src, lambda o: o.domain == "py" or o.role == "term" or o.name in labels)
        _write(inv, "python")


def scipy():
    src = _debian("/usr/share/doc/python-scipy-doc/html/objects.inv")
    if src:
        _write(_filtered(src, lambda o: o.domain == "py"), "scipy")


def sklearn():
    import sklearn as sk

    src = _debian("/usr/share/doc/python-sklearn-doc/html/objects.inv")
    if src is None:
        return
    inv = _filtered(src, lambda o: o.domain == "py" or o.role == "term")
    inv.version = sk.__version__
    known = {o.name for o in inv.objects}
    for modname in sk.__all__:
        if modname.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"sklearn.{modname}")
        except ImportError:
            continue
        if not inspect.ismodule(module):
            continue
        for name, obj in _public(module):
            full = f"sklearn.{modname}.{name}"
            if full in known or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not obj.__module__.startswith(module.__name__):
                continue  # documented where it is defined (FrozenEstimator)
            page = f"modules/generated/{full}.html"
            _add(inv, full, _role(obj), page + "#$")
            if inspect.isclass(obj):
                for meth in _methods(obj):
                    _add(inv, f"{full}.{meth}", "method", f"{page}#$")
    _write(inv, "sklearn")


def numpy():
    import numpy as np

    inv = _new("NumPy", np.__version__)
    ref = "reference/"
    special = {
        "ndarray": "class",
        "dtype": "class",
        "memmap": "class",
        "generic": "class",
    }
    for name, obj in _public(np):
        if inspect.isclass(obj) and issubclass(obj, np.generic) and name != "generic":
            _add(inv, f"numpy.{name}", "class", f"{ref}arrays.scalars.html#$")
        elif name in special or callable(obj):
            _add(inv, f"numpy.{name}", special.get(name, _role(obj)), f"{ref}generated/$.html#$")
    for meth in _methods(np.ndarray):
        _add(inv, f"numpy.ndarray.{meth}", "method", f"{ref}generated/$.html#$")
    for name, obj in _public(np.random):
        if name in ("Generator", "default_rng"):
            uri = f"{ref}random/generator.html#$"
        elif name == "RandomState":
            uri = f"{ref}random/legacy.html#$"
        else:
            uri = f"{ref}random/generated/$.html#$"
        _add(inv, f"numpy.random.{name}", _role(obj), uri)
    _add(inv, "numpy.typing.ArrayLike", "data", f"{ref}typing.html#$")
    _add(inv, "numpy.typing.NDArray", "data", f"{ref}typing.html#$")
    for term in ("array_like", "array", "dtype", "ndarray", "view"):
        _add(inv, term, "term", "glossary.html#term-$", domain="std")
    _write(inv, "numpy")


def torch():
    import torch as th
    import torch.nn.functional as F

    inv = _new("PyTorch", th.__version__.split("+")[0])
    attrs = {"device", "dtype", "layout", "memory_format"}
    for name in sorted(attrs):
        _add(inv, f"torch.{name}", "class", "tensor_attributes.html#$")
    _add(inv, "torch.Tensor", "class", "tensors.html#$")
    for meth in _methods(th.Tensor):
        _add(inv, f"torch.Tensor.{meth}", "method", "generated/$.html#$")
    for name in th.__all__:
        obj = getattr(th, name, None)
        if name.startswith("_") or name in attrs or name == "Tensor" or obj is None:
            continue
        if inspect.isclass(obj) or callable(obj):
            _add(inv, f"torch.{name}", _role(obj), "generated/$.html#$")
    for name, obj in _public(th.nn):
        if inspect.isclass(obj) and issubclass(obj, th.nn.Module):
            _add(inv, f"torch.nn.{name}", "class", "generated/$.html#$")
    for meth in _methods(th.nn.Module):
        _add(inv, f"torch.nn.Module.{meth}", "method", "generated/torch.nn.Module.html#$")
    _add(inv, "torch.nn.Parameter", "class", "generated/$.html#$")
    for name, obj in _public(F):
        if inspect.isfunction(obj) or inspect.isbuiltin(obj):
            _add(inv, f"torch.nn.functional.{name}", "function", "generated/$.html#$")
    _add(inv, "torch.optim.Optimizer", "class", "optim.html#$")
    for name, obj in _public(th.optim):
        if inspect.isclass(obj) and issubclass(obj, th.optim.Optimizer) and name != "Optimizer":
            _add(inv, f"torch.optim.{name}", "class", "generated/$.html#$")
    for name, obj in _public(th.optim.lr_scheduler):
        if inspect.isclass(obj) and obj.__module__ == "torch.optim.lr_scheduler":
            _add(inv, f"torch.optim.lr_scheduler.{name}", "class", "generated/$.html#$")
    for name in ("DataLoader", "Dataset", "TensorDataset"):
        _add(inv, f"torch.utils.data.{name}", "class", "data.html#$")
    _write(inv, "torch")


def matplotlib():
    import matplotlib as mpl
    import matplotlib.axes
    import matplotlib.figure
    import matplotlib.pyplot as plt

    inv = _new("Matplotlib", mpl.__version__)
    _add(inv, "matplotlib.axes.Axes", "class", "api/_as_gen/matplotlib.axes.Axes.html#$")
    for meth in _methods(matplotlib.axes.Axes):
        _add(inv, f"matplotlib.axes.Axes.{meth}", "method", "api/_as_gen/$.html#$")
    _add(inv, "matplotlib.figure.Figure", "class", "api/_as_gen/matplotlib.figure.Figure.html#$")
    for name, obj in _public(plt):
        if inspect.isfunction(obj) and obj.__module__ == "matplotlib.pyplot":
            _add(inv, f"matplotlib.pyplot.{name}", "function", "api/_as_gen/$.html#$")
    _write(inv, "matplotlib")


def skops():
    import skops.io

    inv = _new("skops", getattr(importlib.import_module("skops"), "__version__", ""))
    for name, obj in _public(skops.io):
        _add(inv, f"skops.io.{name}", _role(obj), "modules/classes.html#$")
    _write(inv, "skops")


def skl2onnx():
    import skl2onnx as so

    inv = _new("sklearn-onnx", so.__version__)
    for name in ("convert_sklearn", "to_onnx", "update_registered_converter", "get_model_alias"):
        _add(inv, f"skl2onnx.{name}", "function", "api_summary.html#$")
    _write(inv, "skl2onnx")


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for build in (python, scipy, sklearn, numpy, torch, matplotlib, skops, skl2onnx):
        build()
