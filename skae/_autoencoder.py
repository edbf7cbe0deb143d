"""AutoencoderTransformer: the multilayer-perceptron autoencoder."""

from ._base import BaseAutoencoder, _as_layer_sizes
from ._nn import MLPAutoencoder


class AutoencoderTransformer(BaseAutoencoder):
    """Multilayer-perceptron autoencoder, a nonlinear drop-in for ``PCA``.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components``
    and the decoder mirrors it. ``transform`` returns the code,
    ``inverse_transform`` the reconstruction, and ``score`` the negative mean
    squared reconstruction error, so the estimator fits in a ``Pipeline``
    and can be tuned by ``GridSearchCV`` with no ``scoring=``. With
    ``activation="identity"`` it learns the principal subspace, reaching the
    reconstruction error of ``PCA(n_components)``.

    Training uses PyTorch on in-memory tensors: float32 compute, outputs in
    the float dtype of the input, bit-for-bit reproducible on the CPU for a
    fixed ``random_state``.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code (the bottleneck). At most ``n_features``.
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the encoder's hidden layers; the decoder uses them reversed.
        ``()`` gives a single linear map each way.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", \
"leaky_relu", "sigmoid"}, default="relu"
        Activation of the hidden layers. The code layer is linear.
    output_activation : {"identity", "sigmoid"}, default="identity"
        Activation of the reconstruction; "sigmoid" for data in [0, 1].
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss: mean squared error, or binary cross-entropy
        (needs X in [0, 1] and ``output_activation="sigmoid"``).
    solver : {"adam", "adamw", "sgd", "rmsprop", "lbfgs"}, default="adam"
        Optimizer. "sgd" uses Nesterov momentum 0.9. "lbfgs" is full-batch
        L-BFGS with a strong Wolfe line search, up to 20 iterations per
        epoch: often the best choice for small data.
    alpha : float, default=0.0001
        L2 penalty on the weights, ``0.5 * alpha * ||W||^2 / batch_size``
        as in ``MLPRegressor``.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=0.001
        Learning rate of the optimizer (not used by "lbfgs").
    max_iter : int, default=200
        Maximum number of epochs (for "lbfgs", of 20 iterations each).
    tol : float, default=1e-4
        Training stops when the loss (or the validation score, with
        ``early_stopping``) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when the
        validation loss stops improving, and restore the best weights.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Patience, in epochs, for ``tol``.
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimizer state.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batch order and the validation split, through
        private generators (the global torch seed is never touched).
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N", "mps", or "auto" (a GPU when one is present).
    verbose : bool or int, default=False
        Print one line per epoch: loss, validation loss, seconds.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (``module_.encoder``, ``module_.decoder``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    loss_curve_ : list of float
        Training loss at the end of each epoch (with the L2 penalty).
    validation_scores_ : list of float or None
        Negative validation loss after each epoch, with ``early_stopping``.
    best_validation_score_ : float or None
        Best of ``validation_scores_``, with ``early_stopping``.
    best_loss_ : float
        Lowest training loss, or the validation loss of the restored epoch
        with ``early_stopping``.
    n_iter_ : int
        Number of epochs run (accumulates over warm starts and partial_fit).
    n_components_ : int
        Size of the code of the fitted model.
    device_ : str
        Device the module lives on.

    See Also
    --------
    sklearn.decomposition.PCA : The linear method it generalises.
    sklearn.neural_network.MLPRegressor : Where the parameter names come from.

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality
       of data with neural networks", Science 313(5786), 2006.
    .. [2] P. Baldi and K. Hornik, "Neural networks and principal component
       analysis: learning from examples without local minima", Neural
       Networks 2(1), 1989.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_iter=5, random_state=0)
    >>> codes = ae.fit_transform(X / 16)  # doctest: +SKIP
    >>> codes.shape  # doctest: +SKIP
    (1797, 8)

    """

    def _build_module(self, n_features):
        return MLPAutoencoder(
            n_features=n_features,
            hidden_layer_sizes=_as_layer_sizes(self.hidden_layer_sizes),
            n_components=self.n_components,
            activation=self.activation,
            output_activation=self.output_activation,
        )
