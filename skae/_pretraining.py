"""Greedy layer-wise denoising pretraining of the stacked classifier's net.

Each hidden layer, bottom up, is one phase of the estimator's fit sequence:
a tied-weights denoising autoencoder of the codes of the layers below it
(Vincent et al. 2010).
"""

import scipy.sparse as sp
import torch.nn.functional as F

from ._estimator import Phase
from ._layers import mask_noise
from ._optim import make_optimizer
from ._penalties import weighted_mean
from ._settings import corruption_levels
from ._tensors import BatchSource, predict_in_batches

__all__ = ["pretrain_layers"]


def pretrain_layers(estimator, net, X, sample_weight, order_generator, noise_generator):
    """Pretrain ``net.hidden`` in place; returns the loss curve of each layer.

    ``sample_weight`` (or None) weighs the rows of ``X`` in every layer's loss.

    Layer k trains on the codes of layers < k, computed once per layer (in
    batches, without gradients) rather than on the fly: it costs one
    (n_samples, width) float32 array, and saves k frozen forward passes per
    batch and epoch. ``KeyboardInterrupt`` propagates: nothing goes on to
    the next layer.
    """
    levels = corruption_levels(estimator.corruption_levels, len(net.hidden))
    curves = [[] for _ in levels]
    device = net.head.weight.device
    inputs = X  # input of layer k: X, then the codes of layer k - 1
    for k, level in enumerate(levels if estimator.pretrain_max_iter else ()):
        if k > 0:
            below = BatchSource(inputs, device)
            layer_below = net.hidden[k - 1]
            inputs = predict_in_batches(lambda x, f=layer_below: net.activation(f(x)), below)
        phase = _layer_phase(estimator, net, k, inputs, sample_weight, level, noise_generator)
        curves[k] = list(estimator._run_phase(phase, order_generator, X).loss_curve)
    return curves


def _layer_phase(estimator, net, k, inputs, sample_weight, level, noise_generator):
    """Layer ``k`` as a tied denoising autoencoder of ``inputs``."""
    autoencoder = net.layer_autoencoder(k)
    # Pixels and sigmoid codes are probabilities: cross-entropy, as in
    # Vincent et al.; anything else: squared error.
    values = inputs.data if sp.issparse(inputs) else inputs
    use_bce = values.size == 0 or (values.min() >= 0 and values.max() <= 1)

    def loss_fn(module, batch):
        clean, weights = batch[0], (batch[1] if len(batch) > 1 else None)
        logits = module(mask_noise(clean, level, noise_generator))
        if use_bce:
            losses = F.binary_cross_entropy_with_logits(logits, clean, reduction="none")
        else:
            losses = (logits - clean).pow(2)
        return weighted_mean(losses.mean(dim=1), weights)

    learning_rate = estimator.pretrain_learning_rate_init
    device = autoencoder.decoder.biases[0].device
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
        learning_rate_param="pretrain_learning_rate_init",
    )
