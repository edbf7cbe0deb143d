"""A variant defined only in the tests: an autoencoder with a mean absolute error.

It exists to show that a new variant is one file: a net factory and a loss
term (plus the explicit parameter list scikit-learn needs), and the shared
invariants of tests/test_invariants.py hold for it with nothing else.
"""

from skae._autoencoder_base import BaseAutoencoder
from skae._estimator import as_layer_sizes, store_parameters
from skae._nets import build_autoencoder


class MAEAutoencoder(BaseAutoencoder):
    """MLP autoencoder trained on the mean absolute reconstruction error."""

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        output_activation="identity",
        loss="mse",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        learning_rate="constant",
        max_iter=200,
        tol=1e-4,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        random_state=None,
        device="cpu",
        verbose=False,
        architecture="mlp",
        image_shape=None,
        conv_channels=(16, 32),
        unpooling="nearest",
    ):
        store_parameters(self, locals())

    def _build_net(self, data):
        return build_autoencoder(
            architecture=self.architecture,
            n_features=data.X.shape[1],
            n_components=self.n_components,
            hidden_layer_sizes=as_layer_sizes(self.hidden_layer_sizes),
            activation=self.activation,
            output_activation=self.output_activation,
            image_shape=self._image_shape(),
            conv_channels=as_layer_sizes(self.conv_channels, "conv_channels"),
        )

    def _loss(self, module, X_input, X_target, generator):
        _, logits = module.encode_decode(X_input)
        return (module.output_activation(logits) - X_target).abs().mean()
