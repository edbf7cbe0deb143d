"""Greedy layer-wise pretraining: each layer of a net, bottom up, as a shallow autoencoder.

Each layer is one phase of the estimator's fit sequence, trained on the
codes of the layers below it: a tied-weights denoising autoencoder for the
stacked classifier (Vincent et al. 2010), an encoder layer with its
mirrored decoder layer for the MLP autoencoders (Hinton & Salakhutdinov
2006). Fine-tuning the whole net is the main phase.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn.functional as F
from torch import nn

from ._blocks import in_unit_interval
from ._estimator import Phase
from ._layers import make_activation, mask_noise
from ._optim import make_optimizer
from ._penalties import weighted_mean
from ._settings import corruption_levels
from ._tensors import BatchSource, predict_in_batches

__all__ = ["LayerStack", "pretrain_layers", "pretrain_stack"]


@dataclass
class LayerStack:
    """What greedy pretraining needs of a net and its estimator.

    ``layer_autoencoder(k)`` is layer ``k`` as an
    :class:`~skae._nets.EncoderDecoder` whose training trains the net in
    place (``encode``: the layer's code of its input; ``forward``: the
    reconstruction logits of that input); ``corrupt(k, batch, generator)``
    the training input of layer ``k`` made from a clean batch;
    ``input_loss(module, logits, clean, weights)``, when given, the loss of
    layer 0 (the estimator's own reconstruction loss of raw rows; without
    it, the binary cross-entropy for rows in [0, 1], else the squared
    error). Every other layer reconstructs its input codes with the binary
    cross-entropy when they are sigmoid codes, else with the squared error.
    """

    layer_autoencoder: Callable
    n_layers: int
    corrupt: Callable
    input_loss: Callable = None


def pretrain_layers(estimator, net, X, sample_weight, order_generator, noise_generator):
    """The stacked classifier's pretraining: ``net.hidden`` as tied denoising autoencoders.

    Each layer's input is corrupted by masking noise at its level of
    ``estimator.corruption_levels``. Returns the loss curve of each layer.
    """
    levels = corruption_levels(estimator.corruption_levels, len(net.hidden))
    stack = LayerStack(
        net.layer_autoencoder, len(levels), lambda k, x, g: mask_noise(x, levels[k], g)
    )
    return pretrain_stack(estimator, stack, X, sample_weight, order_generator, noise_generator)


def pretrain_stack(estimator, stack, X, sample_weight, order_generator, noise_generator):
    """Pretrain the layers of ``stack`` in place, bottom up; returns each one's loss curve.

    ``estimator`` gives ``pretrain_max_iter`` epochs per layer (0: nothing
    is trained, and every curve is empty) and ``pretrain_learning_rate_init``
    (None: ``learning_rate_init``); its other training settings apply as
    they do to the main phase. ``sample_weight`` (or None) weighs the rows
    of ``X`` in every layer's loss.

    Layer k trains on the codes of layers < k, computed once per layer (in
    batches, without gradients) rather than on the fly: it costs one
    (n_samples, width) float32 array, and saves k frozen forward passes per
    batch and epoch. ``KeyboardInterrupt`` propagates: nothing goes on to
    the next layer.
    """
    curves = [[] for _ in range(stack.n_layers)]
    inputs, below = X, None  # input of layer k: X, then the codes of layer k - 1
    for k in range(stack.n_layers if estimator.pretrain_max_iter else 0):
        autoencoder = stack.layer_autoencoder(k)
        device = next(autoencoder.parameters()).device
        if below is not None:
            inputs = predict_in_batches(below.encode, BatchSource(inputs, device))
        phase = _layer_phase(
            estimator, stack, k, autoencoder, inputs, sample_weight, noise_generator
        )
        curves[k] = list(estimator._run_phase(phase, order_generator, X).loss_curve)
        below = autoencoder
    return curves


def _code_loss(use_bce):
    """The reconstruction loss of a layer: cross-entropy of logits, or squared error."""

    def loss(module, logits, clean, weights):
        if use_bce:
            losses = F.binary_cross_entropy_with_logits(logits, clean, reduction="none")
        else:
            losses = (logits - clean).pow(2)
        return weighted_mean(losses.mean(dim=1), weights)

    return loss


def _layer_phase(estimator, stack, k, autoencoder, inputs, sample_weight, noise_generator):
    """Layer ``k`` as a shallow autoencoder of ``inputs``."""
    # Pixels in [0, 1] and sigmoid codes are probabilities: cross-entropy,
    # as in Vincent et al. Other codes get the squared error, even when
    # their values happen to lie in [0, 1] (ReLU codes): the layer's decoder
    # then learns the output the whole net gives it.
    if k == 0:
        layer_loss = stack.input_loss or _code_loss(in_unit_interval(inputs))
    else:
        layer_loss = _code_loss(isinstance(make_activation(estimator.activation), nn.Sigmoid))

    def loss_fn(module, batch):
        clean, weights = batch[0], (batch[1] if len(batch) > 1 else None)
        logits = module(stack.corrupt(k, clean, noise_generator))
        return layer_loss(module, logits, clean, weights)

    learning_rate, parameter = estimator.pretrain_learning_rate_init, "pretrain_learning_rate_init"
    if learning_rate is None:
        learning_rate, parameter = estimator.learning_rate_init, "learning_rate_init"
    device = next(autoencoder.parameters()).device
    sources = (BatchSource(inputs, device),)
    if sample_weight is not None:
        sources += (BatchSource(sample_weight, device),)
    max_epochs, weighted = estimator.pretrain_max_iter, sample_weight is not None
    return Phase(
        module=autoencoder,
        loss_fn=loss_fn,
        sources=sources,
        optimizer=make_optimizer(estimator.solver, autoencoder.parameters(), learning_rate),
        config=estimator._config(inputs.shape[0], False, max_epochs, learning_rate, weighted),
        name=f"Pretraining layer {k + 1}",
        learning_rate_param=parameter,
        noise_generator=noise_generator,
    )
