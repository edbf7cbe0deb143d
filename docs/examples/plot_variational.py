"""
=====================================
Variational autoencoder: new digits
=====================================

A variational autoencoder (Kingma & Welling, 2014) learns a Gaussian
posterior over a latent code and a decoder; decoding draws from the prior
N(0, I) generates new digits. ``score`` is the mean evidence lower bound
(ELBO) per sample, in nats.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import VariationalAutoencoder

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)

vae = VariationalAutoencoder(
    n_components=8,
    hidden_layer_sizes=(128,),
    output_activation="sigmoid",
    loss="bce",
    max_iter=100,
    tol=0,
    learning_rate="cosine",  # annealed over all 100 epochs
    random_state=0,
).fit(X_train)
print(f"test ELBO: {vae.score(X_test):.2f} nats per digit")
samples = vae.sample(24, random_state=0)
print("samples:", samples.shape)

fig, axes = plt.subplots(3, 8, figsize=(8, 3.4), layout="constrained")
for ax, image in zip(axes.ravel(), samples, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
fig.suptitle("24 digits decoded from draws of the prior N(0, I)")
plt.show()
