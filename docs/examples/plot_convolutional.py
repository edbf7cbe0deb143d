"""
==========================================================
Convolutional autoencoders: upsampling and max-unpooling
==========================================================

With ``architecture="conv"`` and ``image_shape``, rows of X are reshaped
into images and encoded by 3x3 convolutions and 2x2 max-pooling. The decoder
mirrors it with either nearest-neighbour upsampling or max-unpooling, which
puts each value back where the encoder's max-pool found it. The pooling
indices travel from encoder to decoder beside the code, so only
``denoise``/``score`` of whole images can use them; ``inverse_transform``
of a bare code cannot. The test errors below, all with a 16-number code,
measure it: on 8x8 digits the convolutional model with upsampling does not
beat the MLP, and max-unpooling's lower error presumably comes from the
indices, which carry information that the code does not (the script does
not measure its error without them). ``benchmarks/variants.py`` makes
the same comparison on 28x28 MNIST.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer
from skae.plotting import plot_reconstructions

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)

# A fixed budget of 40 epochs, the learning rate annealed to 0 over it.
training = dict(
    max_iter=40, learning_rate="cosine", learning_rate_init=0.01, tol=0, random_state=0
)
conv = dict(architecture="conv", image_shape=(1, 8, 8), conv_channels=(16,), hidden_layer_sizes=())
models = {
    "MLP": AutoencoderTransformer(16, **training),
    "conv + upsampling": AutoencoderTransformer(16, unpooling="nearest", **conv, **training),
    "conv + max-unpooling": AutoencoderTransformer(16, unpooling="max", **conv, **training),
}
for name, model in models.items():
    model.fit(X_train)
    print(f"{name:>21}: test MSE {-model.score(X_test):.4f}")

# %%
# Reconstructions through the code alone (``inverse_transform``), where
# max-unpooling has no pooling indices to use, so it is left out.
ax = plot_reconstructions(
    {k: v for k, v in models.items() if k != "conv + max-unpooling"}, X_test, n_images=10
)
ax.set_title("Test digits and their reconstructions from a 16-number code")
plt.show()
