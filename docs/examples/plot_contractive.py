"""
====================================================
Contractive: a flatter encoder at a small cost
====================================================

A contractive autoencoder (Rifai et al., 2011) penalises the squared
Frobenius norm of the encoder's Jacobian, so that codes change little when
the input moves off the data. The penalty weight, ``contractive_weight``,
trades a smaller Jacobian norm against reconstruction error; both are
measured on held-out digits below. Here the encoder has a hidden layer and
a sigmoid code of 8 units, so the penalty's Jacobian comes from autograd.
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
    """Mean over the rows of X of the Frobenius norm of d code / d input."""
    x = torch.tensor(X, dtype=torch.float32)
    # Rows are independent, so the Jacobian of the codes summed over rows,
    # (n_components, n_rows, n_features), holds each row's own Jacobian.
    jacobian = torch.autograd.functional.jacobian(lambda x: model.module_.encode(x).sum(0), x)
    return jacobian.square().sum(dim=(0, 2)).sqrt().mean().item()


weights = [0.0, 0.001, 0.01, 0.1]
results = []
for weight in weights:
    model = AutoencoderTransformer(
        8,
        hidden_layer_sizes=(32,),
        code_activation="logistic",
        contractive_weight=weight,
        max_iter=40,
        learning_rate="cosine",
        learning_rate_init=0.01,
        tol=0,
        random_state=0,
    ).fit(X_train)
    mse = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
    results.append((jacobian_norm(model, X_test), mse))
    norm = results[-1][0]
    print(f"contractive_weight={weight:<4}: Jacobian norm {norm:.3f}, test MSE {mse:.4f}")

fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
ax.plot(*zip(*results, strict=True), marker="o")
for weight, (norm, mse) in zip(weights, results, strict=True):
    ax.annotate(
        f"weight {weight}",
        (norm, mse),
        xytext=(6, 4),
        textcoords="offset points",
        fontsize="small",
    )
ax.set_xlabel("mean Jacobian norm on test digits")
ax.set_ylabel("test MSE per pixel")
ax.set_title("contractive_weight: Jacobian norm against error")
ax.set_xlim(0, 1.3 * max(norm for norm, _ in results))
ax.margins(y=0.15)
plt.show()

# %%
# Here the smallest weight already shrinks the Jacobian norm with no rise in
# test error; larger weights flatten the encoder further at a growing cost
# in reconstruction error.
