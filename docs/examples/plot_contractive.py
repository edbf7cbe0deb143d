"""
====================================================
Contractive: a flatter encoder at a small cost
====================================================

A contractive autoencoder (Rifai et al., 2011) penalises the Frobenius
norm of the encoder's Jacobian, so that codes change little when the input
moves off the data. On held-out digits, the weight trades a smaller
Jacobian norm against reconstruction error: small weights shrink the norm
far more than they raise the error.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)


def jacobian_norm(model, X):
    """Mean Frobenius norm of d code / d input over the rows of X."""
    x = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    norms = []
    for row in x:
        jacobian = torch.autograd.functional.jacobian(model.module_.encode, row[None])
        norms.append(jacobian.norm().item())
    return np.mean(norms)


weights = [0.0, 0.001, 0.003, 0.01]
results = []
for weight in weights:
    model = AutoencoderTransformer(
        16,
        hidden_layer_sizes=(),
        code_activation="logistic",
        contractive_weight=weight,
        learning_rate_init=0.01,
        max_iter=200,
        tol=0,
        random_state=0,
    ).fit(X_train)
    mse = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
    results.append((jacobian_norm(model, X_test[:200]), mse))
    print(f"contractive_weight={weight:<5}: Jacobian norm {results[-1][0]:.3f}, MSE {mse:.4f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(*zip(*results, strict=True), marker="o")
for weight, (norm, mse) in zip(weights, results, strict=True):
    ax.annotate(str(weight), (norm, mse))
ax.set_xlabel("mean Jacobian norm on test digits")
ax.set_ylabel("test MSE")
plt.show()
