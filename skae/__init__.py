"""skae: scikit-learn compatible autoencoders on a PyTorch core."""

from ._autoencoder import AutoencoderTransformer
from ._denoising import DenoisingAutoencoder
from ._stacked import StackedAutoencoderClassifier
from ._variational import VariationalAutoencoder

__version__ = "0.1.0"

__all__ = [
    "AutoencoderTransformer",
    "DenoisingAutoencoder",
    "StackedAutoencoderClassifier",
    "VariationalAutoencoder",
    "__version__",
]
