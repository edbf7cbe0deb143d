"""
==================================================
Recovering the basis {sin x, sin 2x} in a decoder
==================================================

Every signal ``a sin x + b sin 2x`` (30 samples) lies in a 2-D subspace.
An autoencoder with 2 code units and a linear decoder can only reconstruct
what lies in the span of its decoder's weight columns, so a perfect fit
forces that span to be span{sin x, sin 2x}. The principal angles between the
two subspaces measure it: 0 degrees means the same plane.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles

from skae import AutoencoderTransformer
from skae.datasets import make_sine_mixtures, sine_basis

X, coef = make_sine_mixtures(500, n_points=30, random_state=0)
ae = AutoencoderTransformer(
    2, hidden_layer_sizes=(), activation="identity", solver="lbfgs", max_iter=50, random_state=0
).fit(X)

decoder = ae.module_.decoder[0].weight.detach().numpy()  # (30, 2): one column per code unit
true_basis = sine_basis(30)  # (2, 30)
angles = np.degrees(subspace_angles(decoder, true_basis.T))
print("principal angles (degrees):", np.array2string(angles, precision=5))

# %%
# The decoder's columns are some basis of the plane, not necessarily the sines
# themselves: express the true basis in them (least squares) to compare.
weights, *_ = np.linalg.lstsq(decoder, true_basis.T, rcond=None)
fitted = decoder @ weights
x = np.linspace(0, 2 * np.pi, 30, endpoint=False)
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for i, label in enumerate(["sin x", "sin 2x"]):
    colour = f"C{i}"
    ax.plot(x, true_basis[i], "o", color=colour, mfc="none", label=f"{label} (true)")
    ax.plot(x, fitted[:, i], "-", color=colour, label=f"{label} from decoder columns")
ax.set_xlabel("x")
ax.set_title(f"largest principal angle {angles.max():.2g} degrees")
ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()
