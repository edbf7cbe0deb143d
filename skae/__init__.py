"""skae: scikit-learn compatible autoencoders on a PyTorch core."""

from ._autoencoder import AutoencoderTransformer
from ._denoising import DenoisingAutoencoder
from ._persistence import load, save
from ._stacked import StackedAutoencoderClassifier
from ._variational import VariationalAutoencoder
from .exceptions import SkaeVersionWarning

__version__ = "0.1.0"

__all__ = [
    "AutoencoderTransformer",
    "DenoisingAutoencoder",
    "SkaeVersionWarning",
    "StackedAutoencoderClassifier",
    "VariationalAutoencoder",
    "__version__",
    "load",
    "save",
]
