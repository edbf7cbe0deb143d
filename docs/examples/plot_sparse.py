"""
============================================
Sparse codes: an L1 activity and a KL target
============================================

An overcomplete code (more units than inputs) is meaningful once a penalty
makes it sparse. Two classic penalties: an L1 penalty on the code
(``activity_l1``) drives many ReLU code values to exactly zero; a KL
divergence to a target activation (``sparsity_target``) keeps the mean
activation of sigmoid code units near that target.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)
common = dict(hidden_layer_sizes=(), max_iter=200, tol=0, random_state=0)


def held_out_mse(model):
    return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)


# %%
# L1 on a ReLU code of 32 units.
plain = AutoencoderTransformer(32, code_activation="relu", **common).fit(X_train)
l1 = AutoencoderTransformer(32, code_activation="relu", activity_l1=1e-2, **common).fit(X_train)
for name, model in [("no penalty", plain), ("L1 1e-2", l1)]:
    codes = model.transform(X_test)
    print(
        f"ReLU code, {name:>10}: {np.mean(codes < 1e-3):.0%} zero values, "
        f"MSE {held_out_mse(model):.4f}"
    )

# %%
# KL target 0.05 on an overcomplete sigmoid code (256 units for 64 pixels).
kl = AutoencoderTransformer(
    256, code_activation="logistic", sparsity_target=0.05, sparsity_weight=1.0, **common
).fit(X_train)
mean_activation = kl.transform(X_test).mean(axis=0)
print(f"sigmoid code, KL target 0.05: mean activation {mean_activation.mean():.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(mean_activation, bins=30)
ax.axvline(0.05, color="k", linestyle="--", label="target")
ax.set_xlabel("mean activation of each code unit on test digits")
ax.legend()
plt.show()
