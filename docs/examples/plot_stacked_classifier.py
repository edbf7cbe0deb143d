"""
===================================================================
Stacked denoising autoencoders: pretraining with unlabelled digits
===================================================================

A stacked denoising autoencoder classifier (Vincent et al., 2010) pretrains
each hidden layer, bottom up, as a denoising autoencoder on the codes of
the layers below, then fine-tunes the whole stack with a softmax layer on
the labels. Pretraining needs no labels, which is its point: here only 100
digits are labelled (the others get scikit-learn's "unlabelled" label,
``-1``), and the same network is trained with and without pretraining
(``pretrain_max_iter=0``) to measure what pretraining brings.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import StackedAutoencoderClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, stratify=y, random_state=0
)
rng = np.random.RandomState(0)
y_partial = y_train.copy()
y_partial[rng.permutation(len(y_train))[100:]] = -1  # keep 100 labels
print(
    f"{len(y_partial)} training digits: {np.sum(y_partial != -1)} labelled, "
    f"{np.sum(y_partial == -1)} unlabelled"
)

common = dict(
    hidden_layer_sizes=(256, 256),
    corruption_levels=(0.1, 0.2),
    pretrain_learning_rate_init=1e-3,
    learning_rate_init=3e-4,
    max_iter=150,
    tol=0,
    random_state=0,
)
models = {
    "pretrained (all digits)": StackedAutoencoderClassifier(pretrain_max_iter=30, **common),
    "no pretraining": StackedAutoencoderClassifier(pretrain_max_iter=0, **common),
}
# 150 epochs of fine-tuning are this example's budget, not convergence: the
# loss still falls at the end, and fit says so with a ConvergenceWarning.
for name, model in models.items():
    model.fit(X_train, y_partial)
    print(f"{name:>24}: test accuracy {model.score(X_test, y_test):.3f}")

# %%
# On this split of 1,257 small training images, both networks reach about
# the same test accuracy; one run with 100 labels cannot resolve a gain of a
# point or two. Pretraining is meant for plentiful unlabelled data;
# ``benchmarks/sda_mnist.py`` measures it on MNIST with 1,000 labels and
# 59,000 unlabelled images.
#
# Pretraining curves, one per layer: reconstruction loss of each denoising
# autoencoder, on all 1,257 training digits.
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
for layer, curve in enumerate(models["pretrained (all digits)"].pretrain_loss_curves_, 1):
    ax.plot(range(1, len(curve) + 1), curve, label=f"layer {layer}")
ax.set_xlabel("pretraining epoch")
ax.set_ylabel("reconstruction loss")
ax.set_title("Layer-wise denoising pretraining")
ax.legend()
plt.show()
