"""The one fit sequence of every skae estimator, and what surrounds it.

``fit``/``partial_fit`` of every estimator run :meth:`TorchEstimator._fit_sequence`:

1. validate the parameters and the data (``_fit_data``, a hook);
2. seed, then build and initialise the net (``_build_net``, a hook) or
   resume the fitted one (``warm_start``, ``partial_fit``);
3. pretrain (``_pretrain``, a hook; nothing by default);
4. train it, as one :class:`Phase` of the training loop;
5. commit the fitted attributes at once, or leave the estimator as it was.

Variants plug in through the hooks (a net factory, a loss term, a
corruption), never through this sequence or the loop. The mixin also owns
batched inference in the input's dtype, the guard against non-finite
output, the messages for divergence, and pickling.
"""

import contextlib
import copy
import functools
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._blocks import all_finite
from ._divergence import divergence_message, largest_magnitude, refuse_non_finite_input
from ._layers import (
    build_initialized,
    build_seeded,
    global_generators,
    seeded_global_generators,
)
from ._optim import (
    LBFGS_STEP,
    LEARNING_RATE_SCHEDULES,
    SOLVERS,
    make_optimizer,
    schedule_for_call,
    set_learning_rate,
)
from ._state import plain_state, restore_fitted_state
from ._tensors import (
    BatchSource,
    Rows,
    inference_batch_size,
    predict_in_batches,
    resolve_device,
)
from ._threads import thread_budget, work_per_batch
from ._training import History, TrainingConfig, TrainingDiverged, finite_parameters, fit_module
from ._warnings import warn_at_caller

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)
_SEED_RANGE = np.iinfo(np.int32).max
_LAYER_SIZE_PARAMETERS = frozenset({"hidden_layer_sizes", "conv_channels"})

# The training parameters every estimator shares, named as in sklearn's MLP.
TRAINING_PARAMETER_CONSTRAINTS = {
    "solver": [StrOptions(set(SOLVERS))],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    # Bounded: optimizers keep the rate in float32 on some devices.
    "learning_rate_init": [Interval(Real, 0, _FLOAT32_MAX, closed="right")],
    "learning_rate": [StrOptions(set(LEARNING_RATE_SCHEDULES))],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "shuffle": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "device": [str, torch.device],
    "compile": ["boolean"],
    "verbose": ["verbose"],
}


def store_parameters(estimator, arguments):
    """Store each constructor argument as the attribute of the same name.

    All that a scikit-learn ``__init__`` may do: called as
    ``store_parameters(self, locals())`` first thing in ``__init__``, so the
    explicit signature (which ``get_params`` and ``clone`` read) is the one
    list of parameters.
    """
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


def _same(a, b):
    """Whether two parameter values are equal (a callable only to itself)."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def as_layer_sizes(value, name="hidden_layer_sizes"):
    """Validate a setting that is an int or a sequence of ints >= 1, named ``name``."""
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes) or any(
        s < 1 for s in sizes
    ):
        raise ValueError(f"{name} must be an int or a sequence of positive ints, got {value!r}.")
    return tuple(int(s) for s in sizes)


_BROKEN_EPOCH_NOTE = (
    "skae: the last completed epoch's weights are not finite (is the learning rate "
    "too high?): the estimator is left as it was."
)


def _note(error, text):
    """Add ``text`` to ``error``'s traceback, where Python can (3.11 and later)."""
    if hasattr(error, "add_note"):
        error.add_note(text)


def drop_zero_weights(X, sample_weight, *others):
    """Check ``sample_weight`` and drop the rows it weighs 0, before any other use.

    Returns ``X``, the weights (None when not given) and ``others`` (arrays
    with one row per sample), all without the zero-weight rows.
    """
    if sample_weight is None:
        return X, None, *others
    sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    if not np.isfinite(sample_weight).all():  # let through by assume_finite=True
        raise ValueError(
            "sample_weight contains NaN or infinity, which scikit-learn's check would "
            "have refused, but sklearn.config_context(assume_finite=True) skipped it."
        )
    keep = sample_weight > 0
    if not keep.any():
        raise ValueError("sample_weight is 0 for every sample: nothing to fit.")
    _check_weight_range(sample_weight[keep])
    if keep.all():
        return X, sample_weight, *others
    return X[keep], sample_weight[keep], *(other[keep] for other in others)


def _check_weight_range(positive_weights):
    """Refuse weights whose float32 sums (training's) would underflow or overflow."""
    smallest, largest = float(positive_weights.min()), float(positive_weights.max())
    if smallest < _FLOAT32_TINY or largest * positive_weights.size > _FLOAT32_MAX:
        raise ValueError(
            f"sample_weight has positive values from {smallest:.3g} to {largest:.3g}: "
            f"training sums them in float32, which needs them above {_FLOAT32_TINY:.3g} "
            f"and their sum below {_FLOAT32_MAX:.3g}. Rescale sample_weight, e.g. "
            "sample_weight / sample_weight.max()."
        )


def _fits_float32(dtype):
    """Whether every value of ``dtype`` lies within float32's range."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return dtype.kind == "b" or float(np.iinfo(dtype).max) <= _FLOAT32_MAX
    return dtype.kind == "f" and float(np.finfo(dtype).max) <= _FLOAT32_MAX


def check_float32_range(X):
    """Refuse training data beyond float32's range, the dtype training runs in.

    Finite float64 values above float32's largest (3.4e38) would train as
    inf: the error names them instead. Returns ``X``. Data of a dtype whose
    every value fits float32 (float32, float16, integers, booleans) is
    returned unread: on MNIST as float32 the scan would take 24 ms, half
    as long as the statistics ``mean_`` and ``scale_`` (46 ms;
    benchmarks/step_costs.py).
    """
    if _fits_float32(X.dtype):
        return X
    largest = largest_magnitude(X)
    if largest > _FLOAT32_MAX:
        raise ValueError(
            f"X has values of magnitude up to {largest:.3g}, beyond the largest float32 "
            f"({_FLOAT32_MAX:.3g}): skae trains in float32. Scale X first, e.g. with "
            "sklearn.preprocessing.StandardScaler."
        )
    return X


@dataclass
class FitData:
    """Validated training data, as a ``_fit_data`` hook returns it.

    ``X`` is all of the input (what pretraining sees); ``arrays`` are the
    row-aligned arrays the main phase trains on (``(X,)`` for an
    autoencoder, labelled ``(X, class index)`` for a classifier);
    ``stratify`` the labels a validation split keeps balanced;
    ``attributes`` fitted attributes to commit with the rest.
    """

    X: object
    arrays: tuple
    stratify: object = None
    weighted: bool = False  # the last of ``arrays`` holds sample weights
    sample_weight: object = None  # of the rows of ``X``, when given
    attributes: dict = field(default_factory=dict)
    train_arrays: tuple = None  # ``arrays`` less the validation split, set by _main_phase


@dataclass
class Phase:
    """One use of the training loop: a module, its loss and data, and settings."""

    module: torch.nn.Module
    loss_fn: object
    sources: tuple
    optimizer: torch.optim.Optimizer
    config: TrainingConfig
    val_sources: tuple = None
    score_fn: object = None
    history: History = None
    name: str = ""  # prefix of verbose lines and of messages
    # What loss_fn draws its noise from (see fit_module's noise_generators).
    noise_generator: torch.Generator = None
    # Whether pretraining ran before this phase, in the same call.
    after_pretraining: bool = False
    learning_rate_param: str = "learning_rate_init"


class TorchEstimator:
    """The fit sequence, inference and pickling around ``module_``.

    Subclasses provide the hooks ``_fit_data``, ``_build_net``,
    ``_batch_loss`` and ``_batch_scores`` (and may provide ``_pretrain``).
    Place it right before ``BaseEstimator`` in the bases.
    """

    _main_phase_name = ""
    # The parameters the net's structure is built from. A fresh fit records
    # their values (``_net_parameters_``): a saved model rebuilds its net
    # from those whatever ``set_params`` did since, and warm_start and
    # partial_fit refuse to go on training a net they no longer describe.
    _net_parameters = ()
    # The parameters that define the training loss's scale. A partial_fit
    # after set_params changed one of them restarts the stopping rule: the
    # losses of another objective are no reference for progress.
    _objective_parameters = ("alpha",)

    def _training_objective(self):
        """The values of ``_objective_parameters``, as a dict of str, float or None."""
        return {
            name: value if value is None or isinstance(value, str) else float(value)
            for name, value in ((name, getattr(self, name)) for name in self._objective_parameters)
        }

    # ----------------------------------------------------------- the sequence

    def _fit_sequence(self, X, y, incremental, classes=None, sample_weight=None):
        """Train, then commit every fitted attribute at once, or nothing.

        Any error leaves the estimator exactly as it was. ``KeyboardInterrupt``
        commits the last completed epoch of the main phase, if there is one
        (else leaves the estimator as it was), then is re-raised. Warnings
        come after the commit, so a filter that turns them into errors
        leaves the completed fit in place.
        """
        saved = self.__dict__.copy()
        try:
            # Training needs autograd whatever the caller's mode: a fit may
            # run inside torch.no_grad() or torch.inference_mode().
            with torch.inference_mode(False), torch.enable_grad():
                attributes, interrupt, data = self._train(
                    X, y, incremental, classes, sample_weight
                )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        if attributes is None:
            self.__dict__.clear()
            self.__dict__.update(saved)
        else:
            self.__dict__.update(attributes)
        if interrupt is not None:
            raise interrupt
        self._warn_on_stop(incremental)
        if not incremental and attributes is not None:
            self._warn_on_result(data)
        return self

    def _train(self, X, y, incremental, classes, sample_weight):
        """Steps 1 to 4; returns (fitted attributes or None, interrupt or None, FitData)."""
        self._validate_params()
        continuing = (incremental or self.warm_start) and hasattr(self, "module_")
        data = self._fit_data(
            X, y, sample_weight, continuing=continuing, incremental=incremental, classes=classes
        )
        seed = check_random_state(self.random_state).randint(_SEED_RANGE)
        objective = self._training_objective()
        if continuing:
            self._check_net_parameters_unchanged(incremental)
            net, device, history, optimizer_state, seed = self._resumed_training_state(seed)
            # A warm_start fit runs its own stopping rule; a partial_fit
            # continues the one before unless that measured validation
            # scores or another objective (None: a state saved before).
            changed = history.objective not in (None, objective)
            if not incremental or history.reference_is_validation_score or changed:
                history.restart_stopping_rule()
        else:
            device = resolve_device(self.device)
            net, history, optimizer_state = self._new_net(data, seed).to(device), History(), None
            data.attributes["_net_parameters_"] = self._net_parameter_values()
        history.objective = objective
        order_generator = torch.Generator().manual_seed(seed + 1)  # batch order
        noise_generator = torch.Generator(device=device).manual_seed(seed + 2)  # noise, masks
        # Built (and the validation split checked) before any pretraining.
        phase = self._main_phase(net, data, seed, incremental, noise_generator, history)
        # A user's modules may draw from torch's global generators (dropout);
        # skae's own never do, and leave them alone (threads share them).
        forked = self._has_user_modules()
        with seeded_global_generators(seed + 3, device) if forked else contextlib.nullcontext():
            try:
                if not continuing:
                    pretrained = self._pretrain(net, data, order_generator, noise_generator)
                    data.attributes.update(pretrained)
                    phase.after_pretraining = True
            except KeyboardInterrupt as interrupt:
                return None, interrupt, data  # nothing goes on to the next phase
            attributes, interrupt = self._train_main_phase(
                phase, data, device, order_generator, optimizer_state, incremental
            )
            return attributes, interrupt, data

    def _train_main_phase(
        self, phase, data, device, order_generator, optimizer_state, incremental
    ):
        """Step 4: the main phase; returns (fitted attributes or None, interrupt or None)."""
        if optimizer_state is not None:
            phase.optimizer.load_state_dict(optimizer_state)
        if isinstance(phase.optimizer, torch.optim.LBFGS):
            # Its line search scales a unit step, whatever a stored state
            # says (models saved by earlier versions stored learning_rate_init).
            set_learning_rate(phase.optimizer, LBFGS_STEP)
        elif not incremental:
            # Every fit starts from learning_rate_init (as sklearn's MLP);
            # partial_fit goes on with the rate an "adaptive" schedule left.
            set_learning_rate(phase.optimizer, self.learning_rate_init)
        n_epochs_before, interrupt = phase.history.n_epochs, None
        try:
            self._run_phase(phase, order_generator, data.X)
        except KeyboardInterrupt as caught:
            if phase.history.n_epochs == n_epochs_before:
                return None, caught
            if not finite_parameters(phase.module):  # that epoch's last step broke them
                _note(caught, _BROKEN_EPOCH_NOTE)
                return None, caught
            interrupt = caught
        return self._fitted_attributes(phase, data, device), interrupt

    def _net_parameter_values(self):
        """The values of the parameters in ``_net_parameters``, validated and comparable."""
        values = {}
        for name in self._net_parameters:
            value = getattr(self, name)
            if name in _LAYER_SIZE_PARAMETERS:
                value = as_layer_sizes(value, name)
            elif isinstance(value, list | np.ndarray):
                value = tuple(np.asarray(value).tolist())
            values[name] = value
        return values

    def _compared_net_parameters(self, values, built_with):
        """Of the net parameters' ``values``, those that shape the net ``built_with`` describes.

        A subclass drops those that net ignores (a convolution setting of an
        MLP) and puts equivalent values in one form; both the recorded and
        the current values go through it.
        """
        return values

    def _check_net_parameters_unchanged(self, incremental):
        """Refuse to continue training a net that the parameters no longer describe."""
        built_with = getattr(self, "_net_parameters_", None)
        if built_with is None:  # saved by a skae that did not record them
            return
        now = self._compared_net_parameters(self._net_parameter_values(), built_with)
        built_with = self._compared_net_parameters(built_with, built_with)
        changed = [name for name, value in built_with.items() if not _same(now[name], value)]
        if changed:
            how = "partial_fit" if incremental else "fit with warm_start=True"
            details = ", ".join(
                f"{name}={now[name]!r} (the net was built with {built_with[name]!r})"
                for name in changed
            )
            fresh = "fit()" if incremental else "warm_start=False"
            raise ValueError(
                f"{how} continues training the fitted net, but the parameters now "
                f"describe a different net: {details}. Use {fresh} to build and "
                "train a new net, or set the parameters back."
            )

    def _has_user_modules(self):
        """Whether the net holds a user's modules (a callable ``architecture``)."""
        return callable(getattr(self, "architecture", None))

    def _new_net(self, data, seed):
        """The net of a fresh fit, its initial weights drawn from ``seed`` only."""
        factory = functools.partial(self._build_net, data)
        if self._has_user_modules():
            return build_seeded(factory, seed)  # the user's own initialisation
        return build_initialized(factory, torch.Generator().manual_seed(seed))

    def _pretrain(self, net, data, order_generator, noise_generator):
        """Train parts of ``net`` before the main phase; returns fitted attributes."""
        return {}

    def _main_phase(self, net, data, seed, incremental, noise_generator, history):
        """The main phase: ``net`` on ``data.arrays``, with a validation split."""
        arrays, val_arrays = data.arrays, None
        if self.early_stopping and not incremental:
            arrays, val_arrays = self._validation_split(data, seed)
        data.train_arrays = arrays  # what pretraining may see: no validation rows
        device = next(net.parameters()).device
        return Phase(
            module=net,
            loss_fn=lambda module, batch: self._batch_loss(module, batch, noise_generator),
            sources=self._sources(arrays, device),
            optimizer=make_optimizer(self.solver, net.parameters(), self.learning_rate_init),
            config=self._config(arrays[0].shape[0], incremental, weighted=data.weighted),
            val_sources=None if val_arrays is None else self._sources(val_arrays, device),
            score_fn=self._batch_scores,
            history=history,
            name=self._main_phase_name,
            noise_generator=noise_generator,
        )

    @staticmethod
    def _sources(arrays, device):
        # The first array is X, features of any dtype (uint8 pixels too):
        # float32. After it, integer arrays are class indices.
        X, *others = arrays
        return (BatchSource(X, device),) + tuple(
            BatchSource(
                a, device, torch.long if np.issubdtype(a.dtype, np.integer) else torch.float32
            )
            for a in others
        )

    def _loss_adds_up_over_rows(self):
        """Whether the loss is a mean over rows (no term computed over a batch)."""
        return not self._has_user_modules()  # a user's BatchNorm1d would not

    def _auto_batch_size(self):
        """The batch size ``batch_size="auto"`` stands for (before clipping to the rows)."""
        return 200

    def _config(self, n_samples, incremental, max_epochs=None, learning_rate=None, weighted=False):
        """The TrainingConfig of a phase over ``n_samples`` rows."""
        batch_size = self._auto_batch_size() if self.batch_size == "auto" else self.batch_size
        return TrainingConfig(
            batch_size=max(1, min(batch_size, n_samples)),
            max_epochs=1 if incremental else (max_epochs or self.max_iter),
            learning_rate=learning_rate or self.learning_rate_init,
            alpha=self.alpha,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=bool(self.verbose),
            learning_rate_schedule=schedule_for_call(self.learning_rate, incremental),
            weighted=weighted,
            rows_add_up=self._loss_adds_up_over_rows(),
        )

    def _validation_split(self, data, seed):
        """Hold out ``validation_fraction`` of ``data.arrays`` (stratified if asked).

        The rows are those ``train_test_split(*data.arrays)`` would pick, as
        :class:`~skae._tensors.Rows` of the arrays rather than copies of them.
        """
        n_samples = data.arrays[0].shape[0]
        try:
            train, validation = train_test_split(
                np.arange(n_samples),
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=data.stratify,
            )
        except ValueError as error:
            # A classifier (data.stratify) holds out labelled rows only.
            classified = data.stratify is not None
            raise ValueError(
                f"early_stopping=True cannot hold out validation_fraction="
                f"{self.validation_fraction} of the {'labelled ' if classified else ''}"
                f"training samples (n_samples={n_samples})"
                + (" with every class in both parts" if classified else "")
                + ": use more samples, another validation_fraction, or "
                "early_stopping=False."
            ) from error
        return (
            tuple(Rows.of(array, train) for array in data.arrays),
            tuple(Rows.of(array, validation) for array in data.arrays),
        )

    def _run_phase(self, phase, order_generator, X):
        """Train one phase; explain a divergence in the user's terms."""
        prefix = f"{phase.name}: " if phase.name else ""
        work = work_per_batch(phase.module, phase.config.batch_size)
        # Compiled here, for this call only: nothing compiled is ever stored
        # on the estimator. torch caches the compiled code by the loss
        # function's code, so later fits with same-shaped nets reuse it.
        loss_fn = torch.compile(phase.loss_fn) if self.compile else phase.loss_fn
        # Every generator the loss may draw from: skae's own, and torch's
        # global ones for a user's modules (dropout; forked by
        # seeded_global_generators).
        device = next(phase.module.parameters()).device
        noise_generators = global_generators(device) if self._has_user_modules() else ()
        if phase.noise_generator is not None:
            noise_generators += (phase.noise_generator,)
        try:
            with thread_budget(work):
                return fit_module(
                    phase.module,
                    loss_fn,
                    phase.sources,
                    phase.optimizer,
                    phase.config,
                    order_generator,
                    val_sources=phase.val_sources,
                    score_fn=phase.score_fn,
                    history=phase.history,
                    log=lambda line: print(prefix + line, flush=True),
                    noise_generators=noise_generators,
                )
        except TrainingDiverged as diverged:
            message = divergence_message(diverged, phase, X, self.get_params())
            raise FloatingPointError(message) from None
        except Exception as error:
            if self.compile:
                _note(error, "skae: raised while training with compile=True; "
                             "compile=False trains without torch.compile.")  # fmt: skip
            raise

    def _fitted_attributes(self, phase, data, device):
        """Every fitted attribute of the main phase, to be set at once."""
        history = phase.history
        attributes = {
            **data.attributes,
            "module_": phase.module,
            "_optimizer_state": (self.solver, phase.optimizer.state_dict()),
            "_history": history,
            "device_": str(device),
            "n_iter_": history.n_epochs,
            "t_": history.n_samples_seen,
            "loss_curve_": list(history.loss_curve),
        }
        return {**attributes, **self._validation_attributes(phase)}

    def _validation_attributes(self, phase):
        """``validation_scores_``, ``best_validation_score_`` and ``best_loss_``.

        They follow ``early_stopping``, not the call: a ``partial_fit``
        holds out no split, so its epochs score NaN and the best score stays
        the last fit's (None if no fit held out any).
        """
        history = phase.history
        if phase.val_sources is not None:
            history.reported_validation_score = history.best_validation_score
        if not self.early_stopping:
            return {"validation_scores_": None, "best_validation_score_": None,
                    "best_loss_": history.best_loss}  # fmt: skip
        history.pad_validation_scores(len(history.loss_curve))
        return {
            "validation_scores_": list(history.validation_scores),
            "best_validation_score_": history.reported_validation_score,
            "best_loss_": None,
        }

    def _warn_on_stop(self, incremental):
        # A cosine schedule ends at max_iter, its rate annealed to 0: more
        # epochs would stretch it, not finish it.
        history = self._history
        if not incremental and not history.stopped_early and not history.schedule_completed:
            warn_at_caller(
                f"{self.solver} solver: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet. Increase max_iter, or "
                "raise tol.",
                ConvergenceWarning,
            )

    def _warn_on_result(self, data):
        """Warn about a fit that ran its course but learned nothing useful (a hook).

        ``data`` is the fit's FitData: ``X`` as validated, without the rows
        of weight 0, and their ``sample_weight`` (None when not given).
        """

    def _resumed_training_state(self, seed):
        """What a continued fit (``partial_fit``, ``warm_start``) trains from.

        Copies, so that an error mid-training leaves the fitted estimator as
        it was: the module, its device, the History, the optimizer's state
        dict (None if the solver changed since) and the seed for this call,
        shifted by the epochs done so that every call draws a new batch
        order and new noise.
        """
        optimizer_state = None
        if self._optimizer_state is not None and self._optimizer_state[0] == self.solver:
            optimizer_state = copy.deepcopy(self._optimizer_state[1])
        history = copy.deepcopy(self._history)
        seed = (seed + history.n_epochs) % _SEED_RANGE
        module = copy.deepcopy(self.module_)
        return module, torch.device(self.device_), history, optimizer_state, seed

    # ------------------------------------------------------------- inference

    def _inference_module(self, dtype):
        """``module_`` in eval mode, computing in ``dtype``.

        Training runs in float32 for speed, but inference on float64 input
        runs in float64 (as sklearn's MLP does), as precise as the dtype the
        user asked for. A sample's output still depends on which other
        samples share its batch (matrix products of a few rows take other
        kernels), but only in float64's last bits: about 1e-15 of the
        output's scale, where float32 differs by about 1e-7.
        """
        module = self.module_
        if dtype == np.float64:
            module = copy.deepcopy(module).to(torch.float64)
        return module.eval()

    def _infer(self, fn, X):
        """Apply ``fn(module, batch)`` to ``X`` in batches: float32 for float32 X, else float64.

        Each batch is converted when it runs (X of any INFERENCE_DTYPES, a
        read-only memmap, is never copied whole). Raises a ValueError,
        rather than return NaN or inf, when finite input gives a non-finite
        result (values near the dtype's limit).
        """
        dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
        module = self._inference_module(dtype)
        torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
        source = BatchSource(X, torch.device(self.device_), dtype=torch_dtype, stream=True)
        # Batches sized by the wider of input and output rows: decoding narrow
        # codes into wide reconstructions must not make wide batches.
        widest_row = max(source.row_nbytes, self.n_features_in_ * dtype.itemsize)
        batch_size = min(source.n_samples, inference_batch_size(widest_row))
        with thread_budget(work_per_batch(module, batch_size)):
            result = predict_in_batches(functools.partial(fn, module), source, batch_size)
        result = result.astype(dtype, copy=False)  # checked in the dtype returned
        if not all_finite(result):
            largest = largest_magnitude(X)
            refuse_non_finite_input(largest)
            raise ValueError(
                f"{type(self).__name__} computed non-finite values (NaN or inf) from "
                f"finite input: the input's largest magnitude is {largest:.3g}, too "
                f"large for {dtype} arithmetic in this model. Scale the input "
                "first, e.g. with sklearn.preprocessing.StandardScaler."
            )
        return result

    # -------------------------------------------------------------- pickling

    def _rebuild_net(self):
        """The fit's net (``_new_net``) for the fitted attributes, before its weights load.

        Built from the parameter values the fitted net was built with, which
        ``set_params`` may have changed since.
        """
        fitted = {name: value for name, value in vars(self).items() if name.endswith("_")}
        built_with = fitted.get("_net_parameters_")  # None: saved by an older skae
        template = self if built_with is None else clone(self).set_params(**built_with)
        X = np.empty((0, self.n_features_in_), np.float32)  # its shape is all a net needs
        return template._new_net(FitData(X=X, arrays=(), attributes=fitted), seed=0)

    def __getstate__(self):
        # NumPy and plain Python only (skops, mlflow, any machine): see _state.py.
        return plain_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(state)
        restore_fitted_state(self, source=f"This pickled {type(self).__name__}")
