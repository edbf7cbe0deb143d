"""skae: scikit-learn compatible autoencoders on a PyTorch core."""

from ._autoencoder import AutoencoderTransformer
from ._denoising import DenoisingAutoencoder
from ._persistence import load, save
from ._stacked import StackedAutoencoderClassifier
from ._variational import VariationalAutoencoder
from .exceptions import SkaeVersionWarning

try:  # written by setuptools-scm when the package is built or installed
    from ._version import version as __version__
except ImportError:  # a source tree never installed
    __version__ = "0+unknown"

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
