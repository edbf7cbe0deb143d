"""
============================================
Sparse codes: an L1 activity and a KL target
============================================

A sparse code has few active units for each input; a penalty that makes
it so keeps an overcomplete code (more units than inputs) from simply
copying its input. Two classic penalties, each measured on held-out digits:

- an L1 penalty on the code (``activity_l1``) on ReLU code units: the
  fraction of code values that are exactly zero grows with its weight, as
  does the reconstruction error. The weights are tied (the decoder uses the
  encoder's weights, transposed), so that the decoder cannot undo the
  penalty by growing while the code shrinks;
- a KL divergence to a target activation (``sparsity_target``) on sigmoid
  code units: it pulls the mean activation of the units from about 0.4
  (no penalty) down to about the target.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)
common = dict(
    hidden_layer_sizes=(),
    max_iter=60,
    learning_rate="cosine",
    learning_rate_init=0.01,
    tol=0,
    random_state=0,
)


def held_out_mse(model):
    return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)


# %%
# L1 on a ReLU code of 32 units, tied weights, against no penalty (weight 0).
l1_weights = [0.0, 0.03, 0.06, 0.15]
zero_fractions = []
for weight in l1_weights:
    model = AutoencoderTransformer(
        32, code_activation="relu", activity_l1=weight, tied_weights=True, **common
    ).fit(X_train)
    zero_fractions.append(np.mean(model.transform(X_test) == 0))
    print(
        f"ReLU code, activity_l1={weight:<3}: {zero_fractions[-1]:.0%} zero values, "
        f"test MSE {held_out_mse(model):.4f}"
    )

# %%
# KL target 0.1 on an overcomplete sigmoid code (128 units for 64 pixels),
# against the same code without the penalty (``sparsity_weight=0``).
common["learning_rate_init"] = 0.03
mean_activations = {}
for weight in [0.0, 3.0]:
    model = AutoencoderTransformer(
        128, code_activation="logistic", sparsity_target=0.1, sparsity_weight=weight, **common
    ).fit(X_train)
    mean_activations[weight] = model.transform(X_test).mean(axis=0)  # (128,): one per unit
    print(
        f"sigmoid code, sparsity_weight={weight}: mean activation "
        f"{mean_activations[weight].mean():.3f}, test MSE {held_out_mse(model):.4f}"
    )

fig, (ax_l1, ax_kl) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
ax_l1.plot([str(w) for w in l1_weights], zero_fractions, marker="o")
ax_l1.set_xlabel("activity_l1")
ax_l1.set_ylabel("fraction of zero code values")
ax_l1.set_title("L1 penalty, ReLU code")
ax_l1.set_ylim(0, 1)
for weight, values in mean_activations.items():
    label = "no penalty" if weight == 0 else f"KL, sparsity_weight={weight}"
    ax_kl.hist(values, bins=np.linspace(0, 1, 51), alpha=0.7, label=label)
ax_kl.axvline(0.1, color="k", linestyle="--", label="target 0.1")
ax_kl.set_xlabel("mean activation of a code unit on test digits")
ax_kl.set_ylabel("number of code units")
ax_kl.set_title("KL penalty, sigmoid code")
ax_kl.legend(fontsize="small")
plt.show()
