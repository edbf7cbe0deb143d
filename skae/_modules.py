"""Torch modules of the autoencoder family, and the factory that picks one.

Tied-weight MLP, a generic encoder/decoder pair (for user-supplied
modules), the Gaussian (VAE) wrapper, and :func:`build_autoencoder`, which
turns plain settings into a module. Torch only: no scikit-learn here.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._conv import ConvAutoencoder
from ._nn import EncoderDecoder, MLPAutoencoder, make_activation, mlp

__all__ = [
    "EncoderDecoder",  # re-exported from _nn
    "GaussianAutoencoder",
    "TiedMLPAutoencoder",
    "build_autoencoder",
]


class _TiedDecoder(nn.Module):
    """Decoder that borrows the encoder's weights, transposed; owns only biases."""

    def __init__(self, layer_sizes, activation):
        super().__init__()
        # Biases of the decoder layers, from the code back to the input.
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(n)) for n in layer_sizes[-2::-1])
        self.activation = make_activation(activation)

    def reset_parameters(self):
        # Called by init_weights: zero biases, as for untied layers.
        with torch.no_grad():
            for bias in self.biases:
                bias.zero_()

    def forward(self, code, encoder_weights):
        # encoder_weights[i] is (n_out, n_in) of encoder layer i; decoding
        # runs them last to first, transposed: (B, n_out) -> (B, n_in).
        h = code
        n_layers = len(encoder_weights)
        for i, (weight, bias) in enumerate(
            zip(reversed(encoder_weights), self.biases, strict=True)
        ):
            h = F.linear(h, weight.t(), bias)
            if i < n_layers - 1:
                h = self.activation(h)
        return h


class TiedMLPAutoencoder(nn.Module):
    """MLP autoencoder whose decoder uses the encoder's transposed weights.

    Halves the number of weights, and is the classic form of the RBM-like
    and contractive autoencoders (Vincent et al. 2010; Rifai et al. 2011).
    Same parameters and interface as ``MLPAutoencoder``.
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        n_components,
        activation,
        output_activation,
        code_activation="identity",
    ):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes, n_components]
        self.encoder = mlp(sizes, activation, code_activation)
        self.decoder = _TiedDecoder(sizes, activation)
        self.output_activation = make_activation(output_activation)

    def _weights(self):
        return [layer.weight for layer in self.encoder if isinstance(layer, nn.Linear)]

    def encode(self, x):
        """Code of ``x``: (B, n_features) -> (B, n_components)."""
        return self.encoder(x)

    def decode_logits(self, code):
        """Reconstruction before the output activation."""
        return self.decoder(code, self._weights())

    def decode(self, code):
        """Reconstruction of ``code``: (B, n_components) -> (B, n_features)."""
        return self.output_activation(self.decode_logits(code))

    def forward(self, x):
        """Reconstruction logits of ``x``."""
        return self.decode_logits(self.encoder(x))


class GaussianAutoencoder(nn.Module):
    """Variational autoencoder around an autoencoder with a 2x wide code.

    ``inner``'s encoder outputs ``2 * n_components`` numbers per sample: the
    mean and the log-variance of the Gaussian posterior q(z|x). Its decoder
    maps a latent ``z`` (``n_components``) to the logits of p(x|z).
    ``decoder_log_var`` is the log-variance of a Gaussian p(x|z) (one scalar,
    learned; unused for a Bernoulli decoder).
    """

    def __init__(self, inner, n_components):
        super().__init__()
        self.inner = inner
        self.n_components = n_components
        self.output_activation = inner.output_activation
        self.decoder_log_var = nn.Parameter(torch.empty(()))

    def reset_parameters(self):
        # Called by init_weights: start the Gaussian decoder at unit variance.
        with torch.no_grad():
            self.decoder_log_var.zero_()

    def encode_distribution(self, x):
        """Posterior mean and log-variance: (B, n_features) -> 2 x (B, n_components)."""
        stats = self.inner.encode(x)
        return stats[:, : self.n_components], stats[:, self.n_components :]

    def encode(self, x):
        """Posterior mean of ``x``: (B, n_features) -> (B, n_components)."""
        return self.encode_distribution(x)[0]

    def decode_logits(self, z):
        """Logits (Bernoulli) or pre-activation mean (Gaussian) of p(x|z)."""
        return self.inner.decode_logits(z)

    def decode(self, z):
        """Mean of p(x|z): (B, n_components) -> (B, n_features)."""
        return self.output_activation(self.inner.decode_logits(z))

    def forward(self, x):
        """Logits of p(x|z) at the posterior mean of ``x``."""
        return self.decode_logits(self.encode(x))


def build_autoencoder(
    *,
    architecture,
    n_features,
    n_components,
    hidden_layer_sizes,
    activation,
    output_activation,
    code_activation="identity",
    tied_weights=False,
    image_shape=None,
    conv_channels=(),
    unpooling="nearest",
    n_encoder_outputs=None,
):
    """Build the autoencoder module the settings describe.

    Parameters
    ----------
    architecture : {"mlp", "conv"} or callable
        A callable gets ``(n_features, n_components)`` and returns an
        ``(encoder, decoder)`` pair of modules.
    n_encoder_outputs : int, optional
        Width of the encoder's output when it differs from the decoder's
        input ``n_components`` (a VAE's mean and log-variance).
    **other
        As in the estimators.

    Returns
    -------
    torch.nn.Module
    """
    hidden = tuple(hidden_layer_sizes)
    n_out = n_components if n_encoder_outputs is None else n_encoder_outputs
    if callable(architecture):
        encoder, decoder = architecture(n_features, n_components)
        if n_out != n_components:
            # A linear head turns the user's code into the wider statistics.
            head = nn.Linear(n_components, n_out)
            encoder = nn.Sequential(encoder, head)
        return EncoderDecoder(encoder, decoder, output_activation)
    if architecture == "conv":
        return ConvAutoencoder(
            image_shape,
            tuple(conv_channels),
            hidden,
            n_components,
            activation,
            output_activation,
            code_activation=code_activation,
            unpooling=unpooling,
            n_encoder_outputs=n_out,
        )
    if tied_weights:
        return TiedMLPAutoencoder(
            n_features, hidden, n_components, activation, output_activation, code_activation
        )
    if n_out == n_components:
        return MLPAutoencoder(
            n_features, hidden, n_components, activation, output_activation, code_activation
        )
    return EncoderDecoder(
        mlp([n_features, *hidden, n_out], activation, code_activation),
        mlp([n_components, *hidden[::-1], n_features], activation),
        output_activation,
    )
