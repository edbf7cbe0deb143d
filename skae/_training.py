"""The one training loop of skae (torch only, no scikit-learn).

:func:`fit_module` trains any ``torch.nn.Module`` with a loss function
``loss_fn(module, batch) -> scalar tensor`` over in-memory data
(:class:`~skae._tensors.BatchSource`), with randomness from the generator
it is given only. Early stopping watches a validation *score* (higher is
better) and restores the best weights. On ``KeyboardInterrupt`` it puts
back the state of the last completed epoch and re-raises.
"""

import functools
import math
import sys
import time
from dataclasses import dataclass, field

import torch

from ._optim import (
    ADAPTIVE_FACTOR,
    ADAPTIVE_MIN_LEARNING_RATE,
    PLATEAU_REDUCTIONS,
    CosineSchedule,
    current_learning_rate,
    set_learning_rate,
    step_function,
)
from ._tensors import batch_buffers, batch_indices, get_batch, inference_batch_size

__all__ = [
    "History",
    "TrainingConfig",
    "TrainingDiverged",
    "evaluate_mean",
    "finite_parameters",
    "fit_module",
]


@dataclass
class TrainingConfig:
    """Settings of one call to :func:`fit_module`."""

    batch_size: int
    max_epochs: int
    learning_rate: float
    alpha: float = 0.0
    shuffle: bool = True
    tol: float = 1e-4
    n_iter_no_change: int = 10
    verbose: bool = False
    # "constant", "adaptive" (divide by 5 on a plateau, as sklearn's MLP) or
    # "cosine" (anneal to 0 over ``max_epochs``, batch by batch).
    learning_rate_schedule: str = "constant"
    # The last source holds sample weights: a batch counts for their sum
    # (in the epoch's loss, the L2 penalty's divisor and the validation
    # score), as sklearn's MLP counts sample weights.
    weighted: bool = False
    # The loss is a weighted mean over rows, so L-BFGS may sum it over
    # chunks of batch_size rows; False when a term is computed over the
    # batch (a sparsity target, batch norm, the semi-supervised terms):
    # L-BFGS then evaluates all rows at once, its objective exact.
    rows_add_up: bool = True


@dataclass
class History:
    """What training did, carried over between calls for warm starts."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    # best_validation_score of the last call that held out a split (None
    # before one): what the fitted attribute reports, whatever came since.
    reported_validation_score: float = None
    no_improvement_count: int = 0
    # The loss (negated) or validation score at the last epoch that counted
    # as an improvement: progress is measured from there, not from the
    # previous epoch, so slow steady progress is not a stall.
    improvement_reference: float = -math.inf
    # Whether that reference is a validation score rather than a negated
    # loss: a later call that measures its loss must not compare with it.
    reference_is_validation_score: bool = False
    # The settings that defined the loss of the last call
    # (TorchEstimator._training_objective): its losses are references only
    # for a call with the same.
    objective: dict = None
    n_epochs: int = 0
    n_samples_seen: int = 0
    plateau_reductions: int = 0  # of the current call
    stopped_early: bool = False
    # The current call ran an annealing schedule to its end (max_epochs).
    schedule_completed: bool = False

    def pad_validation_scores(self, n_epochs):
        """NaN scores for the epochs, up to ``n_epochs``, that held out no split."""
        self.validation_scores.extend([math.nan] * (n_epochs - len(self.validation_scores)))

    def restart_stopping_rule(self):
        """Forget the stall count and the improvements of earlier calls.

        A ``warm_start`` fit draws a new validation split (or none): scores
        of another split, or a loss where a score was, are no reference
        (an incremental call after a validated one measures its loss).
        """
        self.best_validation_score = -math.inf
        self.improvement_reference = -math.inf
        self.no_improvement_count = 0


class TrainingDiverged(FloatingPointError):
    """The training loss or the validation score stopped being finite.

    Carries what a caller needs to explain it: the epoch, what became
    non-finite, and the learning rate in use.
    """

    def __init__(self, epoch, quantity, value, learning_rate):
        self.epoch, self.quantity, self.value = epoch, quantity, value
        self.learning_rate = learning_rate
        super().__init__(
            f"Training diverged at epoch {epoch}: the {quantity} became {value} "
            f"(learning rate {learning_rate:.3g})."
        )


# Every this many steps of a fit with an L2 penalty, and at the end of each
# epoch, weights of magnitude below VANISHED are set to 0 (_zero_vanished).
ZERO_VANISHED_EVERY = 8
# Times inputs of order 1, such a weight adds 1e-30: some 20 orders of
# magnitude below float32's resolution of any activation it joins.
VANISHED = 1e-30


@torch.no_grad()
def _zero_vanished(weights, optimizer):
    """Set to 0 the weights below ``VANISHED``, and their optimizer state.

    An L2 penalty is the only force on the weights of a constant input (the
    blank border pixels of digits and MNIST) or of a dead unit, and under
    Adam it shrinks them, and their gradients and moments, geometrically:
    within a few hundred steps they are denormal floats, which x86 CPUs
    compute many times slower (a (32 x 784) @ (784 x 1000) product, one
    thread: 14 ms instead of 0.3 ms with a quarter of the weight rows
    denormal). Once a weight and its moments are 0, with no loss gradient
    they stay 0. torch.set_flush_denormal reaches only the calling thread:
    it brings that product back to 0.3 ms, but a (512 x 784) one at 2
    threads stays at 110 ms with it (benchmarks/step_costs.py).
    """
    for weight in weights:
        if not weight.requires_grad:  # frozen by the user: left as it is
            continue
        vanished = weight.abs() < VANISHED
        weight.masked_fill_(vanished, 0.0)
        for value in optimizer.state.get(weight, {}).values():
            if isinstance(value, torch.Tensor) and value.shape == weight.shape:
                value.masked_fill_(vanished, 0.0)


def _penalised_weights(module):
    """The parameters the L2 penalty applies to: weights, not biases."""
    return [parameter for parameter in module.parameters() if parameter.ndim > 1]


@torch.no_grad()
def _l2_penalty(weights, alpha, batch_len, add_gradient):
    """The L2 penalty of sklearn's MLP, ``0.5 * alpha * ||W||^2 / batch_len``, and its gradient.

    ``add_gradient`` adds ``alpha / batch_len * W`` to each weight's
    gradient after the loss's backward pass, computed as autograd computes
    it for the penalty (``c * 2W``, one rounding), rather than
    backpropagating the penalty, whose graph costs extra whole-weight
    tensors and passes at every step. The result is the same bit for bit
    for a weight the loss uses once; for one it uses twice (tied weights),
    autograd summed the three terms in another order, so the two differ by
    float rounding. Frozen weights (``requires_grad=False``) count in the
    value but get no gradient.
    """
    scale = 0.5 * alpha / batch_len  # a tensor when batch_len is a sum of weights
    if add_gradient:
        double_scale = 2 * torch.as_tensor(scale, dtype=torch.float32)
        for weight in weights:
            if not weight.requires_grad:  # frozen: counted, as autograd did, not trained
                continue
            gradient = torch.mul(weight, double_scale)
            if weight.grad is None:
                weight.grad = gradient
            else:
                weight.grad.add_(gradient)
    return scale * sum(weight.pow(2).sum() for weight in weights)


def _batch_weight(batch, config):
    """What a batch counts for: its number of rows, or its sum of weights."""
    return batch[-1].sum() if config.weighted else batch[0].shape[0]


def _train_epoch_stochastic(module, loss_fn, sources, optimizer, config, generator, schedule):
    n_samples, device = sources[0].n_samples, sources[0].device
    # The epoch's loss is summed (weighted: averaged) in place, on the device: no new tensors
    # and no host synchronisation per batch, one .item() per epoch.
    total = torch.zeros((), dtype=torch.float32, device=device)
    total_weight = torch.zeros((), dtype=torch.float32, device=device) if config.weighted else 0
    # Shuffled batches are gathered into the same memory every time rather
    # than into new tensors (each batch is done with before the next).
    buffers = batch_buffers(sources, config.batch_size) if config.shuffle else None
    penalised = _penalised_weights(module) if config.alpha else None
    optimizer_step = step_function(optimizer)
    for step, (start, stop, index) in enumerate(
        batch_indices(n_samples, config.batch_size, config.shuffle, generator, device), 1
    ):
        if schedule is not None:
            schedule.before_batch()
        batch = get_batch(sources, start, stop, index, buffers)
        weight = _batch_weight(batch, config)
        loss = loss_fn(module, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if penalised is not None:
            loss = loss.detach() + _l2_penalty(penalised, config.alpha, weight, add_gradient=True)
        optimizer_step()
        if penalised is not None and step % ZERO_VANISHED_EVERY == 0:
            _zero_vanished(penalised, optimizer)
        if config.weighted:
            # A running mean: loss x weight could overflow float32 where the
            # weights near its limit (which a fit accepts).
            total_weight.add_(weight)
            total.add_((loss.detach() - total) * (weight / total_weight))
        else:
            total.add_(loss.detach(), alpha=weight)
            total_weight += weight
    if penalised is not None:
        _zero_vanished(penalised, optimizer)
    return total.item() if config.weighted else total.item() / total_weight


def _train_epoch_lbfgs(
    module, loss_fn, sources, optimizer, config, generator, schedule, noise_generators=()
):
    n_samples = sources[0].n_samples
    chunk = config.batch_size if config.rows_add_up else n_samples
    batches = list(batch_indices(n_samples, chunk, False, None))
    total_weight = n_samples
    if config.weighted:
        weights = sources[-1]
        total_weight = float(sum(weights.slice(start, stop).sum() for start, stop, _ in batches))

    def full_batch_loss():
        # Accumulated over batches, so big (or sparse) data is never
        # densified at once; with gradients inside the L-BFGS step.
        total = 0.0
        for start, stop, _ in batches:
            batch = get_batch(sources, start, stop, None)
            loss = loss_fn(module, batch) * (_batch_weight(batch, config) / total_weight)
            if torch.is_grad_enabled():
                loss.backward()
            total += loss.detach()
        if config.alpha:
            total += _l2_penalty(
                _penalised_weights(module), config.alpha, total_weight, torch.is_grad_enabled()
            )
        return total

    # Every evaluation of the step draws the same noise (corruption,
    # dropout), so that its line search compares values of one objective;
    # the next epoch draws anew.
    noise_states = [g.get_state() for g in noise_generators]

    def same_noise():
        for noise_generator, state in zip(noise_generators, noise_states, strict=True):
            noise_generator.set_state(state)

    def closure():
        same_noise()
        optimizer.zero_grad(set_to_none=True)
        return full_batch_loss()

    optimizer.step(closure)
    same_noise()
    with torch.no_grad():  # the loss at the new point, as the other solvers report it
        return float(full_batch_loss())


@torch.no_grad()
def evaluate_mean(module, fn, sources, weighted=False, batch_size=None):
    """Mean over all rows of ``fn(module, batch)`` (per-row values), in eval mode.

    ``weighted``: the last source holds sample weights, and the mean is
    weighted by them. Batches are inference-sized (a few MB of input rows),
    so that scoring a validation split adds only a few batches' temporaries.
    """
    batch_size = batch_size or inference_batch_size(sources[0].row_nbytes)
    was_training = module.training
    module.eval()
    try:
        total = total_weight = 0.0
        for start, stop, _ in batch_indices(sources[0].n_samples, batch_size, False, None):
            batch = get_batch(sources, start, stop, None)
            values = fn(module, batch).cpu().double()  # MPS has no float64
            if weighted:
                values = values * batch[-1].cpu().double()
            total += values.sum().item()
            total_weight += float(batch[-1].sum()) if weighted else stop - start
        return total / total_weight
    finally:
        module.train(was_training)


def _cloned(value):
    """``value`` with every tensor in it cloned (a cheap deepcopy of a state dict)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: _cloned(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cloned(item) for item in value)
    return value


def _snapshot(module, optimizer=None):
    weights = _cloned(module.state_dict())
    return weights, None if optimizer is None else _cloned(optimizer.state_dict())


def _restore(module, optimizer, snapshot):
    weights, optimizer_state = snapshot
    module.load_state_dict(weights)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)


def _improves(value, best, tol):
    """Whether ``value`` beats ``best`` by more than ``tol`` times ``|best|``.

    Strictly, as ``ReduceLROnPlateau``: an unchanged loss (a converged
    L-BFGS, a loss of exactly 0) is no progress, even at tol=0 (where
    sklearn's MLP counts a tie as progress, and can run every epoch).
    """
    return math.isinf(best) or value > best + tol * abs(best)


def _record_epoch(history, loss, score, n_samples, tol):
    """Append one completed epoch; return whether it set a new best score.

    An epoch improves when its loss (or validation score) beats the value
    at the last improvement by more than a fraction ``tol`` of it, as in
    PyTorch's ``ReduceLROnPlateau`` (``threshold_mode="rel"``): a relative tolerance,
    so the rule reads the same on data of any scale, and measured from the
    last improvement, so that a loss falling slowly but steadily (by less
    than ``tol`` per epoch) still counts as progress.
    """
    history.n_epochs += 1
    history.n_samples_seen += n_samples
    history.loss_curve.append(loss)
    new_best = False
    if score is None:
        value = -loss
    else:
        # One score per epoch of loss_curve: NaN for the epochs of earlier
        # calls that held out no validation split (warm_start, partial_fit).
        history.pad_validation_scores(len(history.loss_curve) - 1)
        history.validation_scores.append(score)
        value = score
        new_best = score > history.best_validation_score
        history.best_validation_score = max(history.best_validation_score, score)
    history.best_loss = min(history.best_loss, loss)
    if _improves(value, history.improvement_reference, tol):
        history.improvement_reference = value
        history.reference_is_validation_score = score is not None
        history.no_improvement_count = 0
    else:
        history.no_improvement_count += 1
    return new_best


def _on_plateau(history, optimizer, config, log):
    """After an epoch without progress: lower the rate, or stop.

    "plateau" divides the rate by 5 on each of the first two plateaus of a
    call and stops at the third; "adaptive" (sklearn's MLP) divides it
    until it falls below 1e-6; the other schedules stop at once.
    """
    if history.no_improvement_count <= config.n_iter_no_change:
        return False
    learning_rate = current_learning_rate(optimizer)
    schedule = config.learning_rate_schedule
    lower = (schedule == "adaptive" and learning_rate > ADAPTIVE_MIN_LEARNING_RATE) or (
        schedule == "plateau"
        and history.plateau_reductions < PLATEAU_REDUCTIONS
        and learning_rate > ADAPTIVE_MIN_LEARNING_RATE
    )
    if lower and not isinstance(optimizer, torch.optim.LBFGS):
        set_learning_rate(optimizer, learning_rate / ADAPTIVE_FACTOR)
        history.no_improvement_count = 0
        history.plateau_reductions += 1
        if config.verbose:
            log(f"Learning rate set to {learning_rate / ADAPTIVE_FACTOR:.3g}")
        return False
    history.stopped_early = True
    return True


def _epoch_outcome(module, loss, optimizer, history, score_fn, val_sources, config):
    """The epoch's validation score (or None); raises if anything diverged."""
    epoch = history.n_epochs + 1
    if not math.isfinite(loss):
        raise TrainingDiverged(epoch, "training loss", loss, current_learning_rate(optimizer))
    if val_sources is None:
        return None
    score = evaluate_mean(module, score_fn, val_sources, config.weighted)
    if not math.isfinite(score):
        raise TrainingDiverged(epoch, "validation score", score, current_learning_rate(optimizer))
    return score


def finite_parameters(module):
    """Whether every parameter of ``module`` is finite (one device sync).

    Parameters only: a buffer may be infinite by design (a clamp bound, a
    mask of -inf).
    """
    checks = [torch.isfinite(parameter).all() for parameter in module.parameters()]
    return not checks or bool(torch.stack(checks).all())


def _make_schedule(optimizer, config, n_samples):
    if config.learning_rate_schedule != "cosine" or isinstance(optimizer, torch.optim.LBFGS):
        return None  # L-BFGS's line search sets its own steps
    n_steps = config.max_epochs * math.ceil(n_samples / config.batch_size)
    return CosineSchedule(optimizer, config.learning_rate, n_steps)


def fit_module(
    module,
    loss_fn,
    train_sources,
    optimizer,
    config,
    generator,
    *,
    val_sources=None,
    score_fn=None,
    history=None,
    log=None,
    noise_generators=(),
):
    """Train ``module`` in place for up to ``config.max_epochs`` epochs.

    ``loss_fn(module, batch)`` is the mean training loss of a batch (a
    tuple with one tensor per source of ``train_sources``); ``optimizer``
    is built on ``module``'s parameters, at the learning rate to start
    from; ``generator`` (CPU) draws the batch order. With ``val_sources``,
    ``score_fn(module, batch)`` gives per-row scores (higher is better)
    whose mean is the epoch's validation score: training stops when it
    stalls and the best epoch's weights are restored. ``history`` continues
    an earlier call; ``log`` gets the lines of ``config.verbose``.
    ``noise_generators`` are those ``loss_fn`` draws noise from: L-BFGS
    replays their draws in every evaluation of a step.

    Returns the :class:`History`. Raises :class:`TrainingDiverged` when the
    loss or the score stops being finite (``module`` is then undefined:
    callers train a copy), and when the weights it ends with are not
    finite. On ``KeyboardInterrupt``, module and optimizer go back to the
    last completed epoch (the best one under early stopping), ``history``
    lists completed epochs only, and it re-raises (whether that epoch's
    weights are finite, :func:`finite_parameters`, is the caller's to ask).
    """
    history = History() if history is None else history
    log = log or (lambda line: print(line, file=sys.stdout, flush=True))
    run_epoch = _train_epoch_stochastic
    if isinstance(optimizer, torch.optim.LBFGS):
        run_epoch = functools.partial(_train_epoch_lbfgs, noise_generators=noise_generators)
    schedule = _make_schedule(optimizer, config, train_sources[0].n_samples)
    history.stopped_early, history.plateau_reductions = False, 0
    history.schedule_completed = False
    last_epoch, best = _snapshot(module, optimizer), None
    module.train()
    try:
        for _ in range(config.max_epochs):
            tic = time.perf_counter()
            loss = run_epoch(
                module, loss_fn, train_sources, optimizer, config, generator, schedule
            )
            score = _epoch_outcome(module, loss, optimizer, history, score_fn, val_sources, config)
            # Taken before the history counts the epoch: an interrupt while
            # copying leaves both at the epoch before.
            epoch_end = _snapshot(module, optimizer)
            if _record_epoch(history, loss, score, train_sources[0].n_samples, config.tol):
                best = (epoch_end[0], None)  # the weights (the optimizer goes on)
            last_epoch = epoch_end
            if config.verbose:
                log(_epoch_line(history, loss, score, time.perf_counter() - tic))
            if _on_plateau(history, optimizer, config, log):
                break
    except KeyboardInterrupt:
        _restore(module, optimizer, last_epoch)
        raise
    finally:
        if best is not None:  # early stopping keeps the best validation epoch
            _restore(module, optimizer, best)
        module.eval()
    # Each epoch's loss is taken before its batches' steps: a later epoch's
    # loss reveals weights an earlier step broke, but nothing checks the
    # last step's. (After an interrupt, the caller checks the epoch it keeps.)
    if not finite_parameters(module):
        lr = current_learning_rate(optimizer)
        raise TrainingDiverged(history.n_epochs, "weights", "non-finite", lr)
    history.schedule_completed = schedule is not None and not history.stopped_early
    return history


def _epoch_line(history, loss, score, seconds):
    line = f"Epoch {history.n_epochs}, loss = {loss:.6g}"
    if score is not None:
        line += f", validation score = {score:.6g}"
    return f"{line}, time = {seconds:.2f}s"
