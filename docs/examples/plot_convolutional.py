"""
==========================================================
Convolutional autoencoders: upsampling and max-unpooling
==========================================================

With ``architecture="conv"`` and ``image_shape``, rows of X are reshaped
into images and encoded by 3x3 convolutions and 2x2 max-pooling. The decoder
mirrors it with either nearest-neighbour upsampling or max-unpooling, which
puts each value back where the encoder's max-pool found it (the pooling
indices travel from encoder to decoder, so only ``denoise``/``score`` of
whole images can use them; ``inverse_transform`` of a bare code cannot).
On 8x8 digits a convolution has little room to help; on 28x28 MNIST the
convolutional model beats the MLP at the same code size (see
``benchmarks/variants.py``).
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer
from skae.plotting import plot_reconstructions

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16, test_size=0.25, random_state=0)

common = dict(
    n_components=16,
    architecture="conv",
    image_shape=(1, 8, 8),
    conv_channels=(16,),
    hidden_layer_sizes=(),
    max_iter=100,
    tol=0,
    random_state=0,
)
models = {
    "MLP": AutoencoderTransformer(16, max_iter=100, tol=0, random_state=0),
    "conv + upsampling": AutoencoderTransformer(unpooling="nearest", **common),
    "conv + max-unpooling": AutoencoderTransformer(unpooling="max", **common),
}
for name, model in models.items():
    model.fit(X_train)
    print(f"{name:>21}: test MSE {-model.score(X_test):.4f}")

# %%
# Reconstructions through the code alone (``inverse_transform``), where
# max-unpooling has no pooling indices to use.
plot_reconstructions(
    {k: v for k, v in models.items() if k != "conv + max-unpooling"}, X_test, n_images=10
)
plt.show()
