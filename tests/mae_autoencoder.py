"""A variant defined only in the tests: an autoencoder with a mean absolute error.

It exists to show that a new variant is one file: a net factory and a loss
term. It adds no parameter, so it inherits BaseAutoencoder's explicit
``__init__`` (one that adds parameters lists them all, as scikit-learn
requires). The shared invariants of tests/test_invariants.py hold for it
with nothing else.
"""

from skae._autoencoder_base import BaseAutoencoder
from skae._nets import build_autoencoder
from skae._penalties import weighted_mean


class MAEAutoencoder(BaseAutoencoder):
    """MLP autoencoder trained on the mean absolute reconstruction error."""

    def _build_net(self, data):
        return build_autoencoder(**self._net_settings(data))

    def _loss(self, module, X_input, X_target, generator, sample_weight=None):
        _, logits = module.encode_decode(X_input)
        errors = (module.output_activation(logits) - X_target).abs().mean(dim=1)
        return weighted_mean(errors, sample_weight)
