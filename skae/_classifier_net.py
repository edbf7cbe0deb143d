"""The stacked classifier's network (torch only)."""

from torch import nn

from ._layers import TiedDecoder, dropout, linear_with_gain, make_activation
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

    def __init__(self, n_features, hidden_layer_sizes, n_classes, activation, decoder=False):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes]
        self.hidden = nn.ModuleList(
            linear_with_gain(n_in, n_out, activation)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.activation_name = activation
        self.activation = make_activation(activation)  # stateless: shared by all layers
        self.head = nn.Linear(sizes[-1], n_classes)
        if decoder and hidden_layer_sizes:
            # Registered last, so that the other layers' initial weights are
            # drawn as in a net without it (its biases start at zero).
            self.decoder = TiedDecoder(list(self.hidden), activation)

    def encode(self, x, n_layers=None, hidden_dropout=0.0, input_dropout=0.0, generator=None):
        """Output of the first ``n_layers`` hidden layers (all by default).

        With ``hidden_dropout`` or ``input_dropout`` > 0 (training only),
        hidden units or input features are dropped, with masks from
        ``generator``.
        """
        x = dropout(x, input_dropout, generator)
        for layer in self.hidden[:n_layers]:
            x = dropout(self.activation(layer(x)), hidden_dropout, generator)
        return x

    def forward(self, x, hidden_dropout=0.0, input_dropout=0.0, generator=None):
        """Class logits: (B, n_features) -> (B, n_classes)."""
        return self.head(self.encode(x, None, hidden_dropout, input_dropout, generator))

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
        autoencoder = EncoderDecoder(nn.Sequential(layer, self.activation), decoder)
        return autoencoder.to(layer.weight.device)
