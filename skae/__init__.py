"""skae: scikit-learn compatible autoencoders on a PyTorch core."""

from ._autoencoder import AutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "__version__"]
