"""Behaviour of AutoencoderTransformer: what it learns and how it fits in sklearn."""

import io
import re
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import logit as sp_logit
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae._training import History, _record_epoch


def _held_out_mse(model, X_test):
    return np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)


@pytest.mark.parametrize("n_components", [2, 8, 16])
def test_linear_autoencoder_reaches_pca_error(digits_split, n_components):
    # Eckart-Young: the best rank-k linear reconstruction is PCA's, and a
    # linear autoencoder trained to its optimum spans the same subspace.
    X_train, X_test, _, _ = digits_split
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    pca = PCA(n_components).fit(X_train)
    ae = AutoencoderTransformer(n_components, activation="identity", random_state=0)
    ae.fit(X_train)
    # On its training data no rank-k linear map beats PCA; the autoencoder
    # gets within 2% of it. Held out, it may do better (early stopping and
    # alpha regularise it), never more than 2% worse.
    train_ratio = _held_out_mse(ae, X_train) / _held_out_mse(pca, X_train)
    assert 1 - 1e-6 < train_ratio < 1.02, train_ratio
    ae_mse = _held_out_mse(ae, X_test)
    assert ae_mse / _held_out_mse(pca, X_test) < 1.02
    # score is the same quantity, negated.
    assert ae.score(X_test) == pytest.approx(-ae_mse, rel=1e-6)


def test_nonlinear_autoencoder_beats_pca(digits_unit_split):
    X_train, X_test, _, _ = digits_unit_split
    pca_mse = _held_out_mse(PCA(8).fit(X_train), X_test)
    ae_mse = _held_out_mse(AutoencoderTransformer(8, random_state=0).fit(X_train), X_test)
    assert ae_mse <= 0.85 * pca_mse, (ae_mse, pca_mse)


def test_quickstart_pipeline_and_grid_search(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = make_pipeline(
        StandardScaler(),
        AutoencoderTransformer(n_components=8, max_iter=30, random_state=0),
        LogisticRegression(max_iter=500),
    )
    search = GridSearchCV(pipe, {"autoencodertransformer__n_components": [4, 8]}, cv=2)
    search.fit(X_train[:600], y_train[:600])
    assert search.best_params_["autoencodertransformer__n_components"] in (4, 8)
    assert search.score(X_test, y_test) > 0.7


def test_unsupervised_grid_search_uses_score(digits_unit_split):
    X_train = digits_unit_split[0][:400]
    grid = {"hidden_layer_sizes": [(8,), (32, 16)]}
    base = AutoencoderTransformer(n_components=4, max_iter=15, random_state=0)
    search = GridSearchCV(base, grid, cv=KFold(2)).fit(X_train)
    # With no scoring=, each fold is scored by the estimator's own score:
    # the negative held-out reconstruction MSE.
    for params, mean_score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        fold_scores = [
            clone(base).set_params(**params).fit(X_train[train]).score(X_train[test])
            for train, test in KFold(2).split(X_train)
        ]
        assert mean_score == pytest.approx(np.mean(fold_scores), rel=1e-6)
        assert mean_score < 0
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_keep_the_input_float_dtype(digits_unit_split, dtype):
    X = digits_unit_split[0][:100].astype(dtype)
    ae = AutoencoderTransformer(3, max_iter=3, random_state=0).fit(X)
    codes = ae.transform(X)
    assert codes.dtype == dtype
    assert ae.inverse_transform(codes).dtype == dtype
    assert ae.score_samples(X).dtype == dtype
    assert ae.fit_transform(X).dtype == dtype


def test_integer_input_gives_float64(digits_split):
    X = digits_split[0][:100].astype(np.int64)
    ae = AutoencoderTransformer(3, max_iter=3, random_state=0).fit(X)
    assert ae.transform(X).dtype == np.float64


def test_float32_and_float64_inputs_agree(digits_unit_split):
    X = digits_unit_split[0][:100]
    ae = AutoencoderTransformer(3, max_iter=3, random_state=0).fit(X)
    np.testing.assert_allclose(
        ae.transform(X.astype(np.float32)), ae.transform(X), rtol=1e-4, atol=1e-5
    )


def test_sparse_input_matches_dense(digits_unit_split):
    X = digits_unit_split[0][:300]
    dense = AutoencoderTransformer(4, max_iter=4, random_state=0).fit(X)
    sparse = AutoencoderTransformer(4, max_iter=4, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.mean_, dense.mean_, rtol=1e-12)
    assert sparse.scale_ == pytest.approx(dense.scale_, rel=1e-12)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), dense.transform(X), atol=1e-6)
    np.testing.assert_allclose(dense.transform(sp.csc_matrix(X)), dense.transform(X), atol=1e-12)


def test_sparse_input_is_densified_one_batch_at_a_time(digits_unit_split, monkeypatch):
    X = sp.csr_matrix(digits_unit_split[0][:300])
    densified_rows = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        densified_rows.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    AutoencoderTransformer(4, batch_size=50, max_iter=2, random_state=0).fit(X)
    assert densified_rows and max(densified_rows) == 50


def test_inverse_transform_reconstructs(digits_unit_split):
    X = digits_unit_split[0][:300]
    ae = AutoencoderTransformer(16, max_iter=50, random_state=0).fit(X)
    reconstruction = ae.inverse_transform(ae.transform(X))
    assert reconstruction.shape == X.shape
    assert np.mean((reconstruction - X) ** 2) < np.var(X)
    np.testing.assert_allclose(
        ae.score_samples(X), -np.mean((reconstruction - X) ** 2, axis=1), rtol=1e-6
    )


def test_sigmoid_output_with_bce_loss_stays_in_unit_interval(digits_unit_split):
    X = digits_unit_split[0][:300]
    ae = AutoencoderTransformer(
        4, output_activation="sigmoid", loss="bce", max_iter=20, random_state=0
    ).fit(X)
    reconstruction = ae.inverse_transform(ae.transform(X))
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


@pytest.mark.parametrize("activation", ["identity", "relu", "tanh", "logistic"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop", "lbfgs"])
def test_every_activation_and_solver_trains(digits_split, activation, solver):
    X = StandardScaler().fit_transform(digits_split[0][:200])
    lr = 0.01 if solver == "sgd" else 0.001
    ae = AutoencoderTransformer(
        4,
        hidden_layer_sizes=(16,),
        activation=activation,
        solver=solver,
        learning_rate_init=lr,
        max_iter=10,
        random_state=0,
    ).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert np.all(np.isfinite(ae.transform(X)))


def test_lbfgs_does_not_use_learning_rate_init(digits_unit_split):
    # As documented: its line search starts from a unit step, in fit,
    # warm_start and partial_fit alike.
    X = digits_unit_split[0][:200]
    fits = [
        AutoencoderTransformer(
            4, solver="lbfgs", learning_rate_init=rate, max_iter=3, tol=0, random_state=0
        ).fit(X)
        for rate in (1e-6, 0.003, 1.0)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_ == fits[2].loss_curve_
    continued = clone(fits[0]).partial_fit(X)
    assert continued.loss_curve_ == fits[0].loss_curve_[:1]
    # A stored state with another rate (as models saved by earlier versions hold)
    # continues from the unit step too.
    for state in (fits[0]._optimizer_state[1], continued._optimizer_state[1]):
        state["param_groups"][0]["lr"] = 0.003
    fits[0].set_params(warm_start=True).fit(X)
    continued.partial_fit(X)
    for model in (fits[0], continued):
        assert model._optimizer_state[1]["param_groups"][0]["lr"] == 1.0


def test_fitted_attributes(digits_unit_split):
    X = digits_unit_split[0][:200]
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32, 16), max_iter=7, tol=0, random_state=0)
    ae.fit(X)
    assert ae.n_features_in_ == 64
    assert ae.n_iter_ == 7 == len(ae.loss_curve_)
    assert ae.best_loss_ == min(ae.loss_curve_)
    assert ae.validation_scores_ is None
    linear_layers = [m for m in ae.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in linear_layers] == [32, 16, 4, 16, 32, 64]
    assert ae.device_ == "cpu"


def test_early_stopping_restores_the_best_weights(digits_unit_split):
    X = digits_unit_split[0][:400]
    ae = AutoencoderTransformer(
        4,
        loss="mse",  # so that the validation score is score's: minus the squared error
        early_stopping=True,
        learning_rate_init=0.05,
        n_iter_no_change=3,
        max_iter=100,
        random_state=0,
    ).fit(X)
    assert len(ae.validation_scores_) == ae.n_iter_ < 100
    assert ae.best_validation_score_ == max(ae.validation_scores_)
    # As in MLPRegressor: no best training loss under early stopping.
    assert ae.best_loss_ is None
    # The held-out split is the one fit used: recompute its loss from the
    # restored weights and compare with the best recorded score.
    _, X_val = train_test_split(
        X,
        test_size=0.1,
        random_state=np.random.RandomState(0).randint(np.iinfo(np.int32).max),
    )
    assert ae.score(X_val) == pytest.approx(ae.best_validation_score_, rel=1e-4)


def test_tol_stops_training_when_loss_stalls(digits_unit_split):
    X = digits_unit_split[0][:200]
    params = dict(n_components=2, tol=10.0, n_iter_no_change=2, max_iter=100, random_state=0)
    ae = AutoencoderTransformer(**params, learning_rate="constant").fit(X)
    # As in MLPRegressor: the first epoch sets the bar, and training stops
    # once more than n_iter_no_change epochs in a row fail to beat it by tol
    # (here tol times the best loss: no epoch improves by 1000%).
    assert ae.n_iter_ == 1 + 2 + 1
    # The default "plateau" schedule divides the rate by 5 on the first two
    # plateaus and stops at the third: 3 more epochs after each division.
    plateau = AutoencoderTransformer(**params).fit(X)
    assert plateau.n_iter_ == 4 + 3 + 3
    assert _current_learning_rate(plateau) == pytest.approx(0.003 / 25)


def test_tol_is_relative_to_the_loss(digits_unit_split):
    X = digits_unit_split[0][:200]
    params = dict(n_components=2, tol=0.005, n_iter_no_change=1, random_state=0)
    ae = AutoencoderTransformer(**params, learning_rate="constant").fit(X)
    # The loss is about 0.07 and falls by about 0.001 an epoch, so an
    # absolute tol of 0.005 would stop after 3 epochs; relative, training
    # goes on while an epoch gains 0.5% of the best loss.
    assert 4 < ae.n_iter_ < 200
    # Each epoch that counted as progress beat the last such epoch by 0.5%,
    # and the final two epochs beat neither it nor each other by that much.
    loss = np.asarray(ae.loss_curve_)
    reference, counted = loss[0], []
    for value in loss[1:]:
        counted.append(value <= reference * (1 - 0.005))
        reference = value if counted[-1] else reference
    assert not any(counted[-2:]) and any(counted[:-2])


def test_slow_steady_progress_is_not_a_stall():
    # A loss falling by 0.4% an epoch never beats the previous epoch by
    # tol=1%, but beats the last counted improvement by 1% every third
    # epoch: as in PyTorch's ReduceLROnPlateau, that is progress.
    history = History()
    for epoch in range(30):
        _record_epoch(history, 0.996**epoch, None, n_samples=10, tol=0.01)
        assert history.no_improvement_count <= 2
    # A flat loss is a stall, counted from the last improvement.
    for stalled in range(1, 4):
        _record_epoch(history, 0.996**29, None, n_samples=10, tol=0.01)
        assert history.no_improvement_count >= stalled


def test_a_warm_start_fit_keeps_the_best_epoch_of_its_own_split(digits_unit_split):
    # Each warm_start fit draws a new validation split: a best score of the
    # split before is no reference, and the best epoch of this fit is kept.
    X = digits_unit_split[0][:300]
    ae = AutoencoderTransformer(4, early_stopping=True, max_iter=20, random_state=0).fit(X)
    ae.set_params(warm_start=True, learning_rate_init=0.5, max_iter=3).fit(X)
    new_scores = ae.validation_scores_[-3:]
    assert ae.best_validation_score_ == max(new_scores)
    best_epoch = ae.n_iter_ - 3 + int(np.argmax(new_scores)) + 1
    assert ae.best_validation_score_ == ae.validation_scores_[best_epoch - 1]


def test_warm_start_continues_training(digits_unit_split):
    X = digits_unit_split[0][:300]
    ae = AutoencoderTransformer(4, max_iter=3, warm_start=True, tol=0, random_state=0).fit(X)
    weights = ae.module_.encoder[0].weight.detach().clone()
    ae.fit(X)
    assert ae.n_iter_ == 6 and len(ae.loss_curve_) == 6
    assert not torch.equal(weights, ae.module_.encoder[0].weight)
    # Without warm_start, a refit starts over and repeats the first fit.
    cold = clone(ae).set_params(warm_start=False).fit(X)
    assert cold.n_iter_ == 3


def _current_learning_rate(ae):
    return ae._optimizer_state[1]["param_groups"][0]["lr"]


def test_cosine_schedule_ends_at_a_lower_loss_than_a_constant_rate(digits_unit_split):
    X = digits_unit_split[0]
    # A rate high enough that minibatch noise, not the epoch budget, limits
    # the final loss: annealing it away is what the schedule is for.
    params = dict(n_components=8, max_iter=30, tol=0, learning_rate_init=0.03, batch_size=32,
                  random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        constant = AutoencoderTransformer(**params).fit(X)
        cosine = AutoencoderTransformer(**params, learning_rate="cosine").fit(X)
    assert cosine.loss_curve_[-1] < 0.9 * constant.loss_curve_[-1]
    assert _current_learning_rate(cosine) < 1e-5


def test_adaptive_schedule_lowers_the_rate_instead_of_stopping(digits_unit_split):
    X = digits_unit_split[0][:200]
    params = dict(n_components=2, tol=10.0, n_iter_no_change=2, max_iter=20, random_state=0)
    adaptive = AutoencoderTransformer(
        **params, learning_rate="adaptive", learning_rate_init=0.001
    ).fit(X)
    # Where "constant" stops after 4 epochs (see the tol test), "adaptive"
    # divides the rate by 5 and goes on, 3 more epochs per plateau, until
    # the rate is below 1e-6: 0.001 / 5**5 = 3.2e-7 after 4 + 5 * 3 epochs.
    assert adaptive.n_iter_ == 19
    assert _current_learning_rate(adaptive) == pytest.approx(0.001 / 5**5)
    # A warm-started fit starts again from learning_rate_init.
    adaptive.set_params(warm_start=True, max_iter=1, n_iter_no_change=50).fit(X)
    assert _current_learning_rate(adaptive) == pytest.approx(0.001)


def test_partial_fit_keeps_the_rate_constant_under_a_cosine_schedule(digits_unit_split):
    X = digits_unit_split[0][:200]
    ae = AutoencoderTransformer(2, learning_rate="cosine", random_state=0)
    ae.partial_fit(X).partial_fit(X)
    assert _current_learning_rate(ae) == ae.learning_rate_init


def test_partial_fit_trains_one_epoch_per_call(digits_unit_split):
    X = digits_unit_split[0][:300]
    ae = AutoencoderTransformer(4, random_state=0)
    for _ in range(5):
        ae.partial_fit(X)
    assert ae.n_iter_ == 5
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_pandas_output_and_feature_names(digits_unit_split):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits_unit_split[0][:100], columns=[f"pixel{i}" for i in range(64)])
    ae = AutoencoderTransformer(3, max_iter=2, random_state=0).set_output(transform="pandas")
    codes = ae.fit(X).transform(X)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == [
        "autoencodertransformer0",
        "autoencodertransformer1",
        "autoencodertransformer2",
    ]
    np.testing.assert_array_equal(ae.feature_names_in_, X.columns)
    assert list(ae.get_feature_names_out()) == list(codes.columns)


def test_verbose_prints_one_line_per_epoch(digits_unit_split):
    X = digits_unit_split[0][:100]
    out = io.StringIO()
    with redirect_stdout(out):
        AutoencoderTransformer(
            2, max_iter=4, tol=0, verbose=True, early_stopping=True, random_state=0
        ).fit(X)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 4
    pattern = r"Epoch \d+, loss = [\d.e+-]+, validation score = [\d.e+-]+, time = [\d.]+s"
    assert all(re.fullmatch(pattern, line) for line in lines), lines


def test_divergence_raises_a_clear_error_naming_the_learning_rate(digits_split):
    # The squared error: the Huber default's bounded gradient let 3 of 40
    # seeds train on at this rate; under it every seed diverged.
    X = digits_split[0][:200] * 1e3
    ae = AutoencoderTransformer(2, loss="mse", solver="sgd", learning_rate_init=10.0,
                                max_iter=20, random_state=0)  # fmt: skip
    with pytest.raises(FloatingPointError, match=r"learning_rate_init=10\.0"):
        ae.fit(X)
    assert not hasattr(ae, "module_")


def test_a_last_step_that_breaks_the_weights_is_a_divergence(digits_split):
    # One batch per epoch: the epoch's loss, taken before its only step,
    # is finite, and that step leaves non-finite weights.
    X = digits_split[0][:150]
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(16,), learning_rate_init=3e38,
                                batch_size=150, max_iter=1, random_state=0)  # fmt: skip
    with pytest.raises(FloatingPointError, match="epoch 1: the weights became non-finite"):
        ae.fit(X)
    assert not hasattr(ae, "module_")


def test_a_finished_cosine_schedule_is_no_convergence_failure(digits_unit_split):
    # Reaching max_iter is the end of a cosine schedule: more epochs would
    # stretch it, not finish it. L-BFGS ignores the schedule and still warns.
    X = digits_unit_split[0][:200]
    params = dict(n_components=2, max_iter=3, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cosine = AutoencoderTransformer(**params, learning_rate="cosine").fit(X)
    assert cosine.n_iter_ == 3
    for other in (dict(learning_rate="constant"), dict(learning_rate="cosine", solver="lbfgs")):
        with pytest.warns(ConvergenceWarning, match="maximum iterations"):
            AutoencoderTransformer(**params, **other).fit(X)


def test_an_unchanged_loss_is_no_progress_even_at_tol_0():
    # Constant X, no penalty: the centred net reconstructs it exactly from
    # the first epoch, and a loss that stays 0 is a stall (it used to run
    # every one of max_iter epochs, then warn).
    X = np.full((40, 3), 2.0)
    ae = AutoencoderTransformer(1, hidden_layer_sizes=(4,), alpha=0, tol=0, n_iter_no_change=2,
                                learning_rate="constant", max_iter=30, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae.fit(X)
    assert ae.loss_curve_ == [0.0] * 4 and ae.n_iter_ == 4


def test_centring_makes_the_fit_invariant_to_a_constant_offset(digits_unit_split):
    X_train, X_test, _, _ = digits_unit_split
    params = dict(n_components=8, max_iter=30, random_state=0)
    plain = AutoencoderTransformer(**params).fit(X_train)
    shifted_train, shifted_test = X_train.copy(), X_test.copy()
    shifted_train[:, 20] += 5.0
    shifted_test[:, 20] += 5.0
    shifted = AutoencoderTransformer(**params).fit(shifted_train)
    np.testing.assert_allclose(shifted.mean_ - plain.mean_, np.eye(64)[20] * 5.0, atol=1e-12)
    # The encoder sees X - mean_: the same input, up to float rounding.
    assert -shifted.score(shifted_test) == pytest.approx(-plain.score(X_test), rel=0.02)


@pytest.mark.parametrize("factor", [1e-25, 1e20])
def test_early_stopping_does_not_depend_on_the_units_of_x(digits_unit_split, factor):
    # Validation errors are squared in scale_'s units and brought back in
    # float64: in X's units float32 squares underflowed to 0 (no progress
    # ever) or overflowed to inf (a false divergence).
    X = digits_unit_split[0][:300]
    params = dict(n_components=4, hidden_layer_sizes=(16,), max_iter=15, n_iter_no_change=2,
                  early_stopping=True, random_state=0)  # fmt: skip
    plain = AutoencoderTransformer(**params).fit(X)
    scaled = AutoencoderTransformer(**params).fit(X * factor)
    assert scaled.n_iter_ == plain.n_iter_
    np.testing.assert_allclose(
        np.array(scaled.validation_scores_) / factor**2, plain.validation_scores_, rtol=1e-5
    )


# Spreads that float32 blurs, on purpose (the next test checks the warning).
@pytest.mark.filterwarnings("ignore:X's values vary little")
def test_scale_of_a_small_spread_about_a_large_mean_is_exact(digits_unit_split):
    # E[x**2] - E[x]**2 cancels here: scale_ comes from the centred squares.
    X = digits_unit_split[0][:200]
    for offset, spread in [(1e3, 1e-3), (1e6, 1.0), (-7e4, 0.5)]:
        ae = AutoencoderTransformer(2, max_iter=1, random_state=0).fit(offset + spread * X)
        assert ae.scale_ == pytest.approx(spread * np.sqrt(X.var(axis=0).mean()), rel=1e-6)
    # No spread, or none that float32 can resolve at the data's magnitude:
    # scale_ is 1, whatever the constant.
    for constant in (3.3, 7.0, -1e5):
        ae = AutoencoderTransformer(2, max_iter=2, random_state=0).fit(np.full((50, 4), constant))
        assert ae.scale_ == 1.0
        assert np.abs(ae.transform(np.full((3, 4), constant + 1.0))).max() < 1e3
    noise = np.random.RandomState(0).normal(size=(50, 4))
    assert AutoencoderTransformer(2, max_iter=1).fit(1e3 + 1e-6 * noise).scale_ == 1.0


def test_a_spread_that_float32_blurs_is_named(digits_unit_split):
    # Training rounds X to float32 before centring: digits offset by 1e7
    # are binarised (PCA, in float64, keeps them). The warning gives the
    # noise measured, not its bound: sixteenths offset by 1e6 fall on
    # float32's grid there (spacing 1/16) and lose nothing, where random
    # values lose a little, and values offset by 1e3, or constant, none.
    X = digits_unit_split[0][:200]
    errors = 1e7 + X - (1e7 + X).astype(np.float32)
    expected = errors.var(axis=0).mean() / X.var(axis=0).mean()
    assert 0.3 < expected < 0.7
    with pytest.warns(UserWarning, match=rf"square of 1e\+07\): .* noise of {expected:.0%} of"):
        AutoencoderTransformer(2, max_iter=1).fit(1e7 + X)
    with pytest.warns(UserWarning, match=r"noise of 100%"):  # every row rounds to 1e9
        AutoencoderTransformer(2, max_iter=1).fit(1e9 + X)
    # The user guide's timestamps: ten minutes of seconds near 1.7e9.
    timestamps = 1.7e9 + np.random.RandomState(0).uniform(0, 600, size=(500, 3))
    with pytest.warns(UserWarning, match="noise of 5% of"):
        AutoencoderTransformer(2, max_iter=1).fit(timestamps)
    random_values = np.random.RandomState(0).uniform(0, 1, size=X.shape)
    with pytest.warns(UserWarning, match="noise of [1-9]%"):
        AutoencoderTransformer(2, max_iter=1).fit(3e6 + random_values)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="X's values vary little")
        AutoencoderTransformer(2, max_iter=1).fit(1e6 + X)
        AutoencoderTransformer(2, max_iter=1).fit(1e3 + random_values)
        # Rounded by the same amount in every row: a shift, no variation lost.
        AutoencoderTransformer(2, max_iter=1).fit(1e6 + 0.03 + X)
        AutoencoderTransformer(2, max_iter=1).fit(np.hstack([X, np.full((200, 1), 1e7 + 0.4)]))
        # A large error common to every row cancels: it is a shift.
        AutoencoderTransformer(2, max_iter=1).fit(np.hstack([X, np.full((200, 1), 1e20 + 12345)]))
        for constant in (2.0, 7.0, -1e5):  # their mean is rounded: a variance of ~1e-30
            AutoencoderTransformer(2, max_iter=1).fit(np.full((50, 4), constant))


def test_float32_input_skips_the_rounding_pass(digits_unit_split, monkeypatch):
    # Training rounds nothing of float32 X: no pass over it to measure that.
    import skae._autoencoder_base as base

    def fail(*args):
        raise AssertionError("measured the rounding of float32 X")

    monkeypatch.setattr(base, "weighted_float32_rounding", fail)
    X = digits_unit_split[0][:200]
    AutoencoderTransformer(2, max_iter=1).fit((1e7 + X).astype(np.float32))
    with pytest.raises(AssertionError, match="measured the rounding"):
        AutoencoderTransformer(2, max_iter=1).fit(1e7 + X)  # float64: measured


def test_duplicate_sparse_entries_count_as_their_sum(digits_unit_split):
    # Stored twice at half its value, each pixel is the same matrix; the
    # checks read the summed values, as training does.
    X = digits_unit_split[0][:100]
    csr = sp.csr_matrix(X)
    halves = sp.csr_matrix(
        (np.repeat(csr.data / 2, 2), np.repeat(csr.indices, 2), 2 * csr.indptr), shape=X.shape
    )
    assert not halves.has_canonical_format and halves.data.max() <= 0.5
    params = dict(n_components=3, output_activation="sigmoid", loss="bce", max_iter=2)
    dense = AutoencoderTransformer(**params, random_state=0).fit(X)
    sparse = AutoencoderTransformer(**params, random_state=0).fit(halves)
    np.testing.assert_allclose(sparse.transform(halves), dense.transform(X), atol=1e-6)
    with pytest.raises(ValueError, match="needs X in \\[0, 1\\]"):
        AutoencoderTransformer(**params).fit(halves * 1.5)
    assert not halves.has_canonical_format  # the caller's matrix is left alone


def test_the_reconstruction_starts_at_the_mean(digits_unit_split):
    X = digits_unit_split[0][:300]
    for output_activation, loss in [("identity", "mse"), ("sigmoid", "bce")]:
        ae = AutoencoderTransformer(
            4, output_activation=output_activation, loss=loss, max_iter=1, random_state=0
        ).fit(X)
        np.testing.assert_allclose(ae.mean_, X.mean(axis=0))
        # The root mean variance of the features; 1 for a sigmoid output.
        expected_scale = 1.0 if loss == "bce" else np.sqrt(X.var(axis=0).mean())
        assert ae.scale_ == pytest.approx(expected_scale, rel=1e-12)
        offset = ae.module_.output_offset.numpy()
        if output_activation == "sigmoid":
            # Border pixels are always 0: their logit is clipped, not -inf.
            np.testing.assert_allclose(
                offset, sp_logit(np.clip(ae.mean_, 1e-3, 1 - 1e-3)), rtol=1e-5
            )
        else:
            np.testing.assert_allclose(offset, ae.mean_, rtol=1e-6)
    # A continued fit keeps the centre its weights learned around.
    mean = ae.mean_.copy()
    ae.partial_fit(X[:50] + 0.0)
    np.testing.assert_array_equal(ae.mean_, mean)
