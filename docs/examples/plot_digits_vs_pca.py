"""
========================================
Undercomplete autoencoder vs PCA, digits
========================================

An undercomplete autoencoder squeezes each 8x8 digit through a code of
``n_components`` numbers, like PCA. Here one hidden layer of 100 ReLU units,
trained for 60 epochs, reconstructs held-out digits with a lower error than
PCA at each code size tried (2, 4, 8 and 16).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer
from skae.plotting import plot_reconstructions

# sphinx_gallery_thumbnail_number = 2

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)


def held_out_mse(model):
    return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)


components = [2, 4, 8, 16]
models = {}
errors = {"PCA": [], "Autoencoder": []}
for k in components:
    # A fixed budget of 60 epochs, the learning rate annealed to 0 over it.
    models[k] = {
        "PCA": PCA(k).fit(X_train),
        "Autoencoder": AutoencoderTransformer(
            k,
            hidden_layer_sizes=(100,),
            activation="relu",
            max_iter=60,
            learning_rate="cosine",
            learning_rate_init=0.01,
            tol=0,
            random_state=0,
        ).fit(X_train),
    }
    for name, model in models[k].items():
        errors[name].append(held_out_mse(model))
    pca_mse, ae_mse = errors["PCA"][-1], errors["Autoencoder"][-1]
    print(f"n_components={k:2d}: held-out MSE, PCA {pca_mse:.4f}, autoencoder {ae_mse:.4f}")

# %%
# Reconstruction error against code size.
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
for name, values in errors.items():
    ax.plot(components, values, marker="o", label=name)
ax.set_xlabel("n_components")
ax.set_ylabel("held-out MSE per pixel")
ax.set_title("Reconstruction error of test digits")
ax.set_xticks(components)
ax.legend()

# %%
# Test digits (top) and their reconstructions from 8 numbers each.
ax = plot_reconstructions(models[8], X_test, n_images=10)
ax.set_title("Test digits and their reconstructions from 8 numbers")
plt.show()
