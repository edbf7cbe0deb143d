"""BaseAutoencoder: the scikit-learn side of every skae autoencoder.

It validates parameters and data, turns them into a torch module and a
loss, hands both to the training engine (``_training.py``) and maps the
result back to numpy. Variants override hooks (``_build_module``,
``_loss``, ``_corrupt``, ``_allows_overcomplete``), never ``fit`` or the loop.
"""

import functools
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._nn import ACTIVATIONS, build_initialized
from ._torch_estimator import TorchEstimatorMixin
from ._training import (
    LEARNING_RATE_SCHEDULES,
    BatchSource,
    History,
    TrainingConfig,
    fit_module,
    make_optimizer,
    resolve_device,
    schedule_for_call,
    set_learning_rate,
)

_FLOAT_DTYPES = [np.float64, np.float32]
SOLVERS = ("adam", "adamw", "sgd", "rmsprop", "lbfgs")


def _atomic(method):
    """Undo every attribute change of ``method`` if it raises.

    ``fit`` and ``partial_fit`` train copies and assign fitted attributes
    only at the end, but input validation (``validate_data(reset=True)``)
    sets ``n_features_in_`` and ``feature_names_in_`` early. Restoring the
    instance dict keeps a fitted estimator exactly as it was after bad input.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = self.__dict__.copy()
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def _as_layer_sizes(hidden_layer_sizes):
    """Validate ``hidden_layer_sizes`` (an int or a sequence of ints >= 1)."""
    if isinstance(hidden_layer_sizes, Integral):
        sizes = (hidden_layer_sizes,)
    else:
        sizes = tuple(hidden_layer_sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes) or any(
        s < 1 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be an int or a sequence of positive ints, "
            f"got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    TorchEstimatorMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Shared machinery of skae's autoencoders; use a subclass.

    See :class:`skae.AutoencoderTransformer` for the parameters.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions({"identity", "sigmoid"})],
        "loss": [StrOptions({"mse", "bce"})],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
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
        "verbose": ["verbose"],
        # Architecture: MLP, convolutional (image_shape), or user modules.
        "architecture": [StrOptions({"mlp", "conv"}), callable],
        "image_shape": ["array-like", None],
        "conv_channels": ["array-like", Interval(Integral, 1, None, closed="left")],
        "unpooling": [StrOptions({"nearest", "max"})],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        output_activation="identity",
        loss="mse",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        learning_rate="constant",
        max_iter=200,
        tol=1e-4,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        random_state=None,
        device="cpu",
        verbose=False,
        architecture="mlp",
        image_shape=None,
        conv_channels=(16, 32),
        unpooling="nearest",
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.architecture = architecture
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.unpooling = unpooling

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def _build_module(self, n_features):
        """Return a new torch module for ``n_features`` inputs.

        It must have ``encode``, ``decode_logits``, ``decode``,
        ``output_activation`` and ``forward``. It is built on the meta
        device, so it must not initialise its weights from data.
        """

    def _allows_overcomplete(self):
        """Whether ``n_components > n_features`` is meaningful for this model."""
        return False

    def _corrupt(self, X, generator):
        """Training input made from the clean batch ``X`` (identity here)."""
        return X

    def _reconstruction_loss(self, module, logits, target):
        """Mean reconstruction loss per element, from pre-activation outputs."""
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(module.output_activation(logits), target)

    def _encode_decode(self, module, X):
        """Code and reconstruction logits of ``X``.

        Modules whose decoder needs more than the code (max-unpooling reuses
        the encoder's pooling indices) provide ``encode_decode``.
        """
        if hasattr(module, "encode_decode"):
            return module.encode_decode(X)
        code = module.encode(X)  # (B, n_components)
        return code, module.decode_logits(code)

    def _loss(self, module, X_input, X_target, generator=None):
        """Training loss of a batch: reconstruct ``X_target`` from ``X_input``.

        ``generator`` is the fit's noise generator, for losses that sample
        (the VAE's reparameterisation).
        """
        _, logits = self._encode_decode(module, X_input)
        return self._reconstruction_loss(module, logits, X_target)

    def _validation_loss(self, module, X):
        """Loss on held-out data for early stopping: clean reconstruction."""
        return self._reconstruction_loss(module, module(X), X)

    # ------------------------------------------------------------ validation

    def _check_settings(self, X):
        """Checks that need the data or combine parameters."""
        n_features = X.shape[1]
        _as_layer_sizes(self.hidden_layer_sizes)
        self._check_architecture(n_features)
        if self.n_components > n_features and not self._allows_overcomplete():
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of "
                f"features: X has {n_features} feature(s). An undercomplete "
                "autoencoder needs n_components <= n_features; for an overcomplete "
                "code, use a regularised autoencoder (sparse, denoising or contractive)."
            )
        if self.loss == "bce":
            if self.output_activation != "sigmoid":
                raise ValueError(
                    "loss='bce' needs reconstructions in [0, 1]: set "
                    "output_activation='sigmoid' (or use loss='mse')."
                )
            values = X.data if sp.issparse(X) else X
            if values.size and (values.min() < 0 or values.max() > 1):
                raise ValueError(
                    "loss='bce' needs X in [0, 1], but X has values in "
                    f"[{values.min():.4g}, {values.max():.4g}]. Scale it first "
                    "(e.g. MinMaxScaler) or use loss='mse'."
                )

    def _image_shape(self):
        """``image_shape`` as ``(channels, height, width)``, or None."""
        if self.image_shape is None:
            return None
        shape = tuple(self.image_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in shape
        ):
            raise ValueError(
                "image_shape must be (channels, height, width) or (height, width) "
                f"of positive ints, got {self.image_shape!r}."
            )
        return tuple(int(s) for s in shape)

    def _check_architecture(self, n_features):
        image_shape = self._image_shape()
        if image_shape is not None and int(np.prod(image_shape)) != n_features:
            raise ValueError(
                f"image_shape={self.image_shape!r} describes images of "
                f"{int(np.prod(image_shape))} values, but X has {n_features} "
                "features. Each row of X must be one flattened image (channels "
                "first, C-order): pass the image_shape of your data."
            )
        if self.architecture != "conv":
            return
        if image_shape is None:
            raise ValueError(
                "architecture='conv' needs image_shape=(channels, height, width) "
                "to reshape the rows of X into images."
            )
        channels = _as_layer_sizes(self.conv_channels)
        if not channels:
            raise ValueError("conv_channels must name at least one convolution block.")
        smallest = 2 ** len(channels)
        if min(image_shape[1:]) < smallest:
            raise ValueError(
                f"Images of {image_shape[1]}x{image_shape[2]} pixels are too small for "
                f"{len(channels)} convolution blocks, each halving the size with a 2x2 "
                f"max-pool: they need at least {smallest}x{smallest}. Use fewer "
                "conv_channels."
            )

    def _validate_X(self, X, reset):
        return validate_data(self, X, reset=reset, accept_sparse="csr", dtype=_FLOAT_DTYPES)

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices are densified one batch at a time.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.

        """
        return self._fit(X, incremental=False)

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The updated estimator.

        """
        return self._fit(X, incremental=True)

    @_atomic
    def _fit(self, X, incremental):
        self._validate_params()
        continuing = (incremental or self.warm_start) and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing)
        self._check_settings(X)
        n_samples = X.shape[0]

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if continuing:
            module, device, history, optimizer_state, seed = self._resumed_training_state(seed)
        else:
            device = resolve_device(self.device)
            init_generator = torch.Generator().manual_seed(seed)
            module = build_initialized(lambda: self._build_module(X.shape[1]), init_generator).to(
                device
            )
            history, optimizer_state = History(), None
        optimizer = make_optimizer(self.solver, module.parameters(), self.learning_rate_init)
        if optimizer_state is not None:
            # Optimizers are rebuilt from their state dict: L-BFGS objects
            # themselves do not survive copying or pickling.
            optimizer.load_state_dict(optimizer_state)
        if not incremental:
            # Every fit starts from learning_rate_init (as sklearn's MLP);
            # partial_fit goes on with the rate an "adaptive" schedule left.
            set_learning_rate(optimizer, self.learning_rate_init)
        generator = torch.Generator().manual_seed(seed + 1)

        X_train, X_val = X, None
        if self.early_stopping and not incremental:
            X_train, X_val = train_test_split(
                X, test_size=self.validation_fraction, random_state=seed
            )
        batch_size = min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        config = TrainingConfig(
            batch_size=max(1, min(batch_size, X_train.shape[0])),
            max_epochs=1 if incremental else self.max_iter,
            learning_rate=self.learning_rate_init,
            alpha=self.alpha,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=bool(self.verbose),
            learning_rate_schedule=schedule_for_call(self.learning_rate, incremental),
        )
        noise_generator = torch.Generator(device=device).manual_seed(seed + 2)

        def train_loss(module, batch):
            (X_batch,) = batch
            X_input = self._corrupt(X_batch, noise_generator)
            return self._loss(module, X_input, X_batch, noise_generator)

        def clean_loss(module, batch):
            (X_batch,) = batch
            return self._validation_loss(module, X_batch)

        history = fit_module(
            module,
            train_loss,
            (BatchSource(X_train, device),),
            optimizer,
            config,
            generator,
            val_sources=None if X_val is None else (BatchSource(X_val, device),),
            val_loss_fn=clean_loss,
            history=history,
        )

        # Training succeeded: only now does the estimator change.
        self.module_ = module
        self._optimizer_state = (self.solver, optimizer.state_dict())
        self._history = history
        self.device_ = str(device)
        self.n_components_ = self.n_components
        self.n_iter_ = history.n_epochs
        self.loss_curve_ = list(history.loss_curve)
        if X_val is not None:
            self.validation_scores_ = list(history.validation_scores)
            self.best_validation_score_ = history.best_validation_score
            self.best_loss_ = -history.best_validation_score
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = history.best_loss
        self._warn_on_stop(history, incremental)
        return self

    def transform(self, X):
        """Encode ``X`` into the code space.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, in the float dtype of ``X`` (float64 for non-float input).

        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._infer(lambda module, X_batch: module.encode(X_batch), X)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions, in the float dtype of ``X``.

        """
        check_is_fitted(self)
        X = check_array(X, dtype=_FLOAT_DTYPES, input_name="X")
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"expects codes with {self.n_components_} features (n_components)."
            )
        return self._infer(lambda module, X_batch: module.decode(X_batch), X)

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((X - inverse_transform(transform(X)))**2, axis=1)``:
            higher is better, 0 is a perfect reconstruction.

        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)

        def neg_squared_error(module, X_batch):
            # forward, not decode(encode()): max-unpooling needs the indices.
            reconstruction = module.output_activation(module(X_batch))
            return -(reconstruction - X_batch).pow(2).mean(dim=1)

        return self._infer(neg_squared_error, X)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error (higher is better).

        This makes ``GridSearchCV(autoencoder, grid).fit(X)`` select the
        model that reconstructs held-out data best, with no ``scoring=``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float

        """
        return float(np.mean(self.score_samples(X)))

    # --------------------------------------------------------- sklearn glue

    @property
    def _n_features_out(self):
        """Number of transformed output features (for feature names)."""
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
