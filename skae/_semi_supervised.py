"""Semi-supervised fine-tuning of the stacked classifier: unlabelled rows in the loss.

With ``reconstruction_weight`` or ``consistency_weight`` > 0, fine-tuning
is still one :class:`~skae._estimator.Phase` of the one training loop, with
its own sources and loss: an epoch is one pass over *every* row of ``X``
(labelled or not), and each of its rows is paired with a labelled row, so
that every batch holds ``batch_size`` rows of each kind (the labelled rows
are oversampled: with 1,000 labels among 60,000 rows, each labelled row is
seen 60 times an epoch). When every row is labelled and trained on (no
unlabelled rows, no validation split), pairing would pair each row with
itself: the batches are then the supervised ones, and each row's one noisy
pass through the net serves the classification and the other terms.
"""

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from ._blocks import in_unit_interval
from ._penalties import weighted_mean
from ._tensors import Rows

__all__ = ["check_semi_supervised", "paired_arrays", "semi_supervised_phase", "uses_unlabelled"]


def uses_unlabelled(estimator):
    """Whether fine-tuning has a term on every row (the semi-supervised mode)."""
    return estimator.reconstruction_weight > 0 or estimator.consistency_weight > 0


def check_semi_supervised(estimator, n_layers, fitted_module):
    """Refuse settings the net cannot train; returns whether it needs a decoder.

    ``fitted_module`` is the net a continued fit (``warm_start``,
    ``partial_fit``) goes on training, None for a new one: a decoder
    cannot be added to it.
    """
    if estimator.reconstruction_weight == 0:
        return fitted_module is not None and hasattr(fitted_module, "decoder")
    if n_layers == 0:
        raise ValueError(
            f"reconstruction_weight={estimator.reconstruction_weight!r} needs at least one "
            "hidden layer to reconstruct the input from, but hidden_layer_sizes=(): "
            "use reconstruction_weight=0 for a linear softmax classifier."
        )
    if fitted_module is not None and not hasattr(fitted_module, "decoder"):
        raise ValueError(
            f"reconstruction_weight={estimator.reconstruction_weight!r} needs the decoder "
            "that a fit with reconstruction_weight > 0 builds, and this model was fitted "
            "with reconstruction_weight=0: refit it (warm_start=False), or keep "
            "reconstruction_weight=0 to go on fine-tuning."
        )
    return True


def paired_arrays(X, sample_weight, labelled_arrays):
    """The fine-tuning arrays: each row of ``X`` beside a labelled row.

    ``labelled_arrays`` are ``(X, class index[, weight])`` of the labelled
    rows to train on. Row ``i`` of ``X`` is paired with labelled row ``i mod
    n_labelled``: the loop's permutation of ``X``'s rows thus draws a fresh
    sample of labelled rows for each batch, and an epoch visits every
    labelled row equally often (to within one). Returns ``(labelled X,
    class index, X[, weight of X, labelled weight])``, as
    :class:`~skae._tensors.Rows` (no copies); the labelled weight comes last,
    where the loop reads what a batch counts for.
    """
    cycle = np.arange(X.shape[0]) % labelled_arrays[0].shape[0]
    X_labelled, y_index, *labelled_weight = (Rows.of(a, cycle) for a in labelled_arrays)
    arrays = (X_labelled, y_index, X)
    if sample_weight is not None:
        arrays += (sample_weight, *labelled_weight)
    return arrays


def semi_supervised_phase(estimator, phase, data, seed, incremental, noise_generator):
    """``phase`` (the supervised fine-tuning) with the unlabelled rows in its loss."""
    # Pixels are probabilities: cross-entropy, as in pretraining.
    use_bce = in_unit_interval(data.X)
    if phase.val_sources is None and data.arrays[0] is data.X:
        # Every row labelled and trained on: the supervised phase's batches,
        # one noisy pass for every term (pairing would pair each row with itself).
        loss_fn = _loss_function(estimator, use_bce, noise_generator, paired=False)
        return dataclasses.replace(phase, loss_fn=loss_fn)
    labelled = data.arrays
    if phase.val_sources is not None:
        # The split the supervised phase holds out (the same seed gives the
        # same rows): its validation sources stay, its training rows pair up.
        labelled, _ = estimator._validation_split(data, seed)
    arrays = paired_arrays(data.X, data.sample_weight, labelled)
    device = next(phase.module.parameters()).device
    config = estimator._config(arrays[2].shape[0], incremental, weighted=data.weighted)
    # Its terms are each a mean over their own rows of the batch.
    config = dataclasses.replace(config, rows_add_up=False)
    return dataclasses.replace(
        phase,
        loss_fn=_loss_function(estimator, use_bce, noise_generator, paired=True),
        sources=estimator._sources(arrays, device),
        config=config,
    )


def _loss_function(estimator, use_bce, noise_generator, paired):
    """The fine-tuning loss of a batch (see the classifier's Notes).

    ``paired``: batches of labelled rows beside rows of all ``X`` (see
    :func:`paired_arrays`), each kind through the noisy net once; else
    every row is labelled and a batch is ``(X, class index[, weight])``,
    whose one noisy pass serves every term.
    """
    hidden_dropout, input_dropout = estimator.dropout, estimator.input_dropout
    noise = (hidden_dropout, input_dropout, noise_generator, estimator.noise_std)
    logit_noise = (estimator.noise_std, noise_generator)
    unsupervised_terms = _unsupervised_terms(estimator, use_bce)

    def paired_loss(module, batch):
        X_labelled, y, X = batch[:3]
        weight, labelled_weight = batch[3:] if len(batch) > 3 else (None, None)
        logits = module(X_labelled, *noise)
        loss = weighted_mean(F.cross_entropy(logits, y, reduction="none"), labelled_weight)
        # Every row through the noisy encoder, as the labelled ones: (B, n_code).
        code = module.encode(X, None, *noise)
        # The consistency term compares the logits of this noisy pass.
        noisy_logits = module.logits(code, *logit_noise) if estimator.consistency_weight else None
        return loss + unsupervised_terms(module, X, code, weight, noisy_logits)

    def single_pass_loss(module, batch):
        X, y = batch[:2]
        weight = batch[2] if len(batch) > 2 else None
        code = module.encode(X, None, *noise)
        logits = module.logits(code, *logit_noise)
        loss = weighted_mean(F.cross_entropy(logits, y, reduction="none"), weight)
        return loss + unsupervised_terms(module, X, code, weight, logits)

    return paired_loss if paired else single_pass_loss


def _unsupervised_terms(estimator, use_bce):
    """The label-free terms: reconstruction and consistency of rows ``X``.

    ``code`` and ``noisy_logits`` are the rows' noisy pass through the net.
    """
    reconstruction, consistency = estimator.reconstruction_weight, estimator.consistency_weight

    def terms(module, X, code, weight, noisy_logits):
        loss = 0.0
        if reconstruction:
            loss = loss + reconstruction * weighted_mean(
                _reconstruction_losses(module.decoder(code), X, use_bce), weight
            )
        if consistency:
            with torch.no_grad():  # the clean prediction is the target
                target = F.log_softmax(module.target_logits(X), dim=1)
            noisy = F.log_softmax(noisy_logits, dim=1)
            divergence = F.kl_div(noisy, target, reduction="none", log_target=True).sum(dim=1)
            loss = loss + consistency * weighted_mean(divergence, weight)
        return loss

    return terms


def _reconstruction_losses(logits, clean, use_bce):
    """Per-row reconstruction loss (B,): cross-entropy or squared error, per feature."""
    if use_bce:
        losses = F.binary_cross_entropy_with_logits(logits, clean, reduction="none")
    else:
        losses = (logits - clean).pow(2)
    return losses.mean(dim=1)
