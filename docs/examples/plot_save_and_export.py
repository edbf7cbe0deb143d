"""
=============================================
Saving, loading and exporting a trained model
=============================================

A fitted autoencoder is shared as one file: :func:`skae.save` writes its
weights and fitted attributes to a safetensors file with a JSON header (no
pickle, so loading it runs no code), and :func:`skae.load` rebuilds the
estimator. A file written by another version of skae loads with a
:class:`~skae.SkaeVersionWarning`, which a deployment can turn
into an error (not exercised here: the file is read by the version that
wrote it). For serving without Python's scientific stack, importing
:mod:`skae.onnx` registers skl2onnx converters, and the fitted estimator,
alone as here or inside a ``Pipeline``, runs in ONNX Runtime.

The example checks each step on held-out digits: the loaded model and the
ONNX graph give the codes of the original model.
"""

import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import skae
from skae import AutoencoderTransformer, SkaeVersionWarning
from skae.plotting import plot_loss_curve

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0, stratify=y)

model = AutoencoderTransformer(
    n_components=8, max_iter=60, learning_rate="cosine", tol=0, random_state=0
).fit(X_train)
codes = model.transform(X_test)

# %%
# Save and load
# -------------
# Turning the version warning into an error makes a deployment refuse a
# file written by another version of skae instead of loading it silently.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "digits_autoencoder.skae"
    skae.save(model, path)
    print(f"file size: {path.stat().st_size / 1024:.0f} KiB")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkaeVersionWarning)
        loaded = skae.load(path)

print("loaded codes equal the original's:", np.array_equal(loaded.transform(X_test), codes))
print("epochs trained:", loaded.n_iter_)

# %%
# Export to ONNX
# --------------
# :func:`skae.onnx.register_converters` registers skae's converters with
# skl2onnx (importing :mod:`skae.onnx` already does); ONNX Runtime then
# computes the codes in float32.
from onnxruntime import InferenceSession  # noqa: E402
from skl2onnx import to_onnx  # noqa: E402

from skae.onnx import register_converters  # noqa: E402

register_converters()
graph = to_onnx(loaded, X_test[:1])
session = InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
onnx_codes = session.run(None, {session.get_inputs()[0].name: X_test})[0]
print(f"largest difference ONNX - skae: {np.abs(onnx_codes - codes).max():.1e}")

# %%
# The loaded model keeps its training history: its loss curve is the one
# the original model recorded.
print(f"loaded loss curve equals the original's: {loaded.loss_curve_ == model.loss_curve_}")
ax = plot_loss_curve(loaded)
ax.set_title("Training loss of the loaded model")
plt.show()
