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
ESTIMATORS = [
    AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    # The loss terms of the sparse and contractive autoencoders, and tied
    # weights: the contractive term goes through autograd (hidden layer).
    AutoencoderTransformer(
        hidden_layer_sizes=(8,),
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
    StackedAutoencoderClassifier(
        hidden_layer_sizes=(16, 16),
        corruption_levels=(0.1, 0.2),
        pretrain_max_iter=2,
        pretrain_learning_rate_init=0.01,
        max_iter=30,
        learning_rate_init=0.01,
        random_state=0,
    ),
]

# The goal is none; each entry would need a one-line reason.
EXPECTED_FAILED_CHECKS = {
    "StackedAutoencoderClassifier": {
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
