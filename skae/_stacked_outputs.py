"""What a fitted stacked classifier computes: class scores, probabilities, features."""

import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._blocks import INFERENCE_DTYPES, summed_duplicates

__all__ = ["StackedOutputsMixin"]


class StackedOutputsMixin(TransformerMixin):
    """Inference of :class:`~skae.StackedAutoencoderClassifier` on ``module_``.

    ``predict``, ``predict_proba``, ``decision_function``... in batches,
    through the estimator's ``_infer`` (see :class:`~skae._estimator.TorchEstimator`).
    A ``TransformerMixin`` itself, because scikit-learn's ``set_output``
    wraps only a ``transform`` defined in a subclass of it: ``transform``
    defined here in a plain mixin gave NumPy arrays under
    ``set_output(transform="pandas")`` while ``fit_transform`` gave
    DataFrames.
    """

    def _apply(self, fn, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=INFERENCE_DTYPES)
        return self._infer(fn, summed_duplicates(X))

    def decision_function(self, X):
        """Class scores (logits of the softmax layer).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the logit of ``classes_[1]`` minus that of
            ``classes_[0]`` (positive means ``classes_[1]``).

        """
        scores = self._apply(lambda module, X_batch: module(X_batch), X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``, with their dtype.

        """
        logits = self._apply(lambda module, X_batch: module(X_batch), X)
        return self.classes_[logits.argmax(axis=1)]

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.

        """
        return self._apply(lambda module, X_batch: torch.softmax(module(X_batch), dim=1), X)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)

        """
        return self._apply(lambda module, X_batch: F.log_softmax(module(X_batch), dim=1), X)

    def transform(self, X):
        """Learned features: the output of the top hidden layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            Float32 for float32 ``X``, float64 otherwise. With
            no hidden layer, ``X`` itself, densified.

        """
        return self._apply(lambda module, X_batch: module.encode(X_batch), X)

    @property
    def _n_features_out(self):
        """Number of features of :meth:`transform` (for feature names)."""
        return self.module_.head.in_features
