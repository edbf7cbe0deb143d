"""DenoisingAutoencoder: learns to undo a corruption of its input."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._autoencoder import AutoencoderTransformer
from ._blocks import beyond_unit_interval
from ._docstrings import document_fitted_attributes
from ._estimator import _FLOAT32_MAX, store_parameters
from ._layers import corrupt


@document_fitted_attributes(
    loss=(
        "the reconstruction loss of the clean batch from its corrupted copy "
        "(``loss``: squared or Huber errors of the residuals divided by ``scale_``)"
    ),
    score="minus the mean squared reconstruction error of clean input",
    validation_score=(
        "minus the mean squared reconstruction error of clean input, as ``score`` "
        "defines it (with the Huber error, minus the Huber error, in the units of X)"
    ),
)
class DenoisingAutoencoder(AutoencoderTransformer):
    r"""Autoencoder trained to reconstruct clean inputs from corrupted ones.

    Each training batch is corrupted afresh (``noise``, ``noise_level``) and
    the network learns to reconstruct the clean batch (Vincent et al.,
    2008 [1]_, 2010 [2]_). Corruption happens in training only: ``transform`` encodes clean
    input, and :meth:`denoise` reconstructs new, noisy data. The corruption
    is drawn from a generator seeded by ``random_state``, so fits are
    reproducible. Because denoising is a regulariser, the code may be
    overcomplete (``n_components > n_features``) when ``noise_level > 0``.

    All parameters of :class:`AutoencoderTransformer` apply (sparse,
    contractive, convolutional, tied weights); with ``pretrain_max_iter``,
    each layer's pretraining undoes the same corruption of its own input,
    codes included: a stacked denoising autoencoder [2]_. The two below are
    new.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.
    noise : {"masking", "gaussian", "salt_and_pepper"}, default="masking"
        Corruption of the training input. "masking" sets a random fraction
        ``noise_level`` of the inputs to 0; "gaussian" adds
        ``noise_level * N(0, 1)`` to every input (in the units of X: scale it
        first); "salt_and_pepper" sets a random fraction ``noise_level`` of
        the inputs to 0 or 1 with equal probability (X must lie in [0, 1]).
    noise_level : float, default=0.3
        Fraction of corrupted inputs ("masking", "salt_and_pepper"), in
        [0, 1), or standard deviation of the noise ("gaussian"), in X's
        units, 0 or more (1 on standardised data is common). 0 trains a
        plain autoencoder (an :class:`AutoencoderTransformer` with the
        same ``loss``, "mse" by default here).
    loss : {"mse", "auto", "bce", "huber"}, default="mse"
        As in :class:`AutoencoderTransformer`, but "mse" by default: the
        squared error of the denoising autoencoders of [1]_ and [2]_, so
        that ``batch_size="auto"`` is ``min(200, n_samples)``.
    **params
        Every other parameter of :class:`AutoencoderTransformer`, with the
        same meaning and default.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    <fitted attributes of training>

    See Also
    --------
    AutoencoderTransformer : The same model trained on clean input.
    VariationalAutoencoder : A generative autoencoder.

    Notes
    -----
    Each time a row :math:`x_i` enters a minibatch, a fresh corrupted copy
    :math:`\tilde x_i \sim q(\tilde x \mid x_i)` is drawn, and training
    minimises the loss of :class:`AutoencoderTransformer` (see its Notes)
    with the reconstruction of the corrupted copy compared with the clean
    row, the denoising criterion of [2]_:

    .. math::

        L = \frac{1}{\sum_i w_i} \sum_{i=1}^{n} w_i \,
            \ell\big(x_i, g(f(\tilde x_i))\big)
            + \text{code penalties} + \text{L2 penalty},

    with the code penalties (``activity_l1``, ``sparsity_target``,
    ``contractive_weight``) computed on the codes :math:`f(\tilde x_i)` of
    the corrupted rows. With :math:`\nu` = ``noise_level``, each entry of a
    row is corrupted independently:

    - "masking": :math:`\tilde x_j = m_j x_j`, with :math:`m_j = 0` with
      probability :math:`\nu` and 1 otherwise;
    - "gaussian": :math:`\tilde x_j = x_j + \nu \varepsilon_j`, with
      :math:`\varepsilon_j \sim \mathcal{N}(0, 1)`;
    - "salt_and_pepper": :math:`\tilde x_j` is 0 with probability
      :math:`\nu / 2`, 1 with probability :math:`\nu / 2`, and
      :math:`x_j` otherwise.

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol,
       "Extracting and composing robust features with denoising
       autoencoders", ICML 2008.
    .. [2] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and
       P.-A. Manzagol, "Stacked denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> dae = DenoisingAutoencoder(n_components=16, max_iter=5, random_state=0)
    >>> X_clean = dae.fit(X / 16).denoise(X / 16)
    >>> X_clean.shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **AutoencoderTransformer._parameter_constraints,
        "noise": [StrOptions({"masking", "gaussian", "salt_and_pepper"})],
        # A fraction below 1 for masking and salt and pepper (_check_settings);
        # a standard deviation in X's units for Gaussian noise.
        "noise_level": [Interval(Real, 0, _FLOAT32_MAX, closed="left")],
    }
    _objective_parameters = (*AutoencoderTransformer._objective_parameters, "noise", "noise_level")

    def __init__(
        self,
        n_components=2,
        *,
        noise="masking",
        noise_level=0.3,
        hidden_layer_sizes=(100,),
        activation="relu",
        output_activation="identity",
        loss="mse",
        huber_delta=0.15,
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
        code_activation="identity",
        activity_l1=0.0,
        sparsity_target=None,
        sparsity_weight=0.1,
        contractive_weight=0.0,
        tied_weights=False,
        pretrain_max_iter=0,
        pretrain_learning_rate_init=None,
    ):
        store_parameters(self, locals())

    def _check_settings(self, X):
        # The noise's checks first: a refusal of X's range comes before the
        # sigmoid output's warning about the same range.
        if self.noise != "gaussian" and self.noise_level >= 1:
            raise ValueError(
                f"noise_level={self.noise_level!r} is the fraction of the inputs that "
                f"noise={self.noise!r} corrupts, which must be below 1 (1 corrupts them "
                "all). It is a standard deviation, of any size, for noise='gaussian'."
            )
        salt_and_pepper = self.noise == "salt_and_pepper" and self.noise_level > 0
        if salt_and_pepper and (beyond := beyond_unit_interval(X)):
            raise ValueError(
                "noise='salt_and_pepper' sets inputs to 0 or 1, the extremes of data in "
                f"[0, 1], but {beyond}. Scale it first (e.g. "
                "MinMaxScaler, with clip=True for rows beyond the range it was fitted on), "
                "or use noise='masking' or noise='gaussian'."
            )
        super()._check_settings(X)

    def _allows_overcomplete(self):
        return self.noise_level > 0 or super()._allows_overcomplete()

    def _corrupt(self, X, generator):
        return corrupt(X, self.noise, self.noise_level, generator)

    def denoise(self, X):
        """Reconstruct (noisy) samples: the clean data the model believes in.

        Equivalent to ``inverse_transform(transform(X))``, except that a
        convolutional model with ``unpooling="max"`` also gets the pooling
        indices of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to denoise.

        Returns
        -------
        X_denoised : ndarray of shape (n_samples, n_features)
            Reconstructions: float32 for float32 ``X``, float64 otherwise.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._infer(lambda module, X_batch: module.output_activation(module(X_batch)), X)
