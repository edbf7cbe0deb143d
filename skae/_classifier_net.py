"""The stacked classifier's network (torch only)."""

import torch
import torch.nn.functional as F
from torch import nn

from ._layers import TiedDecoder, corrupt, dropout, linear_with_gain, make_activation
from ._nets import EncoderDecoder

__all__ = ["StackedNet"]


class StackedNet(nn.Module):
    """Stack of fully connected layers topped by a linear (softmax) layer.

    ``forward`` returns the class logits; ``encode`` the output of the top
    hidden layer (the input itself when there is none: a linear softmax
    classifier). :meth:`layer_autoencoder` wraps one hidden layer for
    greedy pretraining. With ``decoder=True`` the net also holds
    ``decoder``, the stack's mirror through the transposed weights of the
    hidden layers (:class:`~skae._layers.TiedDecoder`), for the
    semi-supervised reconstruction term; it owns only its biases, which
    the greedy pretraining trains.
    """

    def __init__(
        self, n_features, hidden_layer_sizes, n_classes, activation, decoder=False,
        batch_norm=False,
    ):  # fmt: skip
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes]
        self.hidden = nn.ModuleList(
            linear_with_gain(n_in, n_out, activation)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.activation_name = activation
        self.activation = make_activation(activation)  # stateless: shared by all layers
        self.head = nn.Linear(sizes[-1], n_classes)
        if batch_norm:
            # One per hidden layer and one for the logits, as in ladder networks.
            self.norms = nn.ModuleList(RowSafeBatchNorm(n) for n in [*sizes[1:], n_classes])
        if decoder and hidden_layer_sizes:
            # Registered last, so that the other layers' initial weights are
            # drawn as in a net without it (its biases start at zero).
            self.decoder = TiedDecoder(list(self.hidden), activation)

    def _pre_activation(self, k, x, noise_std, generator):
        """Layer ``k``'s output before its activation (``k = n_layers``: the logits)."""
        layer = self.hidden[k] if k < len(self.hidden) else self.head
        z = layer(x)
        if hasattr(self, "norms"):
            z = self.norms[k](z)
        return corrupt(z, "gaussian", noise_std, generator) if generator is not None else z

    def encode(
        self, x, n_layers=None, hidden_dropout=0.0, input_dropout=0.0, generator=None,
        noise_std=0.0,
    ):  # fmt: skip
        """Output of the first ``n_layers`` hidden layers (all by default).

        With ``hidden_dropout`` or ``input_dropout`` > 0 (training only),
        hidden units or input features are dropped, with masks from
        ``generator``; with ``noise_std`` > 0 and a ``generator``, Gaussian
        noise is added to the input and to each (normalised) pre-activation.
        """
        if generator is not None:
            x = corrupt(x, "gaussian", noise_std, generator)
        x = dropout(x, input_dropout, generator)
        for k in range(len(self.hidden[:n_layers])):
            x = self._pre_activation(k, x, noise_std, generator)
            x = dropout(self.activation(x), hidden_dropout, generator)
        return x

    def forward(self, x, hidden_dropout=0.0, input_dropout=0.0, generator=None, noise_std=0.0):
        """Class logits: (B, n_features) -> (B, n_classes)."""
        code = self.encode(x, None, hidden_dropout, input_dropout, generator, noise_std)
        return self.logits(code, noise_std, generator)

    def logits(self, code, noise_std=0.0, generator=None):
        """Class logits of the top hidden layer's output ``code``."""
        return self._pre_activation(len(self.hidden), code, noise_std, generator)

    def target_logits(self, x):
        """Class logits of a clean pass that leaves the running statistics alone.

        In training the batch norms normalise it by the batch's statistics,
        as they do the noisy pass beside it; but a pass that only computes
        a target is not a training step, so it must not move the running
        averages that inference uses (it runs on copies of them).
        """
        if not hasattr(self, "norms"):
            return self(x)
        buffers = {name: buffer.clone() for name, buffer in self.named_buffers()}
        return torch.func.functional_call(self, buffers, (x,))

    def layer_autoencoder(self, k):
        """Hidden layer ``k`` as a tied-weights autoencoder of its own input.

        Its code is ``activation(layer(x))`` and its reconstruction goes
        through the layer's transposed weights (Vincent et al. 2010).
        Training it trains the layer in place. The decoder's bias starts at
        zero, or is the net's ``decoder`` bias of that layer when the net
        has a decoder (so that fine-tuning starts from what pretraining
        learned); the result lives on the layer's device.
        """
        layer = self.hidden[k]
        decoder = TiedDecoder([layer], self.activation_name)
        if hasattr(self, "decoder"):
            # The decoder's biases run top down: layer k's is (n - 1 - k).
            decoder.biases[0] = self.decoder.biases[len(self.hidden) - 1 - k]
        encoder = [layer, self.norms[k]] if hasattr(self, "norms") else [layer]
        autoencoder = EncoderDecoder(nn.Sequential(*encoder, self.activation), decoder)
        return autoencoder.to(layer.weight.device)


class RowSafeBatchNorm(nn.BatchNorm1d):
    """``BatchNorm1d`` that also takes a training batch of one row.

    A single row has no spread to normalise by (``BatchNorm1d`` refuses it
    in training): it is normalised by the running statistics of the
    batches before it, as at inference, and leaves them as they are.
    """

    def forward(self, z):
        """``z`` normalised over the batch (by the running statistics at inference)."""
        if self.training and z.shape[0] == 1:
            statistics = (self.running_mean, self.running_var)
            return F.batch_norm(z, *statistics, self.weight, self.bias, False, 0.0, self.eps)
        return super().forward(z)
