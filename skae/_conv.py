"""Convolutional encoder / decoder pair for image data (torch only).

Rows of ``X`` are flat images; the encoder reshapes them to
``(channels, height, width)``, and the decoder returns flat rows again, so
the estimators see the same ``(n_samples, n_features)`` data as for an MLP.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._nn import EncoderDecoder, make_activation, mlp

__all__ = ["ConvAutoencoder", "ConvDecoder", "ConvEncoder", "pooled_sizes"]


def pooled_sizes(height, width, n_blocks):
    """Spatial sizes before each 2x2 max-pool, and the final size after them.

    Pooling floors odd sizes (7 -> 3), so the decoder must be told the exact
    size to upsample back to.
    """
    sizes = []
    for _ in range(n_blocks):
        sizes.append((height, width))
        height, width = height // 2, width // 2
    return sizes, (height, width)


def _conv(n_in, n_out, activation):
    layer = nn.Conv2d(n_in, n_out, kernel_size=3, padding=1)
    layer.skae_activation = activation  # for init_weights' gain
    return layer


class ConvEncoder(nn.Module):
    """Blocks of 3x3 convolution + activation + 2x2 max-pool, then an MLP.

    (B, C*H*W) -> (B, C, H, W) -> conv blocks -> flatten ->
    ``hidden_layer_sizes`` -> (B, n_outputs).
    """

    def __init__(
        self, image_shape, channels, hidden_layer_sizes, n_outputs, activation, code_activation
    ):
        super().__init__()
        self.image_shape = tuple(image_shape)
        n_channels, height, width = self.image_shape
        widths = [n_channels, *channels]
        self.convs = nn.ModuleList(
            _conv(n_in, n_out, activation)
            for n_in, n_out in zip(widths[:-1], widths[1:], strict=True)
        )
        self.activation = make_activation(activation)
        _, (h, w) = pooled_sizes(height, width, len(channels))
        self.head = mlp(
            [channels[-1] * h * w, *hidden_layer_sizes, n_outputs], activation, code_activation
        )

    def forward_with_indices(self, x):
        """Code and the argmax indices of every pooling, outermost first."""
        x = x.reshape(-1, *self.image_shape)  # (B, C, H, W)
        indices = []
        for conv in self.convs:
            x, index = F.max_pool2d(self.activation(conv(x)), 2, return_indices=True)
            indices.append(index)
        return self.head(x.flatten(1)), indices

    def forward(self, x):
        """Code of flat images: (B, C*H*W) -> (B, n_outputs)."""
        return self.forward_with_indices(x)[0]


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: MLP, then (unpool + 3x3 convolution) blocks.

    ``unpooling="nearest"`` doubles each map by nearest-neighbour upsampling;
    ``unpooling="max"`` max-unpools, putting each value back where the
    encoder's max-pool found its maximum (indices from the encoder). Without
    indices (decoding a bare code, e.g. ``inverse_transform``) each value
    goes to the top-left corner of its window, the "unpooling without
    switches" of Zeiler & Fergus (2014).
    """

    def __init__(self, image_shape, channels, hidden_layer_sizes, n_inputs, activation, unpooling):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.unpooling = unpooling
        n_channels, height, width = self.image_shape
        self.sizes, (h, w) = pooled_sizes(height, width, len(channels))
        self.start_shape = (channels[-1], h, w)
        self.head = mlp(
            [n_inputs, *list(hidden_layer_sizes)[::-1], channels[-1] * h * w],
            activation,
            last_activation=activation,
        )
        widths = [n_channels, *channels]
        # Block i undoes encoder block i; the outermost one outputs logits.
        self.convs = nn.ModuleList(
            _conv(widths[i + 1], widths[i], activation if i > 0 else "identity")
            for i in range(len(channels))
        )
        self.activation = make_activation(activation)

    @staticmethod
    def _corner_indices(x, size):
        # Flat index of the top-left cell of every 2x2 window of a `size` map.
        h, w = x.shape[-2:]
        rows = torch.arange(h, device=x.device) * 2 * size[1]
        cols = torch.arange(w, device=x.device) * 2
        return (rows[:, None] + cols[None, :]).expand(x.shape)

    def forward(self, code, indices=None):
        """Flat image logits: (B, n_inputs) -> (B, C*H*W)."""
        x = self.head(code).reshape(-1, *self.start_shape)
        for i in reversed(range(len(self.convs))):
            size = self.sizes[i]
            if self.unpooling == "max":
                index = indices[i] if indices is not None else self._corner_indices(x, size)
                x = F.max_unpool2d(x, index, 2, output_size=size)
            else:
                x = F.interpolate(x, size=size, mode="nearest")
            x = self.convs[i](x)
            if i > 0:
                x = self.activation(x)
        return x.flatten(1)


class ConvAutoencoder(EncoderDecoder):
    """A :class:`ConvEncoder` and its :class:`ConvDecoder`.

    Same interface as ``MLPAutoencoder`` (flat rows in and out), plus
    ``encode_decode``, which hands the pooling indices to the decoder when
    it max-unpools.
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
        n_out = n_components if n_encoder_outputs is None else n_encoder_outputs
        super().__init__(
            encoder=ConvEncoder(image_shape, channels, hidden, n_out, activation, code_activation),
            decoder=ConvDecoder(
                image_shape, channels, hidden, n_components, activation, unpooling
            ),
            output_activation=output_activation,
        )

    # encode, decode_logits and decode (a bare code: no pooling indices) are
    # EncoderDecoder's.

    def encode_decode(self, x):
        """Code and reconstruction logits of ``x``, with the pooling indices."""
        code, indices = self.encoder.forward_with_indices(x)
        return code, self.decoder(code, indices if self.decoder.unpooling == "max" else None)

    def forward(self, x):
        """Reconstruction logits of ``x``: (B, n_features) -> (B, n_features)."""
        return self.encode_decode(x)[1]
