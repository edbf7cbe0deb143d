"""The one training loop of skae.

It knows nothing of scikit-learn: it trains any ``torch.nn.Module`` with a
loss function ``loss_fn(module, batch) -> scalar tensor`` over in-memory
data. Batches are taken by slicing a permuted index of whole tensors (no
per-sample ``DataLoader``), randomness comes from the generator it is given
(never torch's global one), and scipy.sparse data is densified one batch at
a time.
"""

import copy
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "BatchSource",
    "History",
    "TrainingConfig",
    "evaluate_loss",
    "fit_module",
    "make_optimizer",
    "predict_in_batches",
    "resolve_device",
    "schedule_for_call",
    "set_learning_rate",
]

LBFGS_ITERATIONS_PER_EPOCH = 20
# Inference needs no gradients, so it can use bigger batches than training.
_INFERENCE_BATCH_SIZE = 4096
LEARNING_RATE_SCHEDULES = ("constant", "adaptive", "cosine")
# sklearn's "adaptive" schedule: divide by 5 on a plateau, stop below 1e-6.
_ADAPTIVE_FACTOR = 5.0
_ADAPTIVE_MIN_LEARNING_RATE = 1e-6


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"``... into a ``torch.device``.

    Raises
    ------
    ValueError
        If the name is not a device torch knows, or names a device that this
        machine does not have.

    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a device name torch understands; "
            "use 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'."
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested, but CUDA is not available "
                f"(torch {torch.__version__}, torch.cuda.is_available() is False). "
                "Use device='cpu', or device='auto' to use a GPU only when present."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested, but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} was requested, but MPS is not available on this "
            "machine. Use device='cpu' or device='auto'."
        )
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not supported; use 'cpu', 'cuda', 'mps' or 'auto'."
        )
    return resolved


class BatchSource:
    """Rows of one array, served as float32 tensors on ``device``.

    A dense array is moved to the device once; a scipy.sparse matrix stays
    sparse on the host and only the requested rows are densified.

    Parameters
    ----------
    data : ndarray or scipy.sparse matrix of shape (n_samples, ...)
    device : torch.device
    dtype : torch.dtype, default=torch.float32
        ``torch.long`` for class labels.

    """

    def __init__(self, data, device, dtype=torch.float32):
        self.device = device
        self.dtype = dtype
        self.n_samples = data.shape[0]
        if sp.issparse(data):
            self._sparse = sp.csr_matrix(data)
            self._tensor = None
        else:
            self._sparse = None
            self._tensor = _to_tensor(data, device, dtype)

    def take(self, index):
        """Rows at ``index`` (a 1-D LongTensor, best already on ``device``)."""
        if self._tensor is not None:
            return self._tensor.index_select(0, index.to(self.device))
        rows = self._sparse[index.cpu().numpy()].toarray()
        return torch.from_numpy(rows).to(self.device, self.dtype)

    def slice(self, start, stop):
        """Rows ``start:stop`` in order (a view for dense data)."""
        if self._tensor is not None:
            return self._tensor[start:stop]
        rows = self._sparse[start:stop].toarray()
        return torch.from_numpy(rows).to(self.device, self.dtype)


def _to_tensor(array, device, dtype):
    array = np.asarray(array)
    numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
    # Share memory when we can; copy read-only arrays (memmaps), which torch
    # cannot wrap without warning, and anything of another dtype.
    if array.dtype != numpy_dtype or not array.flags.writeable:
        array = np.array(array, dtype=numpy_dtype, order="C")
    else:
        array = np.ascontiguousarray(array)
    return torch.from_numpy(array).to(device)


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


@dataclass
class History:
    """What training did, carried over between calls for warm starts."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    no_improvement_count: int = 0
    n_epochs: int = 0
    stopped_early: bool = False
    interrupted: bool = False


def make_optimizer(solver, parameters, learning_rate):
    """Optimizer called ``solver`` ("adam", "sgd", "rmsprop", "adamw", "lbfgs").

    ``learning_rate`` is ignored by "lbfgs", whose line search sets the steps.
    """
    parameters = list(parameters)
    if solver == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate)
    if solver == "adamw":
        return torch.optim.AdamW(parameters, lr=learning_rate)
    if solver == "sgd":
        # sklearn's MLP defaults: momentum 0.9 with Nesterov.
        return torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9, nesterov=True)
    if solver == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=learning_rate)
    if solver == "lbfgs":
        # An epoch is one step of up to 20 L-BFGS iterations (torch's
        # default): torch's L-BFGS barely progresses when each step() is
        # limited to a single iteration.
        # Like sklearn's MLP, L-BFGS ignores the learning rate: the strong
        # Wolfe line search chooses every step length.
        return torch.optim.LBFGS(
            parameters,
            lr=1.0,
            max_iter=LBFGS_ITERATIONS_PER_EPOCH,
            line_search_fn="strong_wolfe",
        )
    raise ValueError(
        f"Unknown solver {solver!r}; expected 'adam', 'adamw', 'sgd', 'rmsprop' or 'lbfgs'."
    )


def schedule_for_call(learning_rate, incremental):
    """The schedule one call trains with: ``partial_fit`` has nothing to anneal.

    A "cosine" schedule spans the epochs of one call; ``partial_fit`` trains
    a single epoch per call, so it keeps the rate constant instead.
    """
    return "constant" if incremental and learning_rate == "cosine" else learning_rate


def set_learning_rate(optimizer, learning_rate):
    """Set the learning rate of every parameter group of ``optimizer``."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate


class _CosineSchedule:
    """Cosine annealing from ``config.learning_rate`` to 0 over the call's epochs.

    Updated before every batch rather than every epoch, so that a run of a
    few epochs still decays smoothly.
    """

    def __init__(self, optimizer, config, n_samples):
        self.optimizer = optimizer
        self.base = config.learning_rate
        self.n_steps = config.max_epochs * math.ceil(n_samples / config.batch_size)
        self.step = 0

    def before_batch(self):
        progress = min(self.step / self.n_steps, 1.0)
        set_learning_rate(self.optimizer, self.base * 0.5 * (1.0 + math.cos(math.pi * progress)))
        self.step += 1


def _l2_penalty(module, alpha, batch_len):
    # sklearn's MLP convention: 0.5 * alpha * ||W||^2 / n_samples_in_batch, on
    # weights only (biases are not penalised).
    squares = sum(p.pow(2).sum() for p in module.parameters() if p.ndim > 1)
    return (0.5 * alpha / batch_len) * squares


def _batch_indices(n_samples, batch_size, shuffle, generator, device=None):
    """Index tensors of the batches of one epoch (None means "in order").

    The permutation is drawn on the CPU (so that it depends only on the
    generator, whatever the device) and moved to ``device`` once per epoch.
    """
    order = None
    if shuffle:
        order = torch.randperm(n_samples, generator=generator).to(device or "cpu")
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        yield start, stop, (order[start:stop] if order is not None else None)


def _get_batch(sources, start, stop, index):
    if index is None:
        return tuple(source.slice(start, stop) for source in sources)
    return tuple(source.take(index) for source in sources)


def _train_epoch_stochastic(module, loss_fn, sources, optimizer, config, generator, schedule):
    n_samples = sources[0].n_samples
    total = torch.zeros((), device=sources[0].device)
    for start, stop, index in _batch_indices(
        n_samples, config.batch_size, config.shuffle, generator, sources[0].device
    ):
        if schedule is not None:
            schedule.before_batch()
        batch = _get_batch(sources, start, stop, index)
        loss = loss_fn(module, batch)
        if config.alpha:
            loss = loss + _l2_penalty(module, config.alpha, stop - start)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * (stop - start)
    return total.item() / n_samples


def _train_epoch_lbfgs(module, loss_fn, sources, optimizer, config, generator, schedule):
    n_samples = sources[0].n_samples

    def closure():
        # The full-batch loss and gradient, accumulated over batches so that
        # big (or sparse) data never has to be densified at once.
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for start, stop, index in _batch_indices(n_samples, config.batch_size, False, generator):
            batch = _get_batch(sources, start, stop, index)
            loss = loss_fn(module, batch) * ((stop - start) / n_samples)
            loss.backward()
            total += loss.detach()
        if config.alpha:
            penalty = _l2_penalty(module, config.alpha, n_samples)
            penalty.backward()
            total += penalty.detach()
        return total

    optimizer.step(closure)
    # The loss at the new point, as the stochastic solvers report it.
    return _full_loss(module, loss_fn, sources, config)


@torch.no_grad()
def _full_loss(module, loss_fn, sources, config):
    n_samples = sources[0].n_samples
    total = 0.0
    for start, stop, _ in _batch_indices(n_samples, config.batch_size, False, None):
        batch = _get_batch(sources, start, stop, None)
        total += loss_fn(module, batch).item() * (stop - start)
    loss = total / n_samples
    if config.alpha:
        loss += _l2_penalty(module, config.alpha, n_samples).item()
    return loss


@torch.no_grad()
def evaluate_loss(module, loss_fn, sources, batch_size=_INFERENCE_BATCH_SIZE):
    """Mean of ``loss_fn`` over all rows of ``sources``, in eval mode."""
    was_training = module.training
    module.eval()
    try:
        n_samples = sources[0].n_samples
        total = 0.0
        for start, stop, _ in _batch_indices(n_samples, batch_size, False, None):
            batch = _get_batch(sources, start, stop, None)
            total += loss_fn(module, batch).item() * (stop - start)
        return total / n_samples
    finally:
        module.train(was_training)


def _snapshot(module):
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def fit_module(
    module,
    loss_fn,
    train_sources,
    optimizer,
    config,
    generator,
    *,
    val_sources=None,
    val_loss_fn=None,
    history=None,
    log=None,
):
    """Train ``module`` in place for up to ``config.max_epochs`` epochs.

    Parameters
    ----------
    module : torch.nn.Module
    loss_fn : callable ``(module, batch) -> scalar tensor``
        Mean training loss of a batch; ``batch`` is a tuple with one tensor
        per source.
    train_sources : tuple of BatchSource
        Training data, all with the same number of rows.
    optimizer : torch.optim.Optimizer
        Built on ``module``'s parameters (see :func:`make_optimizer`).
    config : TrainingConfig
    generator : torch.Generator
        CPU generator for the batch order.
    val_sources : tuple of BatchSource, optional
        Held-out data: enables early stopping on it, and the weights of the
        best validation epoch are restored at the end.
    val_loss_fn : callable, optional
        Loss used on ``val_sources`` (default ``loss_fn``); the validation
        score is its negative.
    history : History, optional
        Continue from an earlier call (warm start, ``partial_fit``).
        Training starts from the optimizer's current learning rate; the
        caller sets it (:func:`set_learning_rate`) for a fresh fit.
    log : callable, optional
        Receives one line per epoch when ``config.verbose``; default prints.

    Returns
    -------
    History

    Raises
    ------
    FloatingPointError
        If the training loss stops being finite; ``module`` is then left in
        an undefined state, so callers train a copy.

    """
    history = History() if history is None else history
    log = log or (lambda line: print(line, file=sys.stdout, flush=True))
    val_loss_fn = val_loss_fn or loss_fn
    is_lbfgs = isinstance(optimizer, torch.optim.LBFGS)
    run_epoch = _train_epoch_lbfgs if is_lbfgs else _train_epoch_stochastic
    # L-BFGS's line search sets its own steps: no schedule applies to it.
    schedule = None
    if config.learning_rate_schedule == "cosine" and not is_lbfgs:
        schedule = _CosineSchedule(optimizer, config, train_sources[0].n_samples)
    adaptive = config.learning_rate_schedule == "adaptive" and not is_lbfgs
    best_state = None
    history.stopped_early = False
    history.interrupted = False
    module.train()
    try:
        for _ in range(config.max_epochs):
            tic = time.perf_counter()
            loss = run_epoch(
                module, loss_fn, train_sources, optimizer, config, generator, schedule
            )
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"Training diverged at epoch {history.n_epochs + 1}: the loss "
                    f"became {loss}. The learning rate (learning_rate_init="
                    f"{config.learning_rate}) is probably too high for this data: "
                    "lower it (e.g. by 10x), or scale X (StandardScaler, MinMaxScaler)."
                )
            history.n_epochs += 1
            history.loss_curve.append(loss)
            line = f"Epoch {history.n_epochs}, loss = {loss:.6g}"
            if val_sources is not None:
                val_loss = evaluate_loss(module, val_loss_fn, val_sources)
                score = -val_loss
                history.validation_scores.append(score)
                line += f", validation loss = {val_loss:.6g}"
                improved = score >= history.best_validation_score + config.tol
                if score > history.best_validation_score:
                    history.best_validation_score = score
                    best_state = _snapshot(module)
            else:
                improved = loss <= history.best_loss - config.tol
            history.best_loss = min(history.best_loss, loss)
            history.no_improvement_count = 0 if improved else history.no_improvement_count + 1
            if config.verbose:
                log(f"{line}, time = {time.perf_counter() - tic:.2f}s")
            if history.no_improvement_count > config.n_iter_no_change:
                learning_rate = optimizer.param_groups[0]["lr"]
                if adaptive and learning_rate > _ADAPTIVE_MIN_LEARNING_RATE:
                    # A plateau: go on with a smaller step instead of stopping.
                    set_learning_rate(optimizer, learning_rate / _ADAPTIVE_FACTOR)
                    history.no_improvement_count = 0
                    if config.verbose:
                        log(f"Learning rate set to {learning_rate / _ADAPTIVE_FACTOR:.3g}")
                    continue
                history.stopped_early = True
                break
    except KeyboardInterrupt:
        # Like skorch: Ctrl-C ends training but keeps a usable model.
        history.interrupted = True
        if config.verbose:
            log(f"Training interrupted by the user after {history.n_epochs} epoch(s).")
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history


@torch.no_grad()
def predict_in_batches(fn, source, batch_size=_INFERENCE_BATCH_SIZE):
    """Apply ``fn`` to the rows of ``source`` in eval mode, as a numpy array."""
    outputs = []
    for start in range(0, source.n_samples, batch_size):
        stop = min(start + batch_size, source.n_samples)
        outputs.append(fn(source.slice(start, stop)).detach().cpu())
    if not outputs:
        raise ValueError("No rows to predict on.")
    return torch.cat(outputs).numpy()


def copy_for_training(module, optimizer):
    """Deep copies of ``module`` and its ``optimizer`` that still belong together.

    Warm starts train the copies, so that an error mid-training leaves the
    fitted estimator exactly as it was.
    """
    return copy.deepcopy((module, optimizer))
