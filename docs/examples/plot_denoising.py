"""
===============================
Denoising: undoing 30% masking
===============================

A denoising autoencoder (Vincent et al., 2008) is trained to reconstruct
clean digits from copies with 30% of their pixels set to zero. Given new
masked digits, it restores them better than PCA or a plain autoencoder of
the same size, both fit on clean digits.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, DenoisingAutoencoder

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)
rng = np.random.RandomState(0)
X_noisy = X_test * (rng.uniform(size=X_test.shape) >= 0.3)  # 30% masking noise

params = dict(n_components=32, hidden_layer_sizes=(128,), max_iter=300, tol=0, random_state=0)
models = {
    "PCA": PCA(32).fit(X_train),
    "plain autoencoder": AutoencoderTransformer(**params).fit(X_train),
    "denoising autoencoder": DenoisingAutoencoder(noise="masking", noise_level=0.3, **params).fit(
        X_train
    ),
}
restored = {name: m.inverse_transform(m.transform(X_noisy)) for name, m in models.items()}
for name, images in restored.items():
    print(f"{name:>22}: MSE to the clean digits {np.mean((images - X_test) ** 2):.4f}")

# %%
# Clean, masked, and restored test digits.
rows = {"clean": X_test, "masked": X_noisy, **restored}
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 1.1 * len(rows)))
for r, (name, images) in enumerate(rows.items()):
    for c in range(8):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", fontsize="small")
plt.show()
