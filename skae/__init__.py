"""skae: scikit-learn compatible autoencoders on a PyTorch core."""

from ._autoencoder import AutoencoderTransformer
from ._stacked import StackedAutoencoderClassifier

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "StackedAutoencoderClassifier", "__version__"]
