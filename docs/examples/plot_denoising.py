"""
===============================
Denoising: undoing 30% masking
===============================

A denoising autoencoder (Vincent et al., 2008) is trained to reconstruct
clean digits from copies with 30% of their pixels set to zero. Given new
masked test digits, its restorations are measured against the clean digits
(mean squared error), beside those of PCA and of a plain autoencoder of the
same size, both fit on clean digits: the denoising autoencoder's error is
the lowest.
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

params = dict(
    n_components=32,
    hidden_layer_sizes=(128,),
    max_iter=60,
    learning_rate="cosine",
    learning_rate_init=0.01,
    tol=0,
    random_state=0,
)
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
fig, axes = plt.subplots(len(rows), 8, figsize=(9.5, 1.2 * len(rows)), layout="constrained")
for r, (name, images) in enumerate(rows.items()):
    for c in range(8):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize="small")
fig.suptitle("Test digits with 30% of pixels masked, and their restorations")
plt.show()
