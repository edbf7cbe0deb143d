"""A fit that ran its course but reconstructs only the mean says so.

Too large a learning rate saturates sigmoid units: the decoder then
outputs the mean whatever the code, and the fit used to end with no
warning at all.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, DenoisingAutoencoder

COLLAPSING = dict(hidden_layer_sizes=(8,), activation="sigmoid", learning_rate_init=1.0)
MESSAGE = "reconstructs its training data no better than their"  # mean, or robust mean
HEALTHY = dict(random_state=0)


def _fit_warnings(model, *fit_args, **fit_params):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(*fit_args, **fit_params)
    caught = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert all(w.filename == __file__ for w in caught)  # the user's line
    return [str(w.message) for w in caught]


@pytest.fixture
def X(digits_unit):
    return digits_unit[:300]


@pytest.mark.parametrize("estimator", [AutoencoderTransformer, DenoisingAutoencoder])
def test_a_collapsed_fit_warns_with_the_variance_it_explains(estimator, X):
    model = estimator(2, random_state=0, **COLLAPSING)
    (message,) = _fit_warnings(model, X)
    assert MESSAGE in message and "lower learning_rate_init" in message
    assert model.n_iter_ < model.max_iter  # it stopped on its own: no other warning
    assert -model.score(X) > 0.99 * X.var(axis=0).mean()  # reconstructs the mean


@pytest.mark.parametrize("huber_delta", [0.15, 0.01])
def test_a_collapsed_huber_fit_is_measured_against_the_huber_centre(huber_delta, digits_unit):
    # A collapsed Huber fit outputs about the Huber centre, which beats the
    # mean: measured against the mean, it explained up to 8%. With a small
    # delta the centre lies many deltas from the mean.
    X = (digits_unit[:600] - digits_unit[:600].mean(0)) / (digits_unit[:600].std(0) + 1e-3)
    model = AutoencoderTransformer(2, huber_delta=huber_delta, random_state=0, **COLLAPSING)
    (message,) = _fit_warnings(model, X)
    assert "no better than their robust (Huber) mean" in message


def test_a_healthy_fit_does_not_warn(X):
    assert _fit_warnings(AutoencoderTransformer(2, random_state=0), X) == []


def test_no_second_warning_after_max_iter_or_for_partial_fit(X):
    # max_iter: its ConvergenceWarning already says to train longer.
    (message,) = _fit_warnings(AutoencoderTransformer(2, max_iter=1, random_state=0), X)
    assert "maximum iterations" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a partial_fit is one step of many
        AutoencoderTransformer(2, random_state=0, **COLLAPSING).partial_fit(X)


def test_constant_data_has_nothing_to_explain(X):
    # A cosine schedule ends at max_iter without a ConvergenceWarning.
    model = AutoencoderTransformer(2, learning_rate="cosine", max_iter=5, random_state=0)
    assert _fit_warnings(model, np.ones_like(X)) == []


def test_healthy_fits_of_every_kind_stay_silent(X):
    # Zero-weight rows far from the data: counted, they would dwarf the
    # variance the model explains.
    far = np.vstack([X, np.full((5, X.shape[1]), 1e3)])
    weights = np.r_[np.ones(len(X)), np.zeros(5)]
    assert _fit_warnings(AutoencoderTransformer(2, **HEALTHY), far, sample_weight=weights) == []
    assert _fit_warnings(AutoencoderTransformer(2, early_stopping=True, **HEALTHY), X) == []
    model = AutoencoderTransformer(2, warm_start=True, **HEALTHY).fit(X)
    assert _fit_warnings(model, X + 0.5) == []  # mean_ is the first fit's


def test_a_huber_fit_that_leaves_outliers_alone_is_no_collapse(digits_unit_split):
    # Huber lets a few corrupted pixels go unfitted: their squared error
    # would swamp what it explains (0.5% here); their Huber error does not.
    X = digits_unit_split[0].copy()
    rng = np.random.RandomState(0)
    for row in rng.choice(len(X), len(X) // 25, replace=False):
        X[row, rng.choice(X.shape[1], 4, replace=False)] = 100.0
    model = AutoencoderTransformer(
        4, hidden_layer_sizes=(32,), loss="huber", learning_rate="cosine", max_iter=60, **HEALTHY
    )
    assert _fit_warnings(model, X) == []


def test_wide_data_with_little_structure_is_no_collapse():
    # Isotropic noise: PCA(1) explains 0.55% of it, a fit 0.9%, under 1%.
    noise = np.random.RandomState(0).randn(1500, 400)
    assert _fit_warnings(AutoencoderTransformer(1, max_iter=100, **HEALTHY), noise) == []


def test_a_schedule_too_short_to_learn_is_named(X):
    model = AutoencoderTransformer(2, learning_rate="cosine", max_iter=1, **HEALTHY)
    (message,) = _fit_warnings(model, X)
    assert "the cosine schedule ended at max_iter=1 before the net learned" in message


def test_the_check_reads_frames_and_sparse_data_as_fit_does(X):
    frame = pd.DataFrame(X, columns=[f"pixel{j}" for j in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning, no other
        AutoencoderTransformer(2, random_state=0).fit(frame)
    model = AutoencoderTransformer(2, random_state=0, **COLLAPSING)
    from scipy import sparse

    assert len(_fit_warnings(model, sparse.csr_matrix(X))) == 1


@pytest.mark.parametrize("loss", ["auto", "mse"])
def test_constant_float64_data_with_uneven_weights_leave_nothing_to_explain(loss):
    # A weighted mean of 0.1, 0.2, ... is a few ulps off them: measured
    # against it, the check warned that the fit removed -5e17% of its error.
    X = np.tile([0.1, 0.2, 0.3, 0.7], (30, 1))
    weights = np.random.RandomState(0).uniform(0.1, 1.0, 30)
    model = AutoencoderTransformer(2, loss=loss, learning_rate="cosine", max_iter=20,
                                   random_state=0)  # fmt: skip
    assert _fit_warnings(model, X) == []
    assert _fit_warnings(model, X, sample_weight=weights) == []
