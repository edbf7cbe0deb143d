"""VariationalAutoencoder: a generative autoencoder (Kingma & Welling)."""

import math
import sys
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._autoencoder_base import BaseAutoencoder
from ._blocks import beyond_unit_interval
from ._docstrings import document_fitted_attributes
from ._estimator import store_parameters
from ._nets import GaussianAutoencoder, build_autoencoder
from ._penalties import weighted_mean
from ._settings import check_count
from ._warnings import warn_at_caller

# score_samples estimates E_q[log p(x|z)] with these many draws of z per
# sample. The draws of the standard normal noise are the same for every
# sample (common random numbers from a fixed seed): the estimate is then
# unbiased for each sample, yet deterministic and independent of which
# other samples share the batch.
_N_SCORE_DRAWS = 16
_SCORE_SEED = 0


@document_fitted_attributes(
    loss=(
        "the negative (beta-)ELBO per sample, in nats, from one draw of z (with "
        '``loss="mse"``, of the standardised data ``X / scale_``: it differs from '
        "that of X by the constant ``n_features * log(scale_)``)"
    ),
    score="the ELBO per sample, in nats",
    validation_score=(
        "the mean ELBO per sample, in nats, of the standardised data ``X / scale_`` "
        '(with ``loss="mse"``; as the loss): ``score`` plus ``n_features * '
        "log(scale_)``, so that early stopping reads the same whatever X's units"
    ),
)
class VariationalAutoencoder(BaseAutoencoder):
    r"""Variational autoencoder: Gaussian encoder, reparameterised sampling.

    The encoder maps x to the mean and log-variance of a Gaussian posterior
    q(z|x) over an ``n_components``-dimensional latent z with a standard
    normal prior; the decoder maps z to p(x|z). Training maximises the
    evidence lower bound (ELBO) ``E_q[log p(x|z)] - beta * KL(q(z|x) || p(z))``
    with the reparameterisation ``z = mean + exp(log_var / 2) * eps`` [1]_,
    the noise ``eps`` drawn from a generator seeded by ``random_state`` (see
    Notes).

    The likelihood p(x|z) follows ``loss``: "bce" is a Bernoulli decoder
    (for data in [0, 1], with ``output_activation="sigmoid"``), "mse" a
    Gaussian decoder whose variance (one scalar) is learned.

    ``transform`` returns the posterior mean, ``inverse_transform`` the
    decoder mean, :meth:`sample` generates new data, and ``score_samples``
    is the ELBO of each sample in nats (higher is better), so ``score`` is
    the mean ELBO.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space.
    beta : float, default=1.0
        Weight of the KL term in the training loss (beta-VAE, Higgins et
        al. 2017 [2]_); 1 is the true ELBO. ``score_samples`` always reports the
        true ELBO.
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    loss : {"mse", "bce"}, default="mse"
        Decoder likelihood: Gaussian with a learned variance, or Bernoulli.
    architecture : {"mlp", "conv"} or callable, default="mlp"
        As in :class:`AutoencoderTransformer`. With "conv", ``unpooling``
        must be "nearest": samples drawn from the prior have no pooling
        indices to max-unpool with. A callable's encoder output is followed
        by a linear layer to the mean and log-variance.
    tol : float, default=1e-2
        Relative tolerance of the stopping rule, as in
        :class:`AutoencoderTransformer`. The default is kept at its earlier
        value: the other autoencoders' default was chosen by measuring
        reconstruction errors (``benchmarks/defaults.py``), not the ELBO,
        whose magnitude depends on the likelihood and the data.
    **params
        Every other parameter has the meaning and default it has in
        :class:`AutoencoderTransformer`, which also lists parameters this
        class does not take: the sparse and contractive penalties (its KL
        term already regularises the code); the layer-wise pretraining,
        ``pretrain_max_iter`` and ``pretrain_learning_rate_init`` (its code
        layer outputs the posterior's mean and log-variance, and its
        decoder reads a sample of z, which no shallow deterministic
        autoencoder trains); ``code_activation`` (the mean and
        log-variance are linear); ``tied_weights``; and ``huber_delta``
        (``loss`` is a likelihood: "mse" or "bce").

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (``module_.encoder``, ``module_.decoder``, and
        ``module_.decoder_log_var``, the Gaussian decoder's log-variance in
        the units of ``X / scale_``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    <fitted attributes of training>

    See Also
    --------
    AutoencoderTransformer : The deterministic autoencoder.
    sklearn.decomposition.FactorAnalysis : The linear Gaussian latent model.

    Notes
    -----
    The encoder gives the Gaussian posterior
    :math:`q(z \mid x) = \mathcal{N}(\mu(x), \operatorname{diag} \sigma^2(x))`
    over :math:`z \in \mathbb{R}^k`, the prior is
    :math:`p(z) = \mathcal{N}(0, I)`, and the evidence lower bound of a row
    :math:`x` is

    .. math::

        \mathrm{ELBO}(x) = \mathbb{E}_{q(z \mid x)}\big[\log p(x \mid z)\big]
            - \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big) \le \log p(x),

    with the KL divergence in closed form,

    .. math::

        \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big) = \frac{1}{2}
            \sum_{c=1}^{k} \big(\mu_c^2 + \sigma_c^2 - 1 - \log \sigma_c^2\big).

    With :math:`\hat x(z)` the decoder's mean (``inverse_transform``), the
    log-likelihood of the :math:`d` features is, for ``loss="bce"``
    (Bernoulli) and ``loss="mse"`` (Gaussian, of learned variance
    :math:`\sigma_x^2` = ``scale_**2 * exp(module_.decoder_log_var)``: the
    log-variance is learned in the units of the standardised data, so that
    the fit does not depend on the units of X),

    .. math::

        \log p(x \mid z) = \sum_{j=1}^{d} \big(x_j \log \hat x_j
            + (1 - x_j) \log(1 - \hat x_j)\big)
        \quad \text{or} \quad
        -\frac{1}{2} \sum_{j=1}^{d} \Big(\frac{(x_j - \hat x_j)^2}{\sigma_x^2}
            + \log \sigma_x^2 + \log 2\pi\Big).

    Training minimises, on each minibatch, the weighted mean of the negative
    (beta-)ELBO plus the L2 penalty on the weight matrices :math:`W`,

    .. math::

        L = -\frac{1}{\sum_i w_i} \sum_{i=1}^{n} w_i \Big(\log p(x_i \mid z_i)
            - \beta \, \mathrm{KL}\big(q(z \mid x_i) \,\|\, p(z)\big)\Big)
            + \frac{\alpha}{2 \sum_i w_i} \sum_W \|W\|_F^2,

    with one reparameterised draw :math:`z_i = \mu(x_i) + \sigma(x_i) \odot
    \varepsilon_i`, :math:`\varepsilon_i \sim \mathcal{N}(0, I)`, per row
    [1]_, :math:`\beta` = ``beta`` and :math:`w_i` the sample weights (1 by
    default). ``score_samples`` is the ELBO itself (:math:`\beta = 1`), its
    expectation averaged over 16 draws of :math:`\varepsilon`, the same
    fixed draws for every row.

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-encoding variational Bayes",
       ICLR 2014.
    .. [2] I. Higgins et al., "beta-VAE: learning basic visual concepts with a
       constrained variational framework", ICLR 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VariationalAutoencoder(
    ...     n_components=4, loss="bce", output_activation="sigmoid", max_iter=5,
    ...     random_state=0)
    >>> vae.fit(X / 16).sample(3, random_state=0).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }
    _objective_parameters = (*BaseAutoencoder._objective_parameters, "loss", "beta")

    def __init__(
        self,
        n_components=2,
        *,
        beta=1.0,
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
        tol=1e-2,
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

    # The KL term regularises the code: unneeded latent dimensions collapse
    # to the prior instead of copying the input.
    _overcomplete_ok = True

    def _build_net(self, data):
        inner = build_autoencoder(
            **self._net_settings(data), n_encoder_outputs=2 * self.n_components
        )
        return GaussianAutoencoder(inner, self.n_components)

    def _check_settings(self, X):
        super()._check_settings(X)
        if self.architecture == "conv" and self.unpooling == "max":
            raise ValueError(
                "VariationalAutoencoder cannot use unpooling='max': max-unpooling "
                "needs the pooling indices of an encoded input, and latents drawn "
                "by sample() have none. Use unpooling='nearest'."
            )

    # ------------------------------------------------------------ the ELBO

    def _log_likelihood(self, module, logits, X, standardised=False):
        """Log p(x|z) of each sample, summed over features: (B,).

        ``standardised``: the Gaussian density of ``X / scale_`` rather than
        of ``X``, which differ by the constant ``n_features * log(scale_)``:
        the training loss, which then reads the same whatever X's units.
        """
        if self.loss == "bce":
            return -F.binary_cross_entropy_with_logits(logits, X, reduction="none").sum(dim=1)
        mean = module.output_activation(logits)
        # decoder_log_var is learned in the units of the standardised data
        # (sigma_x**2 = scale_**2 * exp(it)): the fit does not depend on X's units.
        log_var, residual = module.decoder_log_var, X - mean
        log_var_of_x = log_var
        if module.data_scale is not None:
            residual = residual / module.data_scale
            if not standardised:
                log_var_of_x = log_var + 2 * torch.log(module.data_scale)
        return -0.5 * (
            residual.pow(2) * torch.exp(-log_var) + log_var_of_x + math.log(2 * math.pi)
        ).sum(dim=1)

    def _elbo(self, module, X_input, X_target, eps, beta=1.0, standardised=False):
        """(beta-)ELBO of each sample: E_q over the draws ``eps`` (S, B or 1, k).

        q(z|x) is computed from ``X_input`` and the likelihood of
        ``X_target`` (of ``X_target / scale_`` if ``standardised``); the KL
        term has its closed form.
        """
        mean, log_var = module.encode_distribution(X_input)  # (B, k) each
        std = torch.exp(0.5 * log_var)
        log_lik = sum(
            self._log_likelihood(
                module, module.decode_logits(mean + std * draw), X_target, standardised
            )
            for draw in eps
        )
        kl = 0.5 * (mean.pow(2) + torch.exp(log_var) - 1 - log_var).sum(dim=1)
        return log_lik / len(eps) - beta * kl

    def _loss(self, module, X_input, X_target, generator, sample_weight=None):
        # One reparameterised draw per sample, from the fit's generator.
        shape = (1, X_input.shape[0], module.n_components)
        eps = torch.randn(shape, generator=generator, device=X_input.device, dtype=X_input.dtype)
        # Of the standardised data: the loss and its stopping rule read the
        # same whatever X's units (a constant apart from the ELBO of X).
        elbo = self._elbo(module, X_input, X_target, eps, self.beta, standardised=True)
        return -weighted_mean(elbo, sample_weight)

    def _sample_scores(self, module, X, standardised=False):
        # The true ELBO (beta=1) with fixed draws: deterministic per sample.
        draws = torch.randn(
            (_N_SCORE_DRAWS, 1, module.n_components),
            generator=torch.Generator().manual_seed(_SCORE_SEED),
            dtype=torch.float64,
        )
        draws = draws.to(device=X.device, dtype=X.dtype)
        return self._elbo(module, X, X, draws, standardised=standardised)

    def _scored_input(self, X):
        """``X`` clipped to [0, 1] for a Bernoulli likelihood, with a warning.

        Outside [0, 1] that "likelihood" is none (it can exceed 0 and rank
        an outlier first); held-out rows scaled like the training rows can
        still fall just outside (a MinMaxScaler fitted on other rows).
        """
        if self.loss != "bce" or not (beyond := beyond_unit_interval(X)):
            return X
        warn_at_caller(
            f"loss='bce' scores X in [0, 1], but {beyond}: "
            "they are clipped to [0, 1]. Scale X as the training data was "
            "(MinMaxScaler(clip=True) clips for you).",
            UserWarning,
        )
        if sp.issparse(X):
            X = X.copy()
            np.clip(X.data, 0, 1, out=X.data)
            return X
        return np.clip(X, 0, 1)

    def _batch_scores(self, module, batch):
        # Early stopping's score is the ELBO of X / scale_, as the loss is:
        # its relative tol then reads the same whatever X's units (the ELBO
        # of X moves by n_features * log(scale_)).
        return self._sample_scores(module, batch[0], standardised=True)

    @validate_params(
        {
            "n_samples": [Interval(Integral, 1, None, closed="left")],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def sample(self, n_samples=1, random_state=None):
        """Generate new data: decode latents drawn from the prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws of z ~ N(0, I) (through a private generator).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The mean of p(x|z) for each draw (pixel probabilities for a
            Bernoulli decoder), as float64. Draw ``rng.random(X.shape) < X``
            for binary data.
        """
        check_is_fitted(self)
        check_count(n_samples, "n_samples", "VariationalAutoencoder.sample")
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator().manual_seed(seed)
        # The fitted code size: set_params may have changed n_components since.
        n_bytes = n_samples * 8 * (self.n_components_ + self.n_features_in_)
        if n_bytes > sys.maxsize:  # beyond any address space; torch would overflow
            raise _too_many_draws(n_samples, n_bytes)
        try:
            z = torch.randn(
                (n_samples, self.n_components_), generator=generator, dtype=torch.float64
            )
        except RuntimeError as error:  # torch's allocator names neither call nor setting
            if "allocate" not in str(error):
                raise
            raise _too_many_draws(n_samples, n_bytes) from error
        return self._infer(lambda module, z_batch: module.decode(z_batch), z.numpy())


def _too_many_draws(n_samples, n_bytes):
    return MemoryError(
        f"VariationalAutoencoder.sample cannot allocate n_samples={n_samples} draws: "
        f"{n_bytes:.3g} bytes for the codes and the samples. Draw fewer per call."
    )
