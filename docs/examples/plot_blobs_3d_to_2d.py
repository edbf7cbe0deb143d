"""
=====================================
Projecting 3-D blobs to 2-D, linearly
=====================================

Two clusters in 3-D (``make_blobs`` with 2 centers) projected to 2-D for
display, by PCA and by a linear autoencoder (no hidden layer, identity
activations). The principal angles between PCA's plane and the plane
spanned by the decoder's weight columns measure whether the two projections
are onto the same plane (0 degrees: the same; here they agree within
about 0.0001 degrees); the silhouette score measures how well the two
clusters stay apart in each projection. Within the plane the autoencoder's
code units are some basis, not PCA's orthonormal one ordered by variance,
so its picture is (nearly) an affine transform of PCA's.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from skae import AutoencoderTransformer

X, y = make_blobs(n_samples=300, n_features=3, centers=2, cluster_std=1.5, random_state=0)

pca = PCA(2).fit(X)
ae = AutoencoderTransformer(
    2, hidden_layer_sizes=(), activation="identity", solver="lbfgs", random_state=0
).fit(X)
decoder = ae.module_.decoder[0].weight.detach().numpy()  # (3, 2): one column per code unit
angles = np.degrees(subspace_angles(decoder, pca.components_.T))
print("principal angles between the two planes (degrees):", np.array2string(angles, precision=3))

fig = plt.figure(figsize=(12, 4), layout="constrained")
ax = fig.add_subplot(1, 3, 1, projection="3d")
ax.scatter(*X.T, c=y, cmap="coolwarm", s=8)
ax.set_title("3-D data")

projections = {"PCA": pca.transform(X), "linear autoencoder": ae.transform(X)}
for i, (name, codes) in enumerate(projections.items(), start=2):
    score = silhouette_score(codes, y)
    print(f"{name}: silhouette of the two clusters in 2-D = {score:.2f}")
    ax = fig.add_subplot(1, 3, i)
    ax.scatter(*codes.T, c=y, cmap="coolwarm", s=8)
    ax.set_title(f"{name} (silhouette {score:.2f})")
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
plt.show()
