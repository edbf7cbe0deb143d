"""PyTorch modules for skae's autoencoders.

This module holds torch code only and never imports scikit-learn: estimators
build these modules from their parameters, and the training engine trains
whatever module it is given.
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "EncoderDecoder",
    "MLPAutoencoder",
    "StackedNet",
    "TiedAutoencoderLayer",
    "build_initialized",
    "init_weights",
    "make_activation",
    "corrupt",
    "mask_noise",
    "mlp",
]

# Names follow sklearn's MLP (`activation="logistic"`), plus torch's "sigmoid".
ACTIVATIONS = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}

# Gain of each activation for Glorot initialisation (torch's calculate_gain).
_GAINS = {
    nn.Identity: 1.0,
    nn.ReLU: math.sqrt(2.0),
    nn.Tanh: 5.0 / 3.0,
    nn.Sigmoid: 1.0,
    nn.ELU: math.sqrt(2.0),
    nn.GELU: math.sqrt(2.0),
    nn.LeakyReLU: math.sqrt(2.0 / (1 + 0.01**2)),
}


def make_activation(name):
    """Return a new activation module for ``name`` (see ``ACTIVATIONS``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None


def mlp(layer_sizes: Sequence[int], activation: str, last_activation: str = "identity"):
    """Stack of ``Linear`` layers with ``activation`` between them.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, e.g. ``(784, 256, 64)`` gives two layers.
    activation : str
        Activation after every hidden layer.
    last_activation : str, default="identity"
        Activation after the last layer ("identity" adds nothing).

    Returns
    -------
    torch.nn.Sequential

    """
    layers = []
    n_layers = len(layer_sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
        layer = nn.Linear(n_in, n_out)
        is_last = i == n_layers - 1
        act_name = last_activation if is_last else activation
        # Remember which activation follows the layer so init can pick its gain.
        layer.skae_activation = act_name
        layers.append(layer)
        if act_name != "identity":
            layers.append(make_activation(act_name))
    return nn.Sequential(*layers)


def init_weights(module, generator=None):
    """Glorot-uniform weights (gain of the following activation), zero biases.

    Applied with ``model.apply``; ``generator`` makes it reproducible without
    touching torch's global random state.
    """
    if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
        act_name = getattr(module, "skae_activation", "identity")
        gain = _GAINS[ACTIVATIONS[act_name]]
        with torch.no_grad():
            nn.init.xavier_uniform_(module.weight, gain=gain, generator=generator)
            if module.bias is not None:
                module.bias.zero_()
    elif hasattr(module, "reset_parameters"):
        # Normalisation layers and the like: deterministic (ones and zeros).
        module.reset_parameters()


def build_initialized(factory, generator):
    """Build ``factory()`` and initialise it from ``generator`` alone.

    The module is first built on the meta device, so that torch's default
    initialisation neither runs twice nor consumes the global random state
    (skae never seeds or draws from torch's global generator).

    Parameters
    ----------
    factory : callable returning torch.nn.Module
    generator : torch.Generator
        CPU generator for the initial weights.

    Returns
    -------
    torch.nn.Module
        On the CPU; move it with ``.to(device)``.

    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    module.apply(lambda m: init_weights(m, generator))
    return module


class EncoderDecoder(nn.Module):
    """Any encoder module and any decoder module, as one autoencoder.

    ``encoder`` maps (B, n_features) -> (B, n_components); ``decoder`` maps
    (B, n_components) -> (B, n_features) reconstruction logits.
    """

    def __init__(self, encoder, decoder, output_activation):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.output_activation = make_activation(output_activation)

    def encode(self, x):
        """Code of ``x``."""
        return self.encoder(x)

    def decode_logits(self, code):
        """Reconstruction of ``code`` before the output activation."""
        return self.decoder(code)

    def decode(self, code):
        """Reconstruction of ``code``."""
        return self.output_activation(self.decoder(code))

    def forward(self, x):
        """Reconstruction logits of ``x``."""
        return self.decoder(self.encoder(x))


class MLPAutoencoder(EncoderDecoder):
    """Fully connected autoencoder with a mirrored decoder.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components``;
    the decoder mirrors it back to ``n_features``. ``forward`` returns the
    decoder's output *before* the output activation (logits for a sigmoid
    output), so that losses can use the numerically stable fused forms
    (``binary_cross_entropy_with_logits``); ``decode`` applies it.

    Parameters
    ----------
    n_features : int
        Width of the input.
    hidden_layer_sizes : sequence of int
        Widths of the encoder's hidden layers (the decoder uses them reversed).
    n_components : int
        Width of the code.
    activation : str
        Activation of every hidden layer.
    output_activation : {"identity", "sigmoid"}
        Activation of the reconstruction.
    code_activation : str, default="identity"
        Activation of the code layer. A linear code is the classic choice
        (Hinton & Salakhutdinov 2006) and keeps the linear case equal to PCA.

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
        hidden = list(hidden_layer_sizes)
        super().__init__(
            encoder=mlp([n_features, *hidden, n_components], activation, code_activation),
            decoder=mlp([n_components, *hidden[::-1], n_features], activation),
            output_activation=output_activation,
        )


def mask_noise(X, level, generator):
    """Masking noise: each entry of ``X`` set to zero with probability ``level``.

    The corruption of denoising autoencoders (Vincent et al. 2008, 2010);
    dropout is the same mask rescaled by ``1 / (1 - level)``.

    Parameters
    ----------
    X : torch.Tensor
    level : float
        Probability, in [0, 1), of zeroing each entry; 0 returns ``X`` itself.
    generator : torch.Generator
        On ``X``'s device; the mask never draws from torch's global generator.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``X``.

    """
    if level == 0:
        return X
    keep = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype) >= level
    return X * keep


class StackedNet(nn.Module):
    """Stack of fully connected layers topped by a linear (softmax) layer.

    ``forward`` returns the logits of the classes; ``encode`` the output of
    the first ``n_layers`` hidden layers, which is both the input of the
    layer being pretrained and, for all layers, the learned features.

    Parameters
    ----------
    n_features : int
    hidden_layer_sizes : sequence of int
    n_classes : int
    activation : str
        Activation of every hidden layer.

    """

    def __init__(self, n_features, hidden_layer_sizes, n_classes, activation):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes]
        self.hidden = nn.ModuleList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layer = nn.Linear(n_in, n_out)
            layer.skae_activation = activation  # for init_weights' gain
            self.hidden.append(layer)
        self.activation = make_activation(activation)  # stateless: shared by all layers
        self.head = nn.Linear(sizes[-1], n_classes)

    def encode(self, x, n_layers=None, dropout=0.0, generator=None, input_dropout=0.0):
        """Output of the first ``n_layers`` hidden layers (all by default).

        (B, n_features) -> (B, hidden_layer_sizes[n_layers - 1]). With
        ``dropout`` > 0 (training only), each hidden unit is zeroed with that
        probability and the others rescaled, with masks from ``generator``;
        ``input_dropout`` does the same to the input features.
        """
        if input_dropout:
            x = _dropout(x, input_dropout, generator)
        for layer in self.hidden[:n_layers]:
            x = self.activation(layer(x))
            if dropout:
                x = _dropout(x, dropout, generator)
        return x

    def forward(self, x, dropout=0.0, generator=None, input_dropout=0.0):
        """Class logits: (B, n_features) -> (B, n_classes)."""
        return self.head(
            self.encode(x, dropout=dropout, generator=generator, input_dropout=input_dropout)
        )


def _dropout(x, rate, generator):
    # Inverted dropout with masks from our own generator (F.dropout would
    # draw from torch's global one).
    return mask_noise(x, rate, generator) / (1.0 - rate)


class TiedAutoencoderLayer(nn.Module):
    """Autoencoder around one existing ``Linear`` layer, with a tied decoder.

    The code is ``activation(encoder(x))`` and the reconstruction
    ``code @ encoder.weight + decoder_bias``: the decoder reuses the
    encoder's weights (transposed), as in Vincent et al. (2010) and the
    Theano SdA tutorial. Training this module trains ``encoder`` in place,
    so it pretrains that layer of a :class:`StackedNet`.

    Parameters
    ----------
    encoder : torch.nn.Linear
        The layer to pretrain (shared, not copied).
    activation : torch.nn.Module
        Activation of the code.

    """

    def __init__(self, encoder, activation):
        super().__init__()
        self.encoder = encoder
        self.activation = activation
        # Zeros need no random generator; same device and dtype as the layer.
        self.decoder_bias = nn.Parameter(torch.zeros_like(encoder.weight[0]))

    def forward(self, x):
        """Reconstruction before any output activation: (B, n_in) -> (B, n_in)."""
        code = self.activation(self.encoder(x))  # (B, n_out)
        return F.linear(code, self.encoder.weight.t(), self.decoder_bias)


def corrupt(X, noise, level, generator):
    """Corrupt a batch for a denoising autoencoder.

    Parameters
    ----------
    X : torch.Tensor
    noise : {"masking", "gaussian", "salt_and_pepper"}
        "masking" zeroes each entry with probability ``level`` (see
        :func:`mask_noise`); "gaussian" adds ``level * N(0, 1)``;
        "salt_and_pepper" sets each entry, with probability ``level``, to 0
        or 1 with equal chance.
    level : float
        Noise level in [0, 1); 0 returns ``X`` itself.
    generator : torch.Generator
        On ``X``'s device; never torch's global generator.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``X``.
    """
    if not level:
        return X
    if noise == "masking":
        return mask_noise(X, level, generator)
    if noise == "gaussian":
        return X + level * torch.randn(
            X.shape, generator=generator, device=X.device, dtype=X.dtype
        )
    if noise != "salt_and_pepper":
        raise ValueError(f"Unknown noise {noise!r}.")
    uniform = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype)
    # One uniform draw decides both which entries are hit (below level) and
    # what they become: 0 below level / 2, 1 above.
    salt_or_pepper = (uniform >= level / 2).to(X.dtype)
    return torch.where(uniform < level, salt_or_pepper, X)
