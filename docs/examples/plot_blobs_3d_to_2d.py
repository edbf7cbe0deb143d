"""
=====================================
Projecting 3-D blobs to 2-D, linearly
=====================================

Two clusters in 3-D (``make_blobs`` with 2 centers) projected to 2-D for
display: a linear autoencoder finds the same plane as PCA, and in both
projections the clusters stay apart.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from skae import AutoencoderTransformer

X, y = make_blobs(n_samples=300, n_features=3, centers=2, cluster_std=1.5, random_state=0)

fig = plt.figure(figsize=(12, 4))
ax = fig.add_subplot(1, 3, 1, projection="3d")
ax.scatter(*X.T, c=y, cmap="coolwarm", s=8)
ax.set_title("3-D data")

projections = {
    "PCA": PCA(2).fit_transform(X),
    "linear autoencoder": AutoencoderTransformer(
        2, hidden_layer_sizes=(), activation="identity", solver="lbfgs", random_state=0
    ).fit_transform(X),
}
for i, (name, codes) in enumerate(projections.items(), start=2):
    score = silhouette_score(codes, y)
    print(f"{name}: silhouette of the two clusters in 2-D = {score:.2f}")
    ax = fig.add_subplot(1, 3, i)
    ax.scatter(*codes.T, c=y, cmap="coolwarm", s=8)
    ax.set_title(f"{name} (silhouette {score:.2f})")
plt.show()
