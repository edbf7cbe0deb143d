"""BaseAutoencoder: the scikit-learn side shared by every skae autoencoder.

It declares the parameters, checks the settings that need the data, and
provides ``fit``, ``partial_fit``, ``transform``, ``inverse_transform`` and
``score``. Variants plug in through four hooks: a net factory
(``_build_net``), a loss term (``_loss``), a corruption (``_corrupt``) and
a per-sample score (``_sample_scores``; the validation score is
``_batch_scores``, the same unless a variant scores another scale).
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._blocks import (
    INFERENCE_DTYPES,
    beyond_unit_interval,
    summed_duplicates,
    weighted_centred_squares,
    weighted_float32_rounding,
    weighted_moments,
)
from ._estimator import (
    _FLOAT32_TINY,
    TRAINING_PARAMETER_CONSTRAINTS,
    FitData,
    TorchEstimator,
    as_layer_sizes,
    check_float32_range,
    drop_zero_weights,
    store_parameters,
)
from ._layers import ACTIVATIONS
from ._penalties import scaled_squared_error, weighted_mean
from ._settings import check_architecture, check_count, image_shape_of
from ._warnings import warn_at_caller

# A sigmoid output starts at the logit of each feature's mean, clipped to
# [1e-3, 1 - 1e-3]: features that are always 0 (digits' border pixels) or
# always 1 start at a probability of 0.001 or 0.999, not at infinity.
_LOGIT_CLIP = 1e-3
# E[x**2] - E[x]**2 below this fraction of E[x**2] has lost most of its
# float64 digits to the subtraction: then the variance is summed about the mean.
_CANCELLED = 1e-6
_FLOAT32_EPS = float(np.finfo(np.float32).eps)
_FLOAT64_EPS = float(np.finfo(np.float64).eps)
# Training rounds X to float32, which adds noise (of mean square at most
# (eps * |x|)**2 / 4): above this share of X's own variance, warn.
_ROUNDING_NOISE_SHARE = 0.01


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    TorchEstimator,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Shared machinery of skae's autoencoders; use a subclass.

    See :class:`skae.AutoencoderTransformer` for the parameters.
    """

    # What _net_settings reads (see TorchEstimator._net_parameters).
    _net_parameters = (
        "architecture",
        "n_components",
        "hidden_layer_sizes",
        "activation",
        "output_activation",
        "image_shape",
        "conv_channels",
        "unpooling",
    )
    _parameter_constraints: dict = {
        **TRAINING_PARAMETER_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions({"identity", "sigmoid"})],
        "loss": [StrOptions({"mse", "bce"})],
        # Architecture: MLP, convolutional (image_shape), or user modules.
        "architecture": [StrOptions({"mlp", "conv"}), callable],
        "image_shape": ["array-like", None],
        "conv_channels": ["array-like", Interval(Integral, 1, None, closed="left")],
        "unpooling": [StrOptions({"nearest", "max"})],
    }
    # Whether n_components > n_features makes sense without more settings.
    _overcomplete_ok = False

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
        learning_rate_init=0.003,
        learning_rate="plateau",
        max_iter=400,
        tol=5e-2,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=20,
        warm_start=False,
        random_state=None,
        device="cpu",
        compile=False,
        verbose=False,
        architecture="mlp",
        image_shape=None,
        conv_channels=(16, 32),
        unpooling="nearest",
    ):
        store_parameters(self, locals())

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def _build_net(self, data):
        """The net factory: a new, uninitialised net for ``data`` (a FitData).

        It implements the encode/decode interface of
        :class:`skae._nets.EncoderDecoder`. skae's own nets are built on the
        meta device and initialised afterwards, so they must not initialise
        their weights from data.
        """

    def _compared_net_parameters(self, values, built_with):
        """Convolution settings shape "conv" nets only, layer settings no callable's."""
        values = dict(values)
        architecture = built_with["architecture"]
        unused = set() if architecture == "conv" else {"image_shape", "conv_channels", "unpooling"}
        if callable(architecture):  # the user's modules; skae adds the output activation
            unused |= {"hidden_layer_sizes", "activation"}
        if values.get("image_shape") is not None:
            values["image_shape"] = image_shape_of(values["image_shape"])  # (8, 8) = (1, 8, 8)
        return {name: value for name, value in values.items() if name not in unused}

    def _net_settings(self, data):
        """The settings of :func:`~skae._nets.build_autoencoder` every variant shares."""
        return dict(
            architecture=self.architecture,
            n_features=data.X.shape[1],
            n_components=self.n_components,
            hidden_layer_sizes=as_layer_sizes(self.hidden_layer_sizes),
            activation=self.activation,
            output_activation=self.output_activation,
            image_shape=self._image_shape(),
            conv_channels=as_layer_sizes(self.conv_channels, "conv_channels"),
            unpooling=self.unpooling,
        )

    def _corrupt(self, X, generator):
        """Training input made from the clean batch ``X`` (identity here)."""
        return X

    def _reconstruction_loss(self, module, logits, target, sample_weight=None):
        """Mean reconstruction loss per element, from pre-activation outputs.

        Averaged over the features of each sample, then over the samples,
        weighted by ``sample_weight`` when given.

        The squared error is measured in units of the standardised data
        (divided by ``scale_**2``), so that its balance with ``alpha`` and
        the code penalties, and every optimizer's steps, do not depend on
        the units of X.
        """
        if self.loss == "bce":
            per_element = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
            return weighted_mean(per_element.mean(dim=1), sample_weight)
        output = module.output_activation(logits)
        per_row = scaled_squared_error(output, target, module.data_scale)  # one-pass backward
        return weighted_mean(per_row, sample_weight)

    def _loss(self, module, X_input, X_target, generator, sample_weight=None):
        """The loss term: reconstruct ``X_target`` from ``X_input``.

        ``generator`` is the fit's noise generator, for losses that sample
        (the VAE's reparameterisation); ``sample_weight`` (B,) weighs the
        samples' losses, or is None.
        """
        _, logits = module.encode_decode(X_input)
        return self._reconstruction_loss(module, logits, X_target, sample_weight)

    def _sample_scores(self, module, X, error=scaled_squared_error):
        """Score of each row (higher is better): minus its squared error, in float64.

        The error is squared in the units training works in (divided by
        ``scale_``) and brought back to X's in float64: in X's units, a
        float32 square overflows beyond about 1e19 and underflows below
        about 1e-19, which made validation scores of such data inf or 0.
        ``error(output, target, scale)`` is another per-row error of the
        scaled residuals, for a validation score that is not ``score``'s.
        """
        # forward, not decode(encode()): max-unpooling needs the indices.
        reconstruction = module.output_activation(module(X))
        scaled = error(reconstruction, X, module.data_scale)  # (B,)
        return -(scaled.cpu().double() * float(module.data_scale) ** 2)  # MPS has no float64

    # The TorchEstimator hooks, in terms of the ones above.

    def _batch_loss(self, module, batch, noise_generator):
        X, sample_weight = batch[0], (batch[1] if len(batch) > 1 else None)
        X_input = self._corrupt(X, noise_generator)
        return self._loss(module, X_input, X, noise_generator, sample_weight)

    def _batch_scores(self, module, batch):
        return self._sample_scores(module, batch[0])

    # ------------------------------------------------------------ validation

    def _check_settings(self, X):
        """Checks that need the data or combine parameters."""
        n_features = X.shape[1]
        check_count(self.n_components, "n_components", type(self).__name__)
        as_layer_sizes(self.hidden_layer_sizes)
        check_architecture(self, n_features)
        if self.n_components > n_features and not self._allows_overcomplete():
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of "
                f"features: X has {n_features} feature(s). An undercomplete "
                "autoencoder needs n_components <= n_features; for an overcomplete "
                "code, use a regularised autoencoder (sparse, denoising or contractive)."
            )
        if self.loss == "bce":
            self._check_bce(X)
        elif self.output_activation == "sigmoid" and (beyond := beyond_unit_interval(X)):
            warn_at_caller(
                f"output_activation='sigmoid' reconstructs in [0, 1], but {beyond}: the "
                "reconstructions cannot reach them. Scale X to [0, 1] first (e.g. "
                "MinMaxScaler) or use output_activation='identity'.",
                UserWarning,
            )

    def _allows_overcomplete(self):
        """Whether ``n_components > n_features`` is meaningful for these settings."""
        return self._overcomplete_ok

    def _check_bce(self, X):
        if self.output_activation != "sigmoid":
            raise ValueError(
                "loss='bce' needs reconstructions in [0, 1]: set "
                "output_activation='sigmoid' (or use loss='mse')."
            )
        if beyond := beyond_unit_interval(X):
            raise ValueError(
                f"loss='bce' needs X in [0, 1], but {beyond}. "
                "Scale it first (e.g. MinMaxScaler, with clip=True for rows beyond the "
                "range it was fitted on) or use loss='mse'."
            )

    def _image_shape(self):
        return image_shape_of(self.image_shape)

    def _validate_X(self, X, reset):
        # Integer and boolean X stay as they are: converted a block or a batch
        # at a time (a float64 copy of uint8 pixels would be 8 times larger).
        X = validate_data(self, X, reset=reset, accept_sparse="csr", dtype=INFERENCE_DTYPES)
        return summed_duplicates(X)

    def _fit_data(self, X, y, sample_weight, *, continuing, incremental, classes):
        X = self._validate_X(X, reset=not continuing)
        X, sample_weight = drop_zero_weights(X, sample_weight)
        X = check_float32_range(X)
        self._check_settings(X)
        attributes = {"n_components_": self.n_components}
        if not continuing:  # a continued fit keeps the centre its weights learned around
            attributes["mean_"], attributes["scale_"] = self._centre_and_scale(X, sample_weight)
        if sample_weight is None:
            return FitData(X=X, arrays=(X,), attributes=attributes)
        return FitData(
            X=X,
            arrays=(X, sample_weight),
            attributes=attributes,
            weighted=True,
            sample_weight=sample_weight,
        )

    def _centre_and_scale(self, X, sample_weight=None):
        """``mean_`` (per feature) and ``scale_`` (one number) of the training data.

        ``scale_`` is the root mean variance of the features, so the net
        sees data of unit scale; 1 for a sigmoid output, whose logits have
        no units of X (and for data constant at float32's precision). Both weighted by
        ``sample_weight`` when given.
        """
        weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        weights = weights / weights.sum()
        sigmoid = self.output_activation == "sigmoid"
        mean, sum_of_squares = weighted_moments(X, weights, squares=not sigmoid)
        if sigmoid:
            return mean, 1.0
        # Mean over the features of E[x_j**2] - E[x_j]**2.
        mean_square = sum_of_squares / X.shape[1]
        variance = mean_square - float(np.mean(mean**2))
        if variance < _CANCELLED * mean_square:
            # Most digits cancelled (a spread small next to the mean, or
            # none): sum the squares about the mean instead.
            variance = weighted_centred_squares(X, weights, mean) / X.shape[1]
        # Constant data keep a variance of float64 rounding in the sums
        # (about sqrt(n) eps of each value): nothing to blur, no warning.
        rounding = (10 * np.sqrt(X.shape[0]) * _FLOAT64_EPS) ** 2 * mean_square
        if variance > max(_FLOAT32_TINY**2, rounding):
            _warn_if_float32_blurs(X, weights, variance, mean_square)
        # A spread below float32's resolution at the data's magnitude, or
        # below its smallest normal number, is no spread in float32 training.
        if variance <= max(_FLOAT32_TINY**2, _FLOAT32_EPS**2 * mean_square):
            return mean, 1.0
        return mean, float(np.sqrt(variance))

    def _new_net(self, data, seed):
        """The net of a fresh fit, standardised as PCA centres.

        The encoder sees ``(X - mean_) / scale_``, and the reconstruction
        starts at the mean: the decoder's output is multiplied by
        ``scale_`` and ``mean_`` is added, or, for a sigmoid output, its
        logit (clipped, since pixels may be always 0 or 1).
        """
        net = super()._new_net(data, seed)
        mean = torch.as_tensor(data.attributes["mean_"], dtype=torch.float32)
        offset = mean
        if self.output_activation == "sigmoid":
            offset = torch.logit(mean.clamp(_LOGIT_CLIP, 1 - _LOGIT_CLIP))
        net.set_centre(mean, offset, torch.tensor(data.attributes["scale_"], dtype=torch.float32))
        return net

    # ------------------------------------------------------------------ API

    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices are densified one batch at a time.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (a weighted mean, as in
            ``MLPRegressor``: the L2 penalty is divided by the batch's sum
            of weights), in ``mean_`` and ``scale_``, and in the validation
            score. Samples of weight 0 are dropped before anything else.

        Returns
        -------
        self : object
            The fitted estimator.

        """
        return self._fit_sequence(X, None, incremental=False, sample_weight=sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one epoch on ``X``, continuing from the current state.

        The optimizer's state (Adam's moments, the rate an "adaptive"
        schedule reached) carries over from call to call, unlike
        ``MLPRegressor.partial_fit``, so many calls train as one long fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`; ``mean_`` and ``scale_`` come from the
            first call.

        Returns
        -------
        self : object
            The updated estimator.

        """
        return self._fit_sequence(X, None, incremental=True, sample_weight=sample_weight)

    def transform(self, X):
        """Encode ``X`` into the code space.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes: float32 for float32 ``X``, float64 otherwise.

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
            Reconstructions: float32 for float32 ``X``, float64 otherwise.

        """
        check_is_fitted(self)
        X = check_array(X, dtype=INFERENCE_DTYPES, input_name="X")
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"expects codes with {self.n_components_} features (n_components_, the "
                "fitted code size)."
            )
        return self._infer(lambda module, X_batch: module.decode(X_batch), X)

    def score_samples(self, X):
        """Score of each sample: how well the model explains it (higher is better).

        For the deterministic autoencoders, minus the mean squared
        reconstruction error. For :class:`~skae.VariationalAutoencoder`, the
        evidence lower bound (ELBO) in nats, ``E_q[log p(x|z)] - KL(q(z|x) ||
        p(z))``, with the KL in closed form and the expectation estimated
        from 16 draws of z per sample; the draws are the same fixed
        standard-normal noise for every sample, so the result is
        deterministic and does not depend on the other rows of ``X``. With
        ``loss="bce"`` its likelihood is Bernoulli: values of ``X`` outside
        [0, 1] are clipped to it, with a warning.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            For the deterministic autoencoders,
            ``-mean((X - reconstruction)**2, axis=1)``, where 0 is a perfect
            reconstruction; for the VAE, a lower bound on ``log p(x)``.

        """
        check_is_fitted(self)
        X = self._scored_input(self._validate_X(X, reset=False))
        return self._infer(self._sample_scores, X)

    def _scored_input(self, X):
        """The validated ``X`` that ``score_samples`` scores (a variant may adapt it)."""
        return X

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` (higher is better).

        Minus the mean squared reconstruction error (the mean ELBO for
        :class:`~skae.VariationalAutoencoder`). This makes
        ``GridSearchCV(autoencoder, grid).fit(X)`` select the model that
        reconstructs held-out data best, with no ``scoring=``.

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


def _warn_if_float32_blurs(X, weights, variance, mean_square):
    """Warn when float32 rounding hides much of a spread that is small next to X's values.

    Training casts X to float32 before centring it: features that vary
    little about a large offset (timestamps, say) lose their variation to
    rounding, which PCA, in float64, keeps. ``variance`` and
    ``mean_square`` are the features' mean variance and mean square; the
    rounding errors' variance, averaged over the features as well, is
    measured (one more pass over X) only when its bound, half a float32
    spacing squared, ``(eps |x|)**2 / 4`` on average, is above the threshold.
    """
    if X.dtype.kind == "f" and X.dtype.itemsize <= 4:
        return  # already float32 (or narrower): nothing to round
    if _FLOAT32_EPS**2 * mean_square / 4 <= _ROUNDING_NOISE_SHARE * variance:
        return
    noise_share = weighted_float32_rounding(X, weights) / X.shape[1] / variance
    if noise_share > _ROUNDING_NOISE_SHARE:
        warn_at_caller(
            f"X's values vary little next to their size (root mean variance "
            f"{np.sqrt(variance):.3g} at a root mean square of {np.sqrt(mean_square):.3g}): "
            f"training rounds them to float32, which adds noise of {min(noise_share, 1):.0%}"
            f"{' or more' if noise_share >= 1 else ''} of their variance. Subtract the offsets "
            "first, e.g. with sklearn.preprocessing.StandardScaler.",
            UserWarning,
        )
