"""``import skae`` imports no optional dependency: those wait for the code that needs them.

matplotlib is imported by the functions of skae.plotting when called,
skl2onnx by ``import skae.onnx``. pandas is already imported by
``sklearn.base`` (through ``sklearn.utils.fixes``), so the check is that skae
adds nothing to what ``import torch, sklearn.base`` imports.
benchmarks/import_cost.py measures the time.
"""

import functools
import json
import os
import subprocess
import sys

OPTIONAL = ("matplotlib", "pandas", "skl2onnx", "onnx", "onnxruntime", "mlflow", "skops", "dask")


@functools.cache
def _modules_after(code):
    """Top-level packages in ``sys.modules`` after ``code``, in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = dict(os.environ, MPLBACKEND="Agg")  # no display needed
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


def test_import_skae_imports_no_matplotlib():
    assert "matplotlib" not in _modules_after("import skae")


def test_import_skae_adds_no_optional_dependency():
    baseline = _modules_after("import torch, sklearn.base")
    with_skae = _modules_after("import torch, sklearn.base\nimport skae")
    added = (with_skae - baseline) & set(OPTIONAL)
    assert not added, f"import skae imports {sorted(added)}"


def test_plotting_imports_matplotlib_only_when_called():
    code = (
        "import sys, numpy as np\n"
        "import skae.plotting\n"
        "assert 'matplotlib' not in sys.modules\n"
        "skae.plotting.plot_embedding(np.zeros((3, 2)))"
    )
    assert "matplotlib" in _modules_after(code)
