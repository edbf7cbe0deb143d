"""sample_weight: a weighted loss, as in scikit-learn's MLP."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)

ESTIMATORS = [
    AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    AutoencoderTransformer(3, hidden_layer_sizes=(8,), loss="mse", max_iter=3, random_state=0),
    AutoencoderTransformer(
        3,
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        early_stopping=False,
        max_iter=3,
        random_state=0,
    ),  # fmt: skip
    DenoisingAutoencoder(3, hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    AutoencoderTransformer(3, hidden_layer_sizes=(8,), loss="huber", max_iter=3, random_state=0),
    VariationalAutoencoder(3, hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    StackedAutoencoderClassifier((8, 8), pretrain_max_iter=2, max_iter=3, random_state=0),
    AutoencoderTransformer(
        3,
        hidden_layer_sizes=(8,),
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=3,
        random_state=0,
    ),  # fmt: skip
    AutoencoderTransformer(  # the KL sparsity term: a weighted mean of its own
        3,
        hidden_layer_sizes=(8,),
        code_activation="logistic",
        sparsity_target=0.05,
        max_iter=3,
        random_state=0,
    ),  # fmt: skip
]


def _outputs(estimator, X):
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.transform(X)


@pytest.fixture(scope="module")
def data(digits_raw):
    X, y = digits_raw
    rng = np.random.RandomState(0)
    return X[:120] / 16, y[:120], rng.uniform(0.5, 2.0, size=120)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_zero_weight_rows_leave_no_trace(estimator, data):
    X, y, weights = data
    garbage = np.random.RandomState(1).uniform(-50, 50, size=(30, X.shape[1]))
    garbage[0, 5] = 1e39  # beyond float32: refused in a weighted row, not in a dropped one
    X_more = np.vstack([X[:60], garbage, X[60:]])
    y_more = np.concatenate([y[:60], np.zeros(30, dtype=y.dtype), y[60:]])
    w_more = np.concatenate([weights[:60], np.zeros(30), weights[60:]])
    plain = clone(estimator).fit(X, y, sample_weight=weights)
    padded = clone(estimator).fit(X_more, y_more, sample_weight=w_more)
    np.testing.assert_array_equal(_outputs(plain, X), _outputs(padded, X))
    assert plain.loss_curve_ == padded.loss_curve_
    if hasattr(plain, "mean_"):
        np.testing.assert_array_equal(plain.mean_, padded.mean_)


def test_a_class_of_zero_weights_only_is_absent_unless_partial_fit_names_it(data):
    X, y, _ = data
    weights = (y != 9).astype(float)  # as if the nines were not there
    classifier = StackedAutoencoderClassifier((8,), pretrain_max_iter=1, max_iter=2)
    fitted = clone(classifier).fit(X, y, sample_weight=weights)
    assert fitted.classes_.tolist() == list(range(9))
    assert fitted.predict_proba(X).shape == (len(X), 9)
    named = clone(classifier).partial_fit(X, y, classes=np.arange(10), sample_weight=weights)
    assert named.classes_.tolist() == list(range(10))


# Not L-BFGS: its line search turns a rounding difference into another step.
STOCHASTIC = [e for e in ESTIMATORS if e.get_params()["solver"] != "lbfgs"]


@pytest.mark.parametrize("estimator", STOCHASTIC, ids=lambda e: type(e).__name__)
def test_scaling_every_weight_changes_nothing_but_rounding(estimator, data):
    X, y, weights = data
    estimator = clone(estimator).set_params(alpha=0.0)
    once = clone(estimator).fit(X, y, sample_weight=weights)
    thrice = clone(estimator).fit(X, y, sample_weight=3.0 * weights)
    np.testing.assert_allclose(_outputs(once, X), _outputs(thrice, X), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_weights_near_float32s_limit_train_as_weights_of_one(estimator, data):
    # Weights that the range check accepts (their sum below float32's
    # largest) overflowed the float32 loss sums, a "divergence" blamed on
    # the learning rate. A power of two scales every weight exactly.
    X, y, weights = data
    estimator = clone(estimator).set_params(alpha=0.0)
    plain = clone(estimator).fit(X, y, sample_weight=weights)
    huge = clone(estimator).fit(X, y, sample_weight=weights * 2.0**120)
    assert huge.loss_curve_ == plain.loss_curve_
    np.testing.assert_array_equal(_outputs(huge, X), _outputs(plain, X))


def test_weights_change_the_fit(data):
    X, y, weights = data
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    plain = clone(ae).fit(X)
    weighted = clone(ae).fit(X, sample_weight=weights)
    assert not np.array_equal(plain.transform(X), weighted.transform(X))
    np.testing.assert_allclose(weighted.mean_, np.average(X, axis=0, weights=weights))
    # scale_: the root mean over the features of their weighted variance.
    variances = np.average((X - weighted.mean_) ** 2, axis=0, weights=weights)
    assert weighted.scale_ == pytest.approx(np.sqrt(variances.mean()), rel=1e-12)


@pytest.mark.parametrize("bad, message", [
    (-np.ones(120), "Negative values in data passed to `sample_weight`"),
    (np.zeros(120), "Sample weights must contain at least one non-zero number"),
    (np.ones(7), r"sample_weight.shape == \(7,\), expected \(120,\)"),
])  # fmt: skip
def test_bad_weights_are_refused_and_change_nothing(data, bad, message):
    X, y, _ = data
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    codes = ae.transform(X)
    with pytest.raises(ValueError, match=message):
        ae.fit(X, sample_weight=bad)
    np.testing.assert_array_equal(ae.transform(X), codes)


def test_routing_through_pipeline_and_grid_search(data):
    X, y, weights = data
    with sklearn.config_context(enable_metadata_routing=True):
        ae = AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=True),
            ae.set_fit_request(sample_weight=True),
            LogisticRegression(max_iter=200).set_fit_request(sample_weight=True),
        )
        pipe[-1].set_score_request(sample_weight=True)
        search = GridSearchCV(pipe, {"autoencodertransformer__n_components": [2, 3]}, cv=2)
        search.fit(X, y, sample_weight=weights)
        # The weights reached the autoencoder: its mean is the weighted one.
        fitted = clone(pipe).fit(X, y, sample_weight=weights)
    scaled = StandardScaler().fit(X, sample_weight=weights).transform(X)
    np.testing.assert_allclose(
        fitted[1].mean_, np.average(scaled, axis=0, weights=weights), atol=1e-12
    )
    assert search.best_params_["autoencodertransformer__n_components"] in (2, 3)
