"""scikit-learn's own API compliance checks, run on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# checks exercise the API, not the quality of the fit.
_CLASSIFIER = dict(
    hidden_layer_sizes=(16, 16),
    corruption_levels=(0.1, 0.2),
    pretrain_max_iter=2,
    pretrain_learning_rate_init=0.01,
    max_iter=30,
    learning_rate_init=0.01,
    random_state=0,
)
ESTIMATORS = [
    AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    # The Huber loss, the loss terms of the sparse and contractive
    # autoencoders, and tied weights: the contractive term goes through
    # autograd (hidden layer).
    AutoencoderTransformer(
        hidden_layer_sizes=(8,),
        loss="huber",
        code_activation="logistic",
        activity_l1=0.01,
        sparsity_target=0.1,
        contractive_weight=0.01,
        tied_weights=True,
        max_iter=10,
        random_state=0,
    ),
    DenoisingAutoencoder(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    VariationalAutoencoder(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    StackedAutoencoderClassifier(**_CLASSIFIER),
    # Batch norm meets the checks' tiny fits (one-row batches included).
    StackedAutoencoderClassifier(**_CLASSIFIER, batch_norm=True, noise_std=0.1),
]

# Weight 2 equals a repeated row only in expectation for minibatch training
# (the batches differ), and full-batch L-BFGS in float32 still differs from
# it beyond the checks' rtol=1e-7 (measured). tests/test_sample_weight.py
# checks what does hold: zero weights leave no trace, scaling changes nothing.
_SAMPLE_WEIGHT_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data": "float32 minibatches: equal in expectation",
    "check_sample_weight_equivalence_on_sparse_data": "float32 minibatches: equal in expectation",
}
# The goal is none; each entry would need a one-line reason.
EXPECTED_FAILED_CHECKS = {
    "AutoencoderTransformer": _SAMPLE_WEIGHT_EQUIVALENCE,
    "DenoisingAutoencoder": _SAMPLE_WEIGHT_EQUIVALENCE,
    "VariationalAutoencoder": _SAMPLE_WEIGHT_EQUIVALENCE,
    "StackedAutoencoderClassifier": {
        **_SAMPLE_WEIGHT_EQUIVALENCE,
        # Like SelfTrainingClassifier (which the check exempts by name), -1
        # means "unlabelled" by default; with unlabeled=None the check passes
        # (tests/test_stacked.py::test_minus_one_is_a_class_with_unlabeled_none).
        "check_classifiers_classes": "labels {-1, 1}: -1 marks unlabelled samples",
    },
}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
