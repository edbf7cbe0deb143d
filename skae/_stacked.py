"""StackedAutoencoderClassifier: greedy denoising pretraining, then fine-tuning."""

from numbers import Integral, Real

import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._blocks import INFERENCE_DTYPES, summed_duplicates
from ._classifier_net import StackedNet
from ._docstrings import document_fitted_attributes
from ._estimator import (
    _FLOAT32_MAX,
    TRAINING_PARAMETER_CONSTRAINTS,
    TorchEstimator,
    as_layer_sizes,
    store_parameters,
)
from ._labels import check_unlabeled_marker, labelled_fit_data
from ._layers import ACTIVATIONS
from ._penalties import weighted_mean
from ._pretraining import pretrain_layers
from ._semi_supervised import check_semi_supervised, semi_supervised_phase, uses_unlabelled
from ._settings import corruption_levels
from ._stacked_outputs import StackedOutputsMixin


@document_fitted_attributes(
    loss="the cross-entropy of the labelled samples (and the semi-supervised terms)",
    score="the accuracy",
    epochs="fine-tuning epochs",
    samples_seen=" in fine-tuning (pretraining does not count)",
    centred=False,
)
class StackedAutoencoderClassifier(
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    StackedOutputsMixin,  # a TransformerMixin
    TorchEstimator,
    BaseEstimator,
):
    """Stacked denoising autoencoder classifier (SdA).

    Each hidden layer is first pretrained, greedily from the bottom up [2]_,
    as a denoising autoencoder [1]_ on the codes of the layers below it: its input is
    corrupted with masking noise and it learns to reconstruct the clean
    input. Then the whole stack, topped by a softmax layer, is fine-tuned on
    the labels with the cross-entropy loss. Pretraining needs no labels, so
    it can use many unlabelled samples (label ``-1``, scikit-learn's
    semi-supervised convention) while fine-tuning uses the labelled ones.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(1000, 1000, 1000)
        Widths of the hidden layers (the architecture of Vincent et al.
        2010 [1]_ on MNIST). ``()`` is a linear softmax classifier with nothing
        to pretrain, as ``MLPClassifier(hidden_layer_sizes=())``.
    corruption_levels : "auto", float or tuple of float, default="auto"
        Masking-noise level of each layer's pretraining: the probability of
        zeroing each input of that layer. One value per hidden layer, or one
        float for all layers. "auto" rises linearly from 0.1 at the first
        layer to 0.3 at the last (``numpy.linspace(0.1, 0.3, n_layers)``):
        0.1 for one layer, (0.1, 0.2, 0.3) for three, as in Vincent et al.
        (2010), so that the default fits any depth.
    activation : {"relu", "logistic", "tanh", "identity", "elu", "gelu", \
"leaky_relu", "sigmoid"}, default="relu"
        Activation of the hidden layers. "logistic" is the classic SdA's,
        "relu" ``MLPClassifier``'s. Pretraining reconstructs a layer's
        input with the binary cross-entropy when it is pixels in [0, 1] or
        sigmoid codes, and with the squared error otherwise.
    solver : {"adam", "adamw", "sgd", "rmsprop", "lbfgs"}, default="adam"
        Optimizer of both phases. "sgd" uses Nesterov momentum 0.9.
    alpha : float, default=0.0001
        L2 penalty on the weights, ``0.5 * alpha * ||W||^2 / batch_size``
        as in ``MLPClassifier``, in both phases.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``, and a larger
        integer than ``n_samples`` is clipped to it (as in ``MLPRegressor``,
        without its warning: a search over ``batch_size`` on small folds,
        or ``partial_fit`` on small chunks, would warn at every call).
    pretrain_max_iter : int, default=10
        Epochs of pretraining per hidden layer. ``0`` skips pretraining: the
        same network, fine-tuned from its random initialisation, the
        baseline that measures what pretraining brings.
    pretrain_learning_rate_init : float, default=0.001
        Learning rate of pretraining.
    max_iter : int, default=200
        Maximum number of fine-tuning epochs.
    learning_rate_init : float, default=0.001
        Learning rate of fine-tuning. After pretraining, a lower rate (e.g.
        1e-4 to 3e-4 with Adam) keeps more of what pretraining learned:
        with 1,000 MNIST labels, Adam at 1e-3 erased its benefit.
    learning_rate : {"plateau", "constant", "adaptive", "cosine"}, \
default="plateau"
        Learning-rate schedule of pretraining and fine-tuning (each phase
        starts from its own initial rate; ignored by ``solver="lbfgs"``).

        - "plateau": the initial rate until training stalls (``tol``,
          ``n_iter_no_change``), then divided by 5, twice at most; the phase
          stops when it stalls a third time. ``partial_fit``, which never
          stops, divides the rate on every stall until it falls below
          1e-6, as "adaptive" does.
        - "constant": the initial rate throughout; the phase stops the first
          time it stalls.
        - "adaptive": as in :class:`~sklearn.neural_network.MLPClassifier`,
          the rate is divided by 5 whenever training would stop for lack of
          progress (see ``tol`` and ``n_iter_no_change``), and training
          stops only once it falls below 1e-6.
        - "cosine": annealed batch by batch to 0 over ``max_iter`` epochs
          (``pretrain_max_iter`` for each pretrained layer), which usually
          gives a lower final error for a fixed number of epochs. A stall
          still stops the phase (``n_iter_no_change`` at least the phase's
          epochs runs the whole schedule), and reaching ``max_iter`` is its
          end, not a ``ConvergenceWarning``.
    dropout : float, default=0.0
        Dropout probability of the hidden units during fine-tuning.
    input_dropout : float, default=0.0
        Dropout probability of the input features during fine-tuning (0.2
        in Srivastava et al. 2014 [3]_) that keeps the fine-tuned network
        robust to missing pixels. It is dropout: the kept features are
        scaled by ``1 / (1 - input_dropout)``, while pretraining's masking
        noise zeroes features without rescaling.
    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activation and the logits over the
        batch (:class:`torch.nn.BatchNorm1d`), as the supervised baseline of
        ladder networks [4]_ does; pretraining trains each layer with its
        normalisation. Inference uses the running statistics, which only
        the training passes update (not the clean pass behind the
        ``consistency_weight`` term's target). The batch
        statistics are unweighted, whatever ``sample_weight`` says; a
        training batch of one row is normalised by the running statistics.
        The fitted weights then depend on the number of torch threads, by
        float rounding (the batch statistics are sums torch splits across
        threads); at one thread count fits are bit-identical.
    noise_std : float, default=0.0
        Standard deviation of Gaussian noise added during fine-tuning to the
        input and to each layer's (normalised) pre-activation, the logits
        included: 0.3 with ``batch_norm`` in ladder networks [4]_. Not used
        in pretraining or inference.
    reconstruction_weight : float, default=0.0
        Weight of a denoising reconstruction term in fine-tuning (see
        Notes), so that unlabelled samples shape fine-tuning too: every
        sample goes through the hidden layers with ``input_dropout`` and
        ``dropout``, and a decoder tied to their pretrained weights (with
        the biases pretraining learned) reconstructs the clean input. 0:
        labels only, as without it. With a term > 0 (this or
        ``consistency_weight``) an epoch is a pass over all the samples,
        each batch holding ``batch_size`` of them and as many labelled ones
        (drawn in turn, so few labels are seen many times an epoch); when
        every sample is labelled and none is held out for
        ``early_stopping``, a batch is ``batch_size`` samples, as without
        the term, and their one noisy pass serves every term. With
        ``early_stopping``, the held-out rows still enter the terms as
        unlabelled rows (their inputs, never their labels), as every input
        does in a ladder network. Needs a hidden layer; ``warm_start`` and
        ``partial_fit`` cannot turn it on after a fit with 0 (they can turn
        it off).
    consistency_weight : float, default=0.0
        Weight of a consistency term in fine-tuning (see Notes): the
        divergence from the prediction on each clean sample, labelled or
        not, to that on its copy corrupted by ``input_dropout`` and
        ``dropout``, and by ``noise_std`` (0 without any of them), as the
        ladder network's top cost [4]_.
    tol : float, default=3e-3
        Relative tolerance: a phase stalls when, for more than
        ``n_iter_no_change`` epochs, its loss (or the validation accuracy,
        with ``early_stopping``) has not beaten its value at the last epoch
        that did by more than ``tol`` times its magnitude, as in PyTorch's
        ``ReduceLROnPlateau`` (``MLPClassifier``'s ``tol`` is absolute, and
        compared with the previous best epoch by epoch).
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labelled samples (stratified),
        stop fine-tuning when the validation accuracy stops improving, and
        restore the weights of the best validation epoch.
    validation_fraction : float, default=0.1
        Fraction of the labelled samples held out for early stopping.
    n_iter_no_change : int, default=10
        Patience, in epochs, for ``tol``.
    warm_start : bool, default=False
        Continue fine-tuning from the previous fit's weights and optimizer
        state, without pretraining again. The labels must come from
        ``classes_``.
    unlabeled : int, float, str or None, default=-1
        Label of the unlabelled samples: they are used in pretraining (and
        by ``reconstruction_weight`` and ``consistency_weight``) only.
        As in ``SelfTrainingClassifier``, ``-1`` means "unlabelled", so with
        the default a class really called ``-1`` (e.g. labels ``{-1, 1}``)
        is not learned: pass ``unlabeled=None`` to treat every label as a
        class. NaN cannot be the marker (``y`` may not hold NaN): with
        pandas, ``y.fillna(-1)`` marks missing labels
        (``y.astype(object).fillna(-1)`` for a categorical ``y``). A list
        of strings and ``-1`` becomes an array of strings, refused with
        the default marker: pass it as an object array. ``score`` counts
        the marked samples as errors (as ``SelfTrainingClassifier``'s
        does): score on the labelled ones.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batch order, the corruption and dropout masks
        and the validation split, through private generators.
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N", "mps", or "auto" (a GPU when one is present),
        for fits from scratch, as in :class:`AutoencoderTransformer` (a
        continued fit goes on where the fitted net is, ``device_``).
    compile : bool, default=False
        Train through :func:`torch.compile`, as :class:`AutoencoderTransformer`
        does (its entry says what it costs and when it pays off): each phase,
        each pretraining layer included, compiles its batch loss on its
        first batch. Nothing compiled is stored in the fitted classifier.
    verbose : bool or int, default=False
        Print one line per epoch of each phase.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, from the labelled samples only.
    module_ : torch.nn.Module
        The trained network (``module_.hidden``: the stack, ``module_.head``:
        the softmax layer's weights).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    n_layers_ : int
        Number of layers, input and output included (as ``MLPClassifier``).
    pretrain_loss_curves_ : list of list of float
        Pretraining reconstruction loss after each epoch, one list per hidden
        layer (empty lists when ``pretrain_max_iter=0``).
    <fitted attributes of training>

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network without
        pretraining, and where the parameter names come from.
    sklearn.semi_supervised.SelfTrainingClassifier : The ``-1`` convention.
    skae.AutoencoderTransformer : An autoencoder for features alone.

    Notes
    -----
    Pretraining (see [1]_): hidden layer :math:`l`, of weights :math:`W_l`
    and bias :math:`b_l`, is a tied-weights autoencoder of its input
    :math:`a` (the row :math:`x` for the first layer, the codes of the
    layers below it otherwise): code :math:`h = \\phi(W_l \\tilde a + b_l)`
    (:math:`\\phi` = ``activation``) of a masked copy :math:`\\tilde a` (each
    entry zeroed with the layer's probability of ``corruption_levels``),
    reconstruction logits :math:`z = W_l^\\top h + c_l` (:math:`c_l`, the
    decoder's own bias). It minimises, on each minibatch, the weighted mean
    over the :math:`d_l`-dimensional rows of

    .. math::

        -\\frac{1}{d_l} \\sum_{j=1}^{d_l} \\big(a_j \\log \\sigma(z_j)
            + (1 - a_j) \\log(1 - \\sigma(z_j))\\big)
        \\quad \\text{or} \\quad
        \\frac{1}{d_l} \\sum_{j=1}^{d_l} (z_j - a_j)^2,

    the binary cross-entropy when the layer's input is X in [0, 1] or
    sigmoid codes, the squared error otherwise, plus the L2 penalty
    ``alpha``. Fine-tuning then minimises the cross-entropy of the labelled rows, with the
    logits :math:`s_i` of row :math:`i` (the top linear layer's outputs; with
    ``dropout`` and ``input_dropout`` applied while training), its label
    :math:`y_i`, and the sample weights :math:`w_i` (1 by default):

    .. math::

        L = -\\frac{1}{\\sum_i w_i} \\sum_{i=1}^{n} w_i
            \\log \\frac{\\exp s_{i y_i}}{\\sum_{c} \\exp s_{ic}}
            + \\frac{\\alpha}{2 \\sum_i w_i} \\sum_W \\|W\\|_F^2 .

    The L2 penalty covers the weight matrices :math:`W`, not the biases,
    divided by the minibatch's total weight as in ``MLPClassifier``.

    With ``reconstruction_weight`` :math:`\\lambda` or ``consistency_weight``
    :math:`\\mu` > 0, each minibatch also holds rows :math:`j` of all the
    samples (labelled or not, weights :math:`v_j`), and :math:`L` gains

    .. math::

        \\frac{1}{\\sum_j v_j} \\sum_j v_j \\Big(\\lambda\\, \\ell(g(\\tilde h_j), x_j)
            + \\mu \\sum_c q_{jc} \\log \\frac{q_{jc}}{\\tilde q_{jc}}\\Big),

    with :math:`\\tilde h_j` the top hidden layer's output for :math:`x_j`
    under ``input_dropout`` and ``dropout``, the decoder
    :math:`g(h) = W_1^\\top \\phi(\\cdots \\phi(W_L^\\top h + c_L) \\cdots) + c_1`,
    :math:`\\ell` pretraining's per-feature loss above, :math:`\\tilde q_j` the
    softmax of the head on :math:`\\tilde h_j` and :math:`q_j` that of the
    clean row (a constant). Weights count in every term a sample is in; the
    L2 penalty is still divided by the labelled rows' total weight.
    When every sample is labelled and trained on, the rows :math:`j` are
    the labelled rows :math:`i` themselves, and :math:`\\tilde h_j` is the
    noisy pass that the cross-entropy term uses.

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A. Manzagol,
       "Stacked denoising autoencoders: learning useful representations in a
       deep network with a local denoising criterion", JMLR 11, 2010.
    .. [2] Y. Bengio, P. Lamblin, D. Popovici and H. Larochelle, "Greedy
       layer-wise training of deep networks", NIPS 2006.
    .. [3] N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and
       R. Salakhutdinov, "Dropout: a simple way to prevent neural networks
       from overfitting", JMLR 15, 2014.
    .. [4] A. Rasmus, H. Valpola, M. Honkala, M. Berglund and T. Raiko,
       "Semi-supervised learning with ladder networks", NIPS 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import StackedAutoencoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = StackedAutoencoderClassifier(
    ...     hidden_layer_sizes=(64, 32), corruption_levels=0.2,
    ...     pretrain_max_iter=2, max_iter=5, random_state=0)
    >>> clf.fit(X / 16, y).predict_proba(X[:3] / 16).shape
    (3, 10)
    >>> clf.transform(X[:3] / 16).shape
    (3, 32)

    With 100 labels, the other digits unlabelled (``-1``), reconstructed
    in every epoch of fine-tuning, a pass over all of them:

    >>> y_few = y.copy()
    >>> y_few[100:] = -1
    >>> semi = clf.set_params(reconstruction_weight=1.0).fit(X / 16, y_few)
    >>> semi.n_iter_, semi.t_
    (5, 8985)

    """  # noqa: D301 (the Notes' LaTeX: backslashes doubled, as the \ line continuations need)

    _parameter_constraints: dict = {
        **TRAINING_PARAMETER_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "corruption_levels": [
            StrOptions({"auto"}),
            "array-like",
            Interval(Real, 0, 1, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "pretrain_max_iter": [Interval(Integral, 0, None, closed="left")],
        "pretrain_learning_rate_init": [Interval(Real, 0, _FLOAT32_MAX, closed="right")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "noise_std": [Interval(Real, 0, _FLOAT32_MAX, closed="both")],
        "unlabeled": [None, Real, str],
        "reconstruction_weight": [Interval(Real, 0, _FLOAT32_MAX, closed="both")],
        "consistency_weight": [Interval(Real, 0, _FLOAT32_MAX, closed="both")],
    }
    _main_phase_name = "Fine-tuning"
    _net_parameters = ("hidden_layer_sizes", "activation", "batch_norm")
    _objective_parameters = (
        "alpha",
        "reconstruction_weight",
        "consistency_weight",
        "noise_std",
    )

    def __init__(
        self,
        hidden_layer_sizes=(1000, 1000, 1000),
        *,
        corruption_levels="auto",
        activation="relu",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        pretrain_max_iter=10,
        pretrain_learning_rate_init=0.001,
        max_iter=200,
        learning_rate_init=0.001,
        learning_rate="plateau",
        dropout=0.0,
        input_dropout=0.0,
        batch_norm=False,
        noise_std=0.0,
        reconstruction_weight=0.0,
        consistency_weight=0.0,
        tol=3e-3,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        unlabeled=-1,
        random_state=None,
        device="cpu",
        compile=False,
        verbose=False,
    ):
        store_parameters(self, locals())

    # ------------------------------------------------------------ validation

    def _fit_data(self, X, y, sample_weight, *, continuing, incremental, classes):
        check_unlabeled_marker(self.unlabeled)
        X, y = validate_data(
            self, X, y, reset=not continuing, accept_sparse="csr", dtype=INFERENCE_DTYPES
        )
        X = summed_duplicates(X)
        n_layers = len(as_layer_sizes(self.hidden_layer_sizes))
        corruption_levels(self.corruption_levels, n_layers)
        fitted_classes = self.classes_ if continuing else None
        decoder = check_semi_supervised(self, n_layers, self.module_ if continuing else None)
        data = labelled_fit_data(
            X, y, sample_weight, self.unlabeled, fitted_classes, incremental, classes, n_layers
        )
        data.attributes["_decoder_"] = decoder  # the net's shape, for _rebuild_net
        return data

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None):
        """Pretrain the hidden layers on all of ``X``, then fine-tune on the labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices are densified one batch at a time.
        y : array-like of shape (n_samples,)
            Class labels; samples labelled ``unlabeled`` (default ``-1``) are
            used in pretraining only.
        sample_weight : array-like of shape (n_samples,), default=None
            How much each sample counts in the pretraining and fine-tuning
            losses and in the validation accuracy, as in ``MLPClassifier``
            (see the user guide); samples of weight 0 are dropped first,
            as if absent: a class that has only such samples is not in
            ``classes_`` (``MLPClassifier`` keeps it). ``partial_fit``'s
            ``classes`` keeps every class.

        Returns
        -------
        self : object
            The fitted estimator.

        """
        return self._fit_sequence(X, y, incremental=False, sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of fine-tuning on the labelled samples of ``X``.

        The first call builds the network, pretrains it on this ``X`` (as
        ``fit`` does, unless ``pretrain_max_iter=0``) and needs ``classes``;
        later calls go on fine-tuning the same network, with the optimizer's
        state carried over (unlike ``MLPClassifier.partial_fit``), so a model
        fitted on a large (partly unlabelled) set can keep learning from new
        labelled batches. ``early_stopping`` is ignored, and a "cosine"
        schedule does not anneal: each call keeps the rate it finds
        (``learning_rate_init`` on a first call, about 0 after a cosine
        ``fit``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Labels from ``classes`` (or ``classes_``). The supervised term
            skips ``unlabeled`` samples; their inputs train the first
            call's pretraining and, in every call, the semi-supervised terms
            (``reconstruction_weight``, ``consistency_weight``). Each call
            needs at least one labelled sample.
        classes : array-like of shape (n_classes,), default=None
            Every class the model will ever see. Required on the first call;
            on later ones it may be omitted, and if given must be the fitted
            ``classes_`` (a ValueError otherwise, as in
            ``MLPClassifier.partial_fit``). The ``unlabeled`` marker is left
            out if it is among them (as in ``classes=np.unique(y)`` when
            ``y`` has unlabelled rows), as ``fit`` leaves it out of
            ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self : object
            The updated estimator.

        """
        return self._fit_sequence(
            X, y, incremental=True, classes=classes, sample_weight=sample_weight
        )

    def _loss_adds_up_over_rows(self):
        # Batch norm normalises by the batch's statistics.
        return not self.batch_norm

    def _build_net(self, data):
        sizes = as_layer_sizes(self.hidden_layer_sizes)
        n_classes, decoder = len(data.attributes["classes_"]), data.attributes.get("_decoder_")
        return StackedNet(
            data.X.shape[1], sizes, n_classes, self.activation, bool(decoder), self.batch_norm
        )

    def _main_phase(self, net, data, seed, incremental, noise_generator, history):
        phase = super()._main_phase(net, data, seed, incremental, noise_generator, history)
        if uses_unlabelled(self):
            phase = semi_supervised_phase(self, phase, data, seed, incremental, noise_generator)
        return phase

    def _pretrain(self, net, data, order_generator, noise_generator):
        curves = pretrain_layers(
            self, net, data.X, data.sample_weight, order_generator, noise_generator
        )
        return {"pretrain_loss_curves_": curves}

    def _batch_loss(self, module, batch, noise_generator):
        X, y, sample_weight = batch[0], batch[1], (batch[2] if len(batch) > 2 else None)
        logits = module(X, self.dropout, self.input_dropout, noise_generator, self.noise_std)
        return weighted_mean(F.cross_entropy(logits, y, reduction="none"), sample_weight)

    def _batch_scores(self, module, batch):
        # Early stopping watches the validation accuracy, as MLPClassifier
        # (the loop weighs it by the batch's last source, when weighted).
        X, y = batch[0], batch[1]
        return (module(X).argmax(dim=1) == y).to(X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
