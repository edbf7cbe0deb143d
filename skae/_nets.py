"""Autoencoder networks, one encode/decode interface (torch only).

Every net is an :class:`EncoderDecoder`: ``encode`` (B, n_features) ->
(B, n_components), ``decode_logits`` and ``decode`` (the latter applies the
output activation), ``encode_decode`` (code and logits together, for
decoders that need more than the code) and ``forward`` (logits).
:func:`build_autoencoder` is the net factory the estimators call.
"""

import torch
from torch import nn

from ._layers import ConvDecoder, ConvEncoder, TiedDecoder, linear_layers, make_activation, mlp
from ._threads import thread_budget

__all__ = [
    "ConvAutoencoder",
    "EncoderDecoder",
    "GaussianAutoencoder",
    "MLPAutoencoder",
    "build_autoencoder",
]


class EncoderDecoder(nn.Module):
    """Any encoder module and any decoder module, as one autoencoder.

    ``encoder`` maps (B, n_features) -> (B, n_components); ``decoder`` maps
    (B, n_components) -> (B, n_features) reconstruction logits, before
    ``output_activation``, so that losses can use the stable fused forms
    (``binary_cross_entropy_with_logits``). After :meth:`set_centre`, the
    encoder sees ``(x - input_mean) / data_scale`` and the decoder's output
    is multiplied by ``data_scale`` and shifted by ``output_offset``: the
    layers in between work on standardised data whatever the data's units.
    """

    def __init__(self, encoder, decoder, output_activation="identity"):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.output_activation = make_activation(output_activation)
        self.register_buffer("input_mean", None)
        self.register_buffer("output_offset", None)
        self.register_buffer("data_scale", None)

    def set_centre(self, mean, offset, scale):
        """Standardise the input by ``mean`` and ``scale``, and undo it at the output.

        ``mean`` and ``offset`` are 1-D tensors (features), ``scale`` a 0-D one.
        """
        self.input_mean, self.output_offset, self.data_scale = mean, offset, scale

    # Both maps divide or add in place on the tensor they have just made:
    # the same values as ``(x - mean) / scale``, one whole-batch tensor
    # fewer each (at batch 1024, skae's epoch went from 1.32x to 1.23x the
    # hand-written loop's in benchmarks/throughput.py). Neither op's
    # backward reads the tensor that the in-place step overwrites.
    def _centred(self, x):
        if self.input_mean is None:
            return x
        return torch.sub(x, self.input_mean).div_(self.data_scale)

    def _uncentred(self, logits):
        if self.output_offset is None:
            return logits
        return torch.mul(logits, self.data_scale).add_(self.output_offset)

    def encode(self, x):
        """Code of ``x``."""
        return self.encoder(self._centred(x))

    def decode_logits(self, code):
        """Reconstruction of ``code`` before the output activation."""
        return self._uncentred(self.decoder(code))

    def decode(self, code):
        """Reconstruction of ``code``."""
        return self.output_activation(self.decode_logits(code))

    def encode_decode(self, x):
        """Code and reconstruction logits of ``x``."""
        code = self.encode(x)  # (B, n_components)
        return code, self.decode_logits(code)

    def forward(self, x):
        """Reconstruction logits of ``x``."""
        return self.encode_decode(x)[1]


class MLPAutoencoder(EncoderDecoder):
    """Fully connected autoencoder with a mirrored decoder.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components``
    (``n_encoder_outputs`` when a head needs more, as a VAE's mean and
    log-variance); the decoder maps ``n_components`` back to
    ``n_features`` through the same widths reversed. A linear code
    (``code_activation="identity"``) is the classic choice (Hinton &
    Salakhutdinov 2006) and keeps the linear case equal to PCA. With
    ``tied_weights`` the decoder uses the encoder's transposed weights
    (:class:`~skae._layers.TiedDecoder`): half the weights, and the classic
    form of the RBM-like and contractive autoencoders (Vincent et al. 2010;
    Rifai et al. 2011).
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        n_components,
        activation,
        output_activation,
        code_activation="identity",
        n_encoder_outputs=None,
        tied_weights=False,
    ):
        hidden = list(hidden_layer_sizes)
        n_out = n_encoder_outputs or n_components
        encoder = mlp([n_features, *hidden, n_out], activation, code_activation)
        if tied_weights:
            decoder = TiedDecoder(linear_layers(encoder), activation)
        else:
            decoder = mlp([n_components, *hidden[::-1], n_features], activation)
        super().__init__(encoder, decoder, output_activation)

    @property
    def n_layers(self):
        """Number of encoder layers (``Linear`` maps), code layer included."""
        return len(linear_layers(self.encoder))

    def layer_autoencoder(self, k):
        """Encoder layer ``k`` and its mirror in the decoder, as a shallow autoencoder.

        For greedy layer-wise pretraining (Hinton & Salakhutdinov 2006):
        its code is encoder layer ``k`` with the activation after it (the
        code activation for the last layer), and it reconstructs its own
        input through the decoder layer that mirrors it, before that
        layer's activation (logits). Training it trains the net in place:
        it holds the net's own layers (tied weights: their transposes and
        the decoder's biases). Layer 0 reads raw rows: it standardises and
        un-standardises them as the net does, and has its output activation.
        """
        blocks = _blocks_of(self.encoder)
        mirror = len(blocks) - 1 - k  # decoder order
        if isinstance(self.decoder, TiedDecoder):
            decoder = self.decoder.layer(mirror)
        else:
            decoder = linear_layers(self.decoder)[mirror]
        autoencoder = EncoderDecoder(blocks[k], decoder)
        if k == 0:
            autoencoder.output_activation = self.output_activation
            autoencoder.set_centre(self.input_mean, self.output_offset, self.data_scale)
        return autoencoder


def _blocks_of(stack):
    """A ``Sequential`` of Linear and activation modules, as one block per ``Linear``."""
    blocks = []
    for module in stack:
        if isinstance(module, nn.Linear):
            blocks.append([])
        blocks[-1].append(module)
    return [nn.Sequential(*block) for block in blocks]


class ConvAutoencoder(EncoderDecoder):
    """A :class:`~skae._layers.ConvEncoder` and its mirror decoder.

    Flat rows in and out, as for an MLP. ``encode_decode`` hands the pooling
    indices to the decoder when it max-unpools; a bare code (``decode``)
    has none.
    """

    def __init__(
        self,
        image_shape,
        channels,
        hidden_layer_sizes,
        n_components,
        activation,
        output_activation,
        code_activation="identity",
        unpooling="nearest",
        n_encoder_outputs=None,
    ):
        hidden = tuple(hidden_layer_sizes)
        n_out = n_encoder_outputs or n_components
        super().__init__(
            encoder=ConvEncoder(image_shape, channels, hidden, n_out, activation, code_activation),
            decoder=ConvDecoder(
                image_shape, channels, hidden, n_components, activation, unpooling
            ),
            output_activation=output_activation,
        )

    def encode_decode(self, x):
        """Code and reconstruction logits of ``x``, with the pooling indices."""
        code, indices = self.encoder.forward_with_indices(self._centred(x))
        logits = self.decoder(code, indices if self.decoder.unpooling == "max" else None)
        return code, self._uncentred(logits)


class GaussianAutoencoder(EncoderDecoder):
    """Variational autoencoder: the encoder and decoder of a net with a 2x wide code.

    ``inner``'s encoder outputs ``2 * n_components`` numbers per sample: the
    mean and the log-variance of the Gaussian posterior q(z|x); ``encode``
    is the posterior mean. Its decoder maps a latent ``z`` to the logits of
    p(x|z). ``decoder_log_var`` is the log-variance of a Gaussian p(x|z),
    in the units of the standardised data ``x / data_scale`` (one learned
    scalar; unused by a Bernoulli decoder).
    """

    def __init__(self, inner, n_components):
        super().__init__(inner.encoder, inner.decoder)
        self.output_activation = inner.output_activation
        self.n_components = n_components
        self.decoder_log_var = nn.Parameter(torch.zeros(()))  # unit variance

    def reset_parameters(self):
        """Start the Gaussian decoder at unit variance (called by ``init_weights``)."""
        with torch.no_grad():
            self.decoder_log_var.zero_()

    def encode_distribution(self, x):
        """Posterior mean and log-variance: (B, n_features) -> 2 x (B, n_components)."""
        stats = self.encoder(self._centred(x))
        return stats[:, : self.n_components], stats[:, self.n_components :]

    def encode(self, x):
        """Posterior mean of ``x``: (B, n_features) -> (B, n_components)."""
        return self.encode_distribution(x)[0]


def _user_modules(architecture, n_features, n_components):
    """The (encoder, decoder) a callable ``architecture`` returns, shapes checked.

    A two-row batch of zeros goes through both in eval mode, without
    gradients: a wrong pair or a wrong width is refused here, naming the
    setting, instead of failing inside training with torch's own message.
    Eval mode draws no dropout masks and updates no batch statistics.
    """
    pair = architecture(n_features, n_components)
    if not (
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and all(isinstance(module, nn.Module) for module in pair)
    ):
        raise ValueError(
            f"architecture={architecture!r} must return an (encoder, decoder) pair of "
            f"torch.nn.Module; it returned {type(pair).__name__} {pair!r:.200}."
        )
    encoder, decoder = pair
    _check_trainable_in_float32(architecture, [*encoder.parameters(), *decoder.parameters()])
    modes = [(module, module.training) for part in pair for module in part.modules()]
    probe = torch.zeros(2, n_features, dtype=torch.float32)  # as training feeds them
    try:
        encoder.eval(), decoder.eval()
        with torch.no_grad(), thread_budget(work=0):  # two rows: one thread
            code = _probe(architecture, "encoder", encoder, probe, (2, n_components))
            _probe(architecture, "decoder", decoder, code, (2, n_features))
    finally:
        for module, training in modes:
            module.training = training
    return encoder, decoder


def _check_trainable_in_float32(architecture, parameters):
    """Refuse, by name, modules with nothing to train or not in float32 (training's dtype)."""
    if not parameters:
        raise ValueError(
            f"architecture={architecture!r} returned an encoder and a decoder without "
            "parameters: there is nothing to train."
        )
    dtypes = sorted({str(parameter.dtype) for parameter in parameters} - {"torch.float32"})
    if dtypes:
        raise ValueError(
            f"architecture={architecture!r} returned modules with {', '.join(dtypes)} "
            "parameters, but skae trains in float32 (and converts them for float64 "
            "inference itself): build them in float32, the default, or call .float() "
            "(torch.set_default_dtype(torch.float64) builds float64 modules)."
        )


def _probe(architecture, part, module, batch, expected_shape):
    """``module(batch)``, refused by name unless it has ``expected_shape``."""
    what = f"architecture={architecture!r}: its {part} must map {tuple(batch.shape)}"
    what += f" to {expected_shape} (rows, {'n_components' if part == 'encoder' else 'n_features'})"
    try:
        output = module(batch)
    except Exception as error:  # the user's code: its message, with the contract
        raise ValueError(f"{what}, but it raised {type(error).__name__}: {error}") from error
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != expected_shape:
        got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ValueError(f"{what}, but it gave {got}.")
    return output


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
    """The autoencoder net the settings describe (the estimators' net factory).

    ``architecture`` is "mlp", "conv" or a callable that gets
    ``(n_features, n_components)`` and returns an ``(encoder, decoder)``
    pair of modules. ``n_encoder_outputs`` is the encoder's width when it
    differs from the decoder's input ``n_components`` (a VAE's mean and
    log-variance); a linear head provides it after a user's encoder. The
    other settings are the estimators' parameters.
    """
    hidden = tuple(hidden_layer_sizes)
    if callable(architecture):
        encoder, decoder = _user_modules(architecture, n_features, n_components)
        if code_activation != "identity":  # the code layer's, as on skae's own nets
            encoder = nn.Sequential(encoder, make_activation(code_activation))
        if n_encoder_outputs and n_encoder_outputs != n_components:
            encoder = nn.Sequential(encoder, nn.Linear(n_components, n_encoder_outputs))
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
            n_encoder_outputs=n_encoder_outputs,
        )
    return MLPAutoencoder(
        n_features,
        hidden,
        n_components,
        activation,
        output_activation,
        code_activation,
        n_encoder_outputs=n_encoder_outputs,
        tied_weights=tied_weights,
    )
