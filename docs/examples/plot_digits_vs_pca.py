"""
========================================
Undercomplete autoencoder vs PCA, digits
========================================

An undercomplete autoencoder squeezes each 8x8 digit through a code of
``n_components`` numbers, like PCA; with nonlinear layers it reconstructs
held-out digits better than PCA at every small code size.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer
from skae.plotting import plot_reconstructions

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)


def held_out_mse(model):
    return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)


components = [2, 4, 8, 16]
errors = {"PCA": [], "Autoencoder": []}
for k in components:
    errors["PCA"].append(held_out_mse(PCA(k).fit(X_train)))
    ae = AutoencoderTransformer(k, max_iter=300, tol=0, random_state=0).fit(X_train)
    errors["Autoencoder"].append(held_out_mse(ae))
    pca_mse, ae_mse = errors["PCA"][-1], errors["Autoencoder"][-1]
    print(f"n_components={k:2d}: PCA {pca_mse:.4f}, autoencoder {ae_mse:.4f}")

# %%
# Reconstruction error against code size.
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, values in errors.items():
    ax.plot(components, values, marker="o", label=name)
ax.set_xlabel("n_components")
ax.set_ylabel("held-out MSE per pixel")
ax.set_xticks(components)
ax.legend(fontsize="small")
plt.tight_layout()

# %%
# Test digits (top) and their reconstructions from 8 numbers each.
models = {
    "PCA": PCA(8).fit(X_train),
    "AE": AutoencoderTransformer(8, max_iter=300, tol=0, random_state=0).fit(X_train),
}
plot_reconstructions(models, X_test, n_images=10)
plt.show()
