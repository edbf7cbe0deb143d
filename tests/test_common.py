"""scikit-learn's own API compliance checks, run on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import AutoencoderTransformer

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# checks exercise the API, not the quality of the fit.
ESTIMATORS = [
    AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
]

# The goal is none; each entry would need a one-line reason.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
