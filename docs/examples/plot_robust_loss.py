"""
===========================================
A robust loss: outliers in the training set
===========================================

A squared error lets a few large residuals dominate the fit. Here 4% of
the training digits carry four corrupted pixels at 40 (the clean pixels
lie in [0, 1]). An autoencoder trained on the squared error
(``loss="mse"``) spends its capacity on those pixels; one trained on the
Huber error (``loss="huber"``, the default of nonlinear nets: squared up
to ``huber_delta``, linear beyond) counts them linearly and reconstructs the clean held-out digits
better. On clean training data the two are close, and "mse" is the better
one, since it is the error measured.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)

rng = np.random.RandomState(0)
X_corrupted = X_train.copy()
for row in rng.choice(len(X_train), len(X_train) // 25, replace=False):
    X_corrupted[row, rng.choice(64, 4, replace=False)] = 40.0


def held_out_mse(loss, X_fit):
    model = AutoencoderTransformer(
        4,
        hidden_layer_sizes=(32,),
        loss=loss,
        batch_size=64,  # "auto" under Huber; the same for "mse", so only the loss differs
        learning_rate="cosine",  # annealed to 0 over the 60 epochs
        max_iter=60,
        random_state=0,
    ).fit(X_fit)
    return -model.score(X_test)  # minus the mean squared error of clean digits


# %%
# The clean held-out error of each loss, trained on clean and on corrupted
# digits (60 epochs each, cosine schedule, the same seed).
errors = {
    (loss, name): held_out_mse(loss, X_fit)
    for loss in ("mse", "huber")
    for name, X_fit in (("clean", X_train), ("4% corrupted", X_corrupted))
}
for (loss, name), error in errors.items():
    print(f"loss={loss!r:8} trained on {name:>12} digits: held-out MSE {error:.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
width = 0.38
for offset, loss in ((-width / 2, "mse"), (width / 2, "huber")):
    heights = [errors[(loss, name)] for name in ("clean", "4% corrupted")]
    ax.bar(np.arange(2) + offset, heights, width, label=f'loss="{loss}"')
ax.set_xticks(range(2), ["clean training set", "4% of rows corrupted"])
ax.set_ylabel("held-out MSE (clean digits)")
ax.set_title("4 components, one hidden layer of 32, 60 epochs")
ax.legend()
fig.tight_layout()
plt.show()
