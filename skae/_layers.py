"""Building blocks of skae's networks (torch only, no scikit-learn).

Activations and their initialisation, fully connected stacks, the one
tied-weights decoder, corruption noise, and the convolution blocks.
Networks are assembled from these in ``_nets.py`` (autoencoders) and
``_classifier_net.py`` (the stacked classifier).
"""

import contextlib
import math
import os
import threading
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "ConvDecoder",
    "ConvEncoder",
    "TiedDecoder",
    "build_initialized",
    "build_seeded",
    "corrupt",
    "dropout",
    "init_weights",
    "linear_layers",
    "linear_with_gain",
    "make_activation",
    "mask_noise",
    "mlp",
    "seeded_global_generators",
    "pooled_sizes",
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


def linear_with_gain(n_in, n_out, activation):
    """A ``Linear`` layer that remembers the activation after it, for its init gain."""
    layer = nn.Linear(n_in, n_out)
    # Remember which activation follows the layer so init can pick its gain.
    layer.skae_activation = activation
    return layer


def mlp(layer_sizes: Sequence[int], activation: str, last_activation: str = "identity"):
    """Stack of ``Linear`` layers with ``activation`` between them.

    ``layer_sizes`` are the widths from input to output, e.g. ``(784, 256,
    64)`` gives two layers; ``last_activation`` follows the last one
    ("identity" adds nothing). Returns a ``torch.nn.Sequential``.
    """
    layers = []
    n_layers = len(layer_sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
        act_name = last_activation if i == n_layers - 1 else activation
        layers.append(linear_with_gain(n_in, n_out, act_name))
        if act_name != "identity":
            layers.append(make_activation(act_name))
    return nn.Sequential(*layers)


def linear_layers(module):
    """The ``Linear`` layers of ``module``, in order."""
    return [layer for layer in module.modules() if isinstance(layer, nn.Linear)]


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
        # Normalisation layers, tied biases and the like: deterministic.
        module.reset_parameters()


def build_initialized(factory, generator):
    """Build skae's own network ``factory()``, initialised from ``generator`` alone.

    It is first built on the meta device, so that torch's default
    initialisation neither runs twice nor consumes the global random state
    (skae never seeds or draws from torch's global generator); then every
    layer gets :func:`init_weights`. Returns the module on the CPU, in
    float32 whatever torch's default dtype: move it with ``.to(device)``.
    """
    with torch.device("meta"):
        module = factory()
    # float32 whatever torch.set_default_dtype says (BoTorch recommends
    # float64): training feeds float32 batches. No global setting changes.
    module = module.to_empty(device="cpu").float()
    module.apply(lambda m: init_weights(m, generator))
    return module


# torch's global generators are one per process: fits in threads that fork
# and seed them for a user's modules take turns, or each would draw the
# others' numbers (and restore the others' states when it ends).
_GLOBAL_GENERATORS_LOCK = threading.RLock()


def _new_lock_in_child():
    # A process forked while a thread held the lock would inherit it held,
    # with no thread left to release it.
    global _GLOBAL_GENERATORS_LOCK
    _GLOBAL_GENERATORS_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_new_lock_in_child)


def build_seeded(factory, seed):
    """Build a user's network ``factory()`` for real, seeded by ``seed``.

    The user's own initialisation runs (``reset_parameters``, bare
    ``nn.Parameter`` values drawn in ``__init__``), inside a fork of torch's
    CPU random state seeded with ``seed``: every parameter gets a
    deterministic value, the same whatever the device it moves to, and the
    caller's global random state is left as it was.
    """
    with _GLOBAL_GENERATORS_LOCK, torch.random.fork_rng(devices=[]), torch.device("cpu"):
        torch.default_generator.manual_seed(seed)
        return factory()


@contextlib.contextmanager
def seeded_global_generators(seed, device):
    """Run the block on a fork of torch's global generators, seeded with ``seed``.

    skae's own modules draw every random number from private generators,
    but a user's modules (a callable ``architecture``) may draw from torch's
    global ones while training (``nn.Dropout``). Inside a fit they draw from
    this fork: the same ``random_state`` gives the same model, and the
    caller's global random state is left as it was. On a GPU the device's
    generator is forked too. Such blocks in other threads wait their turn.
    """
    device = torch.device(device)
    devices = [_cuda_index(device)] if device.type == "cuda" else []
    with _GLOBAL_GENERATORS_LOCK, torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def global_generators(device):
    """The global torch generators that modules on ``device`` draw from (a tuple).

    The CPU's, and on a GPU the device's; not an MPS device's, which
    ``torch.random.fork_rng`` does not fork either.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return (torch.default_generator,)
    return (torch.default_generator, torch.cuda.default_generators[_cuda_index(device)])


def _cuda_index(device):
    return torch.cuda.current_device() if device.index is None else device.index


def mask_noise(X, level, generator):
    """Masking noise: each entry of ``X`` set to zero with probability ``level``.

    The corruption of denoising autoencoders (Vincent et al. 2008, 2010);
    ``level=0`` returns ``X`` itself. The mask comes from ``generator`` (on
    ``X``'s device), never from torch's global generator.
    """
    if level == 0:
        return X
    keep = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype) >= level
    return X * keep


def dropout(X, rate, generator):
    """Inverted dropout: :func:`mask_noise` rescaled by ``1 / (1 - rate)``.

    ``F.dropout`` would draw its mask from torch's global generator.
    """
    if rate == 0:
        return X
    return mask_noise(X, rate, generator) / (1.0 - rate)


def corrupt(X, noise, level, generator):
    """Corrupt a batch for a denoising autoencoder.

    ``noise`` is "masking" (zero each entry with probability ``level``, see
    :func:`mask_noise`), "gaussian" (add ``level * N(0, 1)``) or
    "salt_and_pepper" (set each entry, with probability ``level``, to 0 or 1
    with equal chance). ``level=0`` returns ``X`` itself; the noise comes
    from ``generator`` only.
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


class TiedDecoder(nn.Module):
    """Decoder through the transposed weights of existing ``Linear`` layers.

    The one tied-weights implementation: the decoder of a tied MLP
    autoencoder (Vincent et al. 2010) and of each layer the stacked
    classifier pretrains. It owns only its biases; the layers stay owned by
    the encoder (kept here in a plain list, so they are neither registered
    twice nor saved twice). ``forward`` returns the reconstruction before
    any output activation; ``activation`` sits between decoder layers.
    """

    def __init__(self, layers, activation):
        super().__init__()
        self._tied = list(layers)  # encoder order: (n_out, n_in) weights
        self.biases = nn.ParameterList(
            # In the layer's dtype: pretraining builds these at fit time,
            # where torch's default dtype may be the caller's float64.
            nn.Parameter(layer.weight.new_zeros(layer.in_features))
            for layer in reversed(self._tied)
        )
        self.activation = make_activation(activation)

    def reset_parameters(self):
        """Zero biases, as for untied layers (called by ``init_weights``)."""
        with torch.no_grad():
            for bias in self.biases:
                bias.zero_()

    def layer(self, j):
        """Decoder layer ``j`` alone (decoder order), sharing its weights and bias.

        The mirror of encoder layer ``len(layers) - 1 - j``, for greedy
        pretraining: training it trains this decoder in place.
        """
        single = TiedDecoder([self._tied[len(self._tied) - 1 - j]], "identity")
        single.biases = nn.ParameterList([self.biases[j]])  # shared, not copied
        return single

    def forward(self, code):
        """(B, n_code) -> (B, n_in of the first tied layer)."""
        h = code
        for i, (layer, bias) in enumerate(zip(reversed(self._tied), self.biases, strict=True)):
            h = F.linear(h, layer.weight.t(), bias)
            if i < len(self._tied) - 1:
                h = self.activation(h)
        return h


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

    @staticmethod
    def _unpool(x, index, size):
        # F.max_unpool2d's result, as a scatter into a zero map of `size`:
        # torch.use_deterministic_algorithms(True) refuses max_unpool2d, but
        # the pooling windows don't overlap, so no two values share a cell.
        n, c = x.shape[:2]
        n_in, n_out = x.shape[2] * x.shape[3], size[0] * size[1]  # explicit: n may be 0
        flat = x.new_zeros(n, c, n_out)
        flat = flat.scatter(2, index.reshape(n, c, n_in), x.reshape(n, c, n_in))
        return flat.view(n, c, *size)

    def forward(self, code, indices=None):
        """Flat image logits: (B, n_inputs) -> (B, C*H*W)."""
        x = self.head(code).reshape(-1, *self.start_shape)
        for i in reversed(range(len(self.convs))):
            size = self.sizes[i]
            if self.unpooling == "max":
                index = indices[i] if indices is not None else self._corner_indices(x, size)
                x = self._unpool(x, index, size)
            else:
                x = F.interpolate(x, size=size, mode="nearest")
            x = self.convs[i](x)
            if i > 0:
                x = self.activation(x)
        return x.flatten(1)
