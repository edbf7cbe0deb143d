"""AutoencoderTransformer: the autoencoder, with its sparse and contractive forms."""

import functools
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._autoencoder_base import BaseAutoencoder
from ._collapse import collapse_threshold, explained_fraction
from ._docstrings import document_fitted_attributes
from ._estimator import _FLOAT32_MAX, as_layer_sizes, store_parameters
from ._layers import ACTIVATIONS
from ._nets import MLPAutoencoder, build_autoencoder
from ._penalties import (
    has_closed_form_jacobian,
    jacobian_frobenius_sq,
    kl_sparsity,
    l1_activity,
    scaled_huber_error,
    scaled_squared_error,
    weighted_mean,
)
from ._pretraining import LayerStack, pretrain_stack
from ._warnings import warn_at_caller

_SIGMOIDS = ("logistic", "sigmoid")


@document_fitted_attributes(
    loss=(
        "the reconstruction loss (``loss``: squared or Huber errors of the "
        "residuals divided by ``scale_``) plus the code penalties"
    ),
    score="minus the mean squared reconstruction error",
    validation_score=(
        "minus the mean squared reconstruction error, as ``score`` defines it "
        "(with the Huber error, the default of nonlinear nets, minus the Huber error, "
        "in the units of X)"
    ),
)
class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder (MLP or convolutional), a nonlinear drop-in for ``PCA``.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components``
    and the decoder mirrors it. ``transform`` returns the code,
    ``inverse_transform`` the reconstruction, and ``score`` the negative mean
    squared reconstruction error, so the estimator fits in a ``Pipeline``
    and can be tuned by ``GridSearchCV`` with no ``scoring=``. With
    ``activation="identity"`` it learns the principal subspace, reaching the
    reconstruction error of ``PCA(n_components)`` [2]_; a deep nonlinear
    autoencoder can do much better [1]_.

    Regularisers make it a sparse autoencoder (``activity_l1``, or
    ``sparsity_target`` with a sigmoid code) or a contractive autoencoder
    (``contractive_weight``); with any of them the code may be overcomplete
    (``n_components > n_features``). ``architecture="conv"`` with
    ``image_shape`` makes it convolutional [5]_, ``tied_weights=True`` ties the
    decoder to the encoder. See :class:`DenoisingAutoencoder` and
    :class:`VariationalAutoencoder` for the variants whose API differs.

    Training uses PyTorch on in-memory tensors: float32 compute, outputs in
    float32 for float32 input and float64 otherwise, bit-for-bit reproducible on the CPU for a
    fixed ``random_state``.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code (the bottleneck). At most ``n_features``, unless a
        regulariser (``activity_l1``, ``sparsity_target``,
        ``contractive_weight``) makes an overcomplete code meaningful.
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the encoder's hidden layers; the decoder uses them reversed.
        ``()`` gives a single linear map each way. With
        ``architecture="conv"``, the dense layers between the last
        convolution block and the code.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", \
"leaky_relu", "sigmoid"}, default="relu"
        Activation of the hidden layers (and convolutions).
    output_activation : {"identity", "sigmoid"}, default="identity"
        Activation of the reconstruction; "sigmoid" for data in [0, 1].
    loss : {"auto", "mse", "bce", "huber"}, default="auto"
        Reconstruction loss: mean squared error, binary cross-entropy
        (needs X in [0, 1] and ``output_activation="sigmoid"``), or the
        Huber error, squared up to ``huber_delta`` and linear beyond, so
        that a few large residuals (outliers, rarely nonzero features that
        standardising stretches) do not dominate the fit.

        "auto" is "mse" for a linear net and "huber" for any other. A net
        is linear when it is an MLP (``architecture="mlp"``) whose
        ``activation``, ``code_activation`` and ``output_activation`` are
        all "identity" (``activation`` is unused with
        ``hidden_layer_sizes=()``); a linear autoencoder reaches
        PCA's error with "mse" only. A callable ``architecture`` also gets
        "mse", since skae cannot see inside it. For nonlinear nets the
        Huber error keeps the net from memorising rare large values: on
        standardised digits its codes classify better than PCA's, and the
        squared error's worse (see the user guide).
    huber_delta : float, default=0.15
        Where the Huber error turns linear (``loss="huber"``, or "auto" for
        a nonlinear net), in units
        of ``scale_`` (the root mean variance of the features; 1 with a
        sigmoid output), so that it does not depend on the units of X.
        With ``early_stopping``, the validation score is then minus the
        Huber error too, so that outliers do not pick the epoch.
    solver : {"adam", "adamw", "sgd", "rmsprop", "lbfgs"}, default="adam"
        Optimizer. "sgd" uses Nesterov momentum 0.9. "lbfgs" is full-batch
        L-BFGS with a strong Wolfe line search, up to 20 iterations per
        epoch: often the best choice for small data.
    alpha : float, default=0.0001
        L2 penalty on the weights, ``0.5 * alpha * ||W||^2 / batch_size``
        as in ``MLPRegressor``.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(64, n_samples)`` with the Huber
        error (the default of nonlinear nets, measured in such batches)
        and ``min(200, n_samples)`` otherwise. A larger
        integer than ``n_samples`` is clipped to it (as in ``MLPRegressor``,
        without its warning: a search over ``batch_size`` on small folds,
        or ``partial_fit`` on small chunks, would warn at every call).
    learning_rate_init : float, default=0.003
        Learning rate of the optimizer (not used by "lbfgs").
    learning_rate : {"plateau", "constant", "adaptive", "cosine"}, \
default="plateau"
        Learning-rate schedule (ignored by "lbfgs").

        - "plateau": ``learning_rate_init`` until training stalls (``tol``,
          ``n_iter_no_change``), then divided by 5, twice at most; training
          stops when it stalls a third time. Smaller steps at the end
          remove most of the minibatch noise from the final weights.
          ``partial_fit``, which never stops, divides the rate on every
          stall until it falls below 1e-6, as "adaptive" does.
        - "constant": ``learning_rate_init`` throughout; training stops the
          first time it stalls.
        - "adaptive": as in :class:`~sklearn.neural_network.MLPRegressor`,
          the rate is divided by 5 whenever training would stop for lack of
          progress (``tol``, ``n_iter_no_change``); training stops once it
          falls below 1e-6.
        - "cosine": annealed batch by batch from ``learning_rate_init`` to 0
          over ``max_iter`` epochs (each call to ``fit``). It usually
          reaches a lower loss for a fixed number of epochs. A stall still
          stops training (``n_iter_no_change=max_iter`` runs the whole
          schedule), and reaching ``max_iter`` is its end, not a
          ``ConvergenceWarning``. ``partial_fit``
          keeps the rate it finds: ``learning_rate_init`` on a first call,
          about 0 after a cosine ``fit``.
    max_iter : int, default=400
        Maximum number of epochs (for "lbfgs", of 20 iterations each). A cap,
        not a budget: the relative ``tol`` usually stops training before
        it (about 120 epochs on ``load_digits``).
    tol : float, default=5e-2
        Relative tolerance: training stalls when, for more than
        ``n_iter_no_change`` consecutive epochs, the loss (or the validation
        score, with ``early_stopping``) has not improved by more than ``tol``
        times its magnitude on its value at the last epoch that did, as in
        PyTorch's ``ReduceLROnPlateau`` (``threshold_mode="rel"``). Unlike
        ``MLPRegressor``'s absolute ``tol``, compared with the previous best
        epoch by epoch, it reads the same on data of any scale, and a loss
        that falls slowly but steadily is not a stall. What follows a stall
        depends on ``learning_rate``.
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when the
        validation score (:meth:`score` on it; minus the Huber error under
        the Huber loss, the default of nonlinear nets) stops improving, and
        restore the weights of the best epoch. Ignored by ``partial_fit``.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=20
        Patience, in epochs, for ``tol``.
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimizer state (skae
        keeps the optimizer's state, where ``MLPRegressor`` rebuilds it).
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batch order and the validation split, through
        private generators (the global torch seed is never touched).
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N", "mps", or "auto" (a GPU when one is present).
        It applies to fits from scratch: a ``warm_start`` fit or
        :meth:`partial_fit` goes on where the fitted net is (``device_``).
        To move a fitted model, :func:`skae.save` it and :func:`skae.load`
        it with ``device=``.
    compile : bool, default=False
        Train through :func:`torch.compile`: each phase of the fit
        compiles its batch loss (forward pass, loss, penalties) on its first
        batch; later fits in the same process reuse the compiled code. It
        costs seconds once (about 8 s on 2 CPU cores, under 3 s with
        torch's on-disk cache of an earlier compilation) and needs a C++
        compiler on the CPU; it pays off on long fits of large networks
        (``benchmarks/throughput.py``, three runs: 5-6% less time per epoch
        for a 784-256-64 autoencoder at batch size 256, 10-16% at 1024, 3-4%
        at 64).
        Nothing compiled is stored: cloning, pickling and inference are as
        without. Results agree with ``compile=False`` to float rounding
        (but for the dropout masks of a callable ``architecture``'s own
        modules, which compiled code draws from its own stream). A
        ``contractive_weight`` through autograd (any encoder but one
        sigmoid layer) is refused: torch.compile has no double backward.
    verbose : bool or int, default=False
        Print one line per epoch: loss, validation score, seconds.
    architecture : {"mlp", "conv"} or callable, default="mlp"
        "mlp": fully connected layers. "conv": blocks of 3x3 convolution,
        activation and 2x2 max-pool (``conv_channels``), then dense layers
        (``hidden_layer_sizes``) to the code; the decoder mirrors them.
        Needs ``image_shape``. A callable ``f(n_features, n_components)``
        returning an ``(encoder, decoder)`` pair of ``torch.nn.Module``
        plugs in your own networks: the encoder maps (B, n_features) to
        (B, n_components), the decoder maps codes back to (B, n_features)
        reconstructions before ``output_activation`` (checked on a
        two-row float32 batch before training; their parameters, at least
        one, must be float32, the dtype training runs in). They are built,
        and initialised as their own code does, inside a fork of torch's
        random state seeded from ``random_state``, and trained inside
        another (for ``nn.Dropout`` and other global draws): the same seed
        gives the same model, and the caller's global random state is left
        alone. For pickling, make it a module-level function.
    image_shape : tuple of int, default=None
        ``(channels, height, width)`` (or ``(height, width)``) of the images
        whose flattened pixels (channels first, C order) are the rows of X.
        Required by ``architecture="conv"``.
    conv_channels : int or tuple of int, default=(16, 32)
        Output channels of the convolution blocks, with
        ``architecture="conv"``. Each block halves the image's height and
        width.
    unpooling : {"nearest", "max"}, default="nearest"
        How the convolutional decoder undoes each max-pool: "nearest"
        upsamples by repeating pixels; "max" max-unpools, putting each value
        where the encoder's max-pool found its maximum (the pooling
        indices). Those indices exist only when encoding and decoding
        together (training, ``score``, ``DenoisingAutoencoder.denoise``);
        ``inverse_transform`` of bare codes puts each value in the top-left
        corner of its window instead.
    code_activation : {"identity", "logistic", "sigmoid", "relu", "tanh", ...}, \
default="identity"
        Activation of the code layer. A linear code is the classic choice
        and keeps the linear case equal to PCA; ``sparsity_target`` needs a
        sigmoid code ("logistic"), ``activity_l1`` works best with "relu".
        With a callable ``architecture``, it follows the user's encoder.
    activity_l1 : float, default=0.0
        Weight of the L1 activity penalty ``activity_l1 * mean(|code|)``,
        which drives code units to zero (a sparse autoencoder; see Notes).
    sparsity_target : float in (0, 1), default=None
        Target mean activation of each (sigmoid) code unit. Adds
        ``sparsity_weight * mean_j KL(sparsity_target || mean activation of
        unit j over the batch)`` (Ng, 2011 [3]_; see Notes). Needs
        ``code_activation="logistic"``.
    sparsity_weight : float, default=0.1
        Weight of the KL sparsity penalty, with ``sparsity_target``.
    contractive_weight : float, default=0.0
        Weight of the contractive penalty ``contractive_weight * mean over
        samples of ||J(x)||_F^2``, J the Jacobian of the code with respect
        to the input (Rifai et al., 2011 [4]_; see Notes): closed form for a one-layer
        sigmoid encoder (``hidden_layer_sizes=()``,
        ``code_activation="logistic"``), autograd (one backward pass per
        code unit) otherwise.
    tied_weights : bool, default=False
        Decode with the transposed encoder weights (MLP only): half the
        weights, and the classic form of contractive autoencoders.
    pretrain_max_iter : int, default=0
        Epochs of greedy layer-wise pretraining per encoder layer before
        the whole network trains (Hinton & Salakhutdinov [1]_ pretrained
        theirs with RBMs; MLP architecture only). Bottom up, each encoder
        layer and the decoder layer that mirrors it (its transpose with
        ``tied_weights``) train as a shallow autoencoder of the codes of the
        layers below it: the first layer reconstructs X with ``loss``, the
        others their input codes (binary cross-entropy for sigmoid codes,
        ``activation="logistic"``, squared error otherwise), from clean input as the whole network
        (:class:`DenoisingAutoencoder`: from corrupted input). The code
        penalties wait for the whole network; ``sample_weight`` weighs the
        rows in both; with ``early_stopping``, pretraining does not see the
        validation split.
        A fresh fit pretrains (so does the first ``partial_fit`` call), a
        ``warm_start`` fit or a later ``partial_fit`` call does not. 0
        skips pretraining.
    pretrain_learning_rate_init : float, default=None
        Learning rate of pretraining (None: ``learning_rate_init``). Each
        layer follows the ``learning_rate`` schedule on its own ("cosine":
        annealed over ``pretrain_max_iter`` epochs).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (``module_.encoder``, ``module_.decoder``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    n_components_ : int
        Size of the code of the fitted model.
    pretrain_loss_curves_ : list of list of float
        Pretraining loss after each epoch, one list per encoder layer,
        bottom up (empty lists when ``pretrain_max_iter=0``; an empty list
        for a convolutional or callable ``architecture``).
    <fitted attributes of training>

    See Also
    --------
    DenoisingAutoencoder : Trained to undo corruption of its input.
    VariationalAutoencoder : A generative model with ``sample``.
    sklearn.decomposition.PCA : The linear method it generalises.
    sklearn.neural_network.MLPRegressor : Where the parameter names come from.

    Notes
    -----
    On each minibatch of rows :math:`x_1, \\dots, x_n` of ``X``, with sample
    weights :math:`w_i` (``sample_weight``; all 1 by default), codes
    :math:`h_i = f(x_i) \\in \\mathbb{R}^k` (``transform``) and reconstructions
    :math:`\\hat x_i = g(h_i)` (``inverse_transform``), training minimises

    .. math::

        L = \\frac{1}{\\sum_i w_i} \\sum_{i=1}^{n} w_i \\Big(
            \\ell(x_i, \\hat x_i)
            + \\lambda_1 \\frac{1}{k} \\sum_{c=1}^{k} |h_{ic}|
            + \\lambda_J \\Big\\| \\frac{\\partial h_i}{\\partial x_i} \\Big\\|_F^2
            \\Big)
            + \\beta \\frac{1}{k} \\sum_{c=1}^{k}
              \\mathrm{KL}(\\rho \\,\\|\\, \\hat\\rho_c)
            + \\frac{\\alpha}{2 \\sum_i w_i} \\sum_W \\|W\\|_F^2 .

    The terms after the reconstruction loss :math:`\\ell` are, in order:

    - the L1 activity penalty of a sparse autoencoder, :math:`\\lambda_1` =
      ``activity_l1``;
    - the contractive penalty [4]_, :math:`\\lambda_J` =
      ``contractive_weight``: the squared Frobenius norm of the Jacobian of
      the code with respect to the input row;
    - the KL sparsity penalty [3]_, with ``sparsity_target`` only:
      :math:`\\beta` = ``sparsity_weight``, :math:`\\rho` =
      ``sparsity_target``, and :math:`\\hat\\rho_c = \\sum_i w_i h_{ic} /
      \\sum_i w_i` the mean activation of code unit :math:`c` over the
      minibatch (clipped to :math:`[10^{-6}, 1 - 10^{-6}]`), compared by
      the Kullback-Leibler divergence of Bernoulli distributions,

      .. math::

          \\mathrm{KL}(\\rho \\,\\|\\, \\hat\\rho) = \\rho \\log \\frac{\\rho}{\\hat\\rho}
              + (1 - \\rho) \\log \\frac{1 - \\rho}{1 - \\hat\\rho} ;

    - the L2 penalty ``alpha`` on the weight matrices :math:`W` (not the
      biases), divided by the minibatch's total weight as in
      ``MLPRegressor``.

    The reconstruction loss of a row with :math:`d` features is, for
    ``loss="mse"``, the mean squared error in units of ``scale_``
    (:math:`s`), and for ``loss="bce"`` the binary cross-entropy:

    .. math::

        \\ell_{\\mathrm{mse}}(x, \\hat x) = \\frac{1}{d} \\sum_{j=1}^{d}
            \\Big(\\frac{\\hat x_j - x_j}{s}\\Big)^2, \\qquad
        \\ell_{\\mathrm{bce}}(x, \\hat x) = -\\frac{1}{d} \\sum_{j=1}^{d}
            \\big(x_j \\log \\hat x_j + (1 - x_j) \\log(1 - \\hat x_j)\\big).

    For ``loss="huber"`` each scaled residual :math:`r_j = (\\hat x_j - x_j) / s`
    counts :math:`h_\\delta(r_j)`, with :math:`\\delta` = ``huber_delta``:

    .. math::

        \\ell_{\\mathrm{huber}}(x, \\hat x) = \\frac{1}{d} \\sum_{j=1}^{d}
            h_\\delta(r_j), \\qquad
        h_\\delta(r) = \\begin{cases} r^2 & |r| \\le \\delta \\\\
            2 \\delta |r| - \\delta^2 & |r| > \\delta \\end{cases}

    (twice torch's ``HuberLoss``, so that it equals the squared error up to
    :math:`\\delta`). ``score`` is minus the squared error whatever the loss.

    Sample weights thus weigh each row's terms in a weighted mean: within a
    minibatch, a weight of 2 counts as two copies of the row. ``score``
    is minus the mean of :math:`\\frac{1}{d} \\sum_j (\\hat x_{ij} -
    x_{ij})^2`, in the units of ``X``.

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality
       of data with neural networks", Science 313(5786), 2006.
    .. [2] P. Baldi and K. Hornik, "Neural networks and principal component
       analysis: learning from examples without local minima", Neural
       Networks 2(1), 1989.
    .. [3] A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011.
    .. [4] S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio,
       "Contractive auto-encoders: explicit invariance during feature
       extraction", ICML 2011.
    .. [5] J. Masci, U. Meier, D. Ciresan and J. Schmidhuber, "Stacked
       convolutional auto-encoders for hierarchical feature extraction",
       ICANN 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X / 16)
    >>> codes.shape
    (1797, 8)

    """  # noqa: D301 (the Notes' LaTeX: backslashes doubled, as the \ line continuations need)

    _net_parameters = (*BaseAutoencoder._net_parameters, "code_activation", "tied_weights")
    _objective_parameters = (
        *BaseAutoencoder._objective_parameters,
        "huber_delta",
        "activity_l1",
        "sparsity_target",
        "sparsity_weight",
        "contractive_weight",
    )
    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "loss": [StrOptions({"auto", "mse", "bce", "huber"})],
        "huber_delta": [Interval(Real, 0, _FLOAT32_MAX, closed="neither")],
        "code_activation": [StrOptions(set(ACTIVATIONS))],
        "activity_l1": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither"), None],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
        "tied_weights": ["boolean"],
        "pretrain_max_iter": [Interval(Integral, 0, None, closed="left")],
        "pretrain_learning_rate_init": [Interval(Real, 0, _FLOAT32_MAX, closed="right"), None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        output_activation="identity",
        loss="auto",
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

    def _loss_adds_up_over_rows(self):
        # The KL sparsity term compares the batch's mean activation.
        return self.sparsity_target is None and super()._loss_adds_up_over_rows()

    def _build_net(self, data):
        return build_autoencoder(
            **self._net_settings(data),
            code_activation=self.code_activation,
            tied_weights=self.tied_weights,
        )

    def _allows_overcomplete(self):
        # A penalty on the code keeps an overcomplete code from learning
        # the identity map. A sparsity_target with sparsity_weight=0 counts:
        # a search over the weight, or an ablation, includes 0 (the
        # gallery's plot_sparse.py compares with it).
        return bool(
            self.activity_l1 or self.sparsity_target is not None or self.contractive_weight
        )

    def _main_phase(self, net, data, seed, incremental, noise_generator, history):
        # Refused before any training, pretraining included: the fitted
        # model stays as it was.
        if self.compile and self.contractive_weight and not has_closed_form_jacobian(net):
            raise ValueError(
                f"compile=True cannot train contractive_weight={self.contractive_weight!r} "
                "on this encoder: its Jacobian penalty goes through autograd's double "
                "backward, which torch.compile does not support. Use compile=False, or "
                "the closed form of an encoder that is one linear layer and a sigmoid "
                "(architecture='mlp', hidden_layer_sizes=(), code_activation='logistic')."
            )
        return super()._main_phase(net, data, seed, incremental, noise_generator, history)

    def _check_settings(self, X):
        super()._check_settings(X)
        if self.sparsity_target is not None and self.code_activation not in _SIGMOIDS:
            raise ValueError(
                f"sparsity_target={self.sparsity_target} compares mean activations "
                "with a Bernoulli target, so it needs code units in (0, 1): set "
                f"code_activation='logistic' (got {self.code_activation!r}), or use "
                "activity_l1 for an L1 penalty on any code."
            )
        if self.tied_weights and self.architecture != "mlp":
            raise ValueError(
                "tied_weights=True applies to architecture='mlp' only, got "
                f"architecture={self.architecture!r}."
            )
        if self.pretrain_max_iter and self.architecture != "mlp":
            raise ValueError(
                f"pretrain_max_iter={self.pretrain_max_iter} pretrains the layers of "
                "architecture='mlp' only, got "
                f"architecture={self.architecture!r}: set pretrain_max_iter=0."
            )

    def _pretrain(self, net, data, order_generator, noise_generator):
        """Greedy layer-wise pretraining of an MLP's encoder and decoder layers."""
        if not isinstance(net, MLPAutoencoder):  # pretrain_max_iter is 0 (checked)
            return {"pretrain_loss_curves_": []}
        X, *others = data.train_arrays
        stack = LayerStack(
            net.layer_autoencoder,
            net.n_layers,
            corrupt=lambda k, batch, generator: self._corrupt(batch, generator),
            input_loss=self._reconstruction_loss,
        )
        weights = others[0] if data.weighted else None
        curves = pretrain_stack(self, stack, X, weights, order_generator, noise_generator)
        return {"pretrain_loss_curves_": curves}

    def _warn_on_result(self, data):
        # A fit stopped by max_iter has had its ConvergenceWarning already.
        history = self._history
        if not (history.stopped_early or history.schedule_completed):
            return
        X, weights = data.X, data.sample_weight
        weights = np.ones(X.shape[0]) if weights is None else weights
        huber_bound = None
        if self._resolved_loss() == "huber":
            huber_bound = self.huber_delta * float(self.module_.data_scale)
        explained = explained_fraction(
            self, X, weights / weights.sum(), self._row_error(), huber_bound
        )
        if explained is None or explained >= collapse_threshold(
            self.n_components_, self.n_features_in_
        ):
            return
        stopped = (
            "training stalled before the net learned (see tol and n_iter_no_change)"
            if history.stopped_early
            else f"the cosine schedule ended at max_iter={self.max_iter} before the net learned"
        )
        warn_at_caller(
            f"{type(self).__name__} reconstructs its training data no better than their "
            f"{'mean' if huber_bound is None else 'robust (Huber) mean'}: it removes "
            f"{explained if abs(explained) >= 5e-4 else 0:.1%} of that mean's "
            f"error, and its codes describe nothing. Either {stopped}, or the net "
            "collapsed (dead or saturated units: try a lower learning_rate_init or "
            "alpha, or another activation).",
            ConvergenceWarning,
        )

    def _training_objective(self):
        return {**super()._training_objective(), "loss": self._resolved_loss()}

    def _resolved_loss(self):
        """``loss``, with "auto" resolved: "mse" for a linear net, "huber" otherwise."""
        if self.loss != "auto":
            return self.loss
        return "mse" if self._net_is_linear() else "huber"

    def _net_is_linear(self):
        # Only a linear net has PCA's optimum under the squared error. A
        # user's modules are opaque, so they keep the squared error too.
        if callable(self.architecture):
            return True
        if self.architecture != "mlp":  # pooling is nonlinear
            return False
        no_hidden_layer = not as_layer_sizes(self.hidden_layer_sizes)
        return (
            (self.activation == "identity" or no_hidden_layer)
            and self.code_activation == "identity"
            and self.output_activation == "identity"
        )

    def _auto_batch_size(self):
        # The Huber default met issue 11's targets in batches of 64
        # (benchmarks/defaults.py); the squared error gained nothing from them.
        return 64 if self._resolved_loss() == "huber" else super()._auto_batch_size()

    def _row_error(self):
        """The training loss's per-row error of scaled residuals: squared, or Huber."""
        if self._resolved_loss() == "huber":
            return functools.partial(scaled_huber_error, delta=self.huber_delta)
        return scaled_squared_error

    def _reconstruction_loss(self, module, logits, target, sample_weight=None):
        if self._resolved_loss() != "huber":
            return super()._reconstruction_loss(module, logits, target, sample_weight)
        output = module.output_activation(logits)
        per_row = scaled_huber_error(output, target, module.data_scale, self.huber_delta)
        return weighted_mean(per_row, sample_weight)

    def _batch_scores(self, module, batch):
        # Early stopping on the training loss's own error: an outlier's
        # squared error would pick the epoch that fits outliers best.
        return self._sample_scores(module, batch[0], error=self._row_error())

    def _loss(self, module, X_input, X_target, generator, sample_weight=None):
        code, logits = module.encode_decode(X_input)  # (B, k), (B, d)
        loss = self._reconstruction_loss(module, logits, X_target, sample_weight)
        if self.activity_l1:
            loss = loss + self.activity_l1 * l1_activity(code, sample_weight)
        if self.sparsity_target is not None and self.sparsity_weight:
            kl = kl_sparsity(code, self.sparsity_target, sample_weight)
            loss = loss + self.sparsity_weight * kl
        if self.contractive_weight:
            jacobian = jacobian_frobenius_sq(module, X_input)  # (B,)
            loss = loss + self.contractive_weight * weighted_mean(jacobian, sample_weight)
        return loss
