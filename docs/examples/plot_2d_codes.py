"""
======================================
A deep autoencoder's 2-D code vs PCA
======================================

Hinton & Salakhutdinov (2006) map digits to a 2-D code with a deep
encoder whose code layer is linear. How well the ten classes separate in
each 2-D map is measured by a 5-nearest-neighbour classifier trained on the
codes of the training digits and scored on the test digits: the
autoencoder's codes give a higher accuracy than PCA's first two components.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from skae import AutoencoderTransformer
from skae.plotting import plot_embedding

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3, random_state=0)

reducers = {
    "PCA": PCA(2),
    # 64-128-64-2 encoder, mirrored decoder; the code layer is linear.
    "Autoencoder": AutoencoderTransformer(
        2,
        hidden_layer_sizes=(128, 64),
        max_iter=100,
        tol=0,
        learning_rate="cosine",
        random_state=0,
    ),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for ax, (name, reducer) in zip(axes, reducers.items(), strict=True):
    knn = make_pipeline(reducer, KNeighborsClassifier(5)).fit(X_train, y_train)
    accuracy = knn.score(X_test, y_test)
    print(f"{name}: 5-NN test accuracy on the 2-D codes {accuracy:.3f}")
    plot_embedding(knn[0].transform(X_test), y_test, ax=ax, title=f"{name} (5-NN {accuracy:.2f})")
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
axes[0].get_legend().remove()  # one legend, on the right, for both
fig.suptitle("Test digits in 2-D, coloured by class")
plt.show()
