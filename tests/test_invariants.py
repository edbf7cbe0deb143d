"""What every estimator does alike, beyond scikit-learn's common checks.

Each test runs over every estimator class (the convolutional architecture
and a variant defined only in the tests included): bit-identical refits,
failure atomicity, interrupt, non-finite output, divergence messages,
warm_start/partial_fit continuity and the caller's warning filters.
"""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
import torch
from mae_autoencoder import MAEAutoencoder
from sklearn.base import ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import nn

import skae._training
from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)

_SMALL = dict(max_iter=4, tol=0, batch_size=60, random_state=0)
ESTIMATORS = {
    "autoencoder": AutoencoderTransformer(3, hidden_layer_sizes=(8,), **_SMALL),
    "conv": AutoencoderTransformer(
        3,
        architecture="conv",
        image_shape=(8, 8),
        conv_channels=(4,),
        hidden_layer_sizes=(),
        **_SMALL,
    ),  # fmt: skip
    "denoising": DenoisingAutoencoder(3, hidden_layer_sizes=(8,), **_SMALL),
    "variational": VariationalAutoencoder(3, hidden_layer_sizes=(8,), **_SMALL),
    "classifier": StackedAutoencoderClassifier(
        (8, 8), corruption_levels=0.1, pretrain_max_iter=2, **_SMALL
    ),
    "classifier_batch_norm": StackedAutoencoderClassifier(
        (8, 8),
        corruption_levels=0.1,
        pretrain_max_iter=2,
        batch_norm=True,
        noise_std=0.3,
        **_SMALL,
    ),  # fmt: skip
    "test_variant": MAEAutoencoder(3, hidden_layer_sizes=(8,), **_SMALL),
}
BATCHES_PER_EPOCH = 2  # 120 rows in batches of 60


@pytest.fixture(params=list(ESTIMATORS))
def estimator(request):
    return clone(ESTIMATORS[request.param])


@pytest.fixture(scope="module")
def data():
    digits = load_digits()
    return digits.data[:120] / 16, digits.target[:120]


def _is_classifier(estimator):
    return isinstance(estimator, ClassifierMixin)


def _outputs(estimator, X):
    """Everything the fitted estimator computes from X."""
    if _is_classifier(estimator):
        return [estimator.predict_proba(X), estimator.transform(X)]
    return [estimator.transform(X), estimator.score_samples(X)]


def _state(estimator, X):
    """Fitted attributes, parameters and outputs: what must not change."""
    attributes = {k: v for k, v in vars(estimator).items() if k.endswith("_")}
    weights = [p.detach().clone() for p in estimator.module_.parameters()]
    return attributes, estimator.get_params(), weights, _outputs(estimator, X)


def _assert_same_state(before, after):
    (attrs0, params0, weights0, out0), (attrs1, params1, weights1, out1) = before, after
    assert attrs0.keys() == attrs1.keys() and params0 == params1
    for name in ("n_iter_", "t_", "loss_curve_", "n_features_in_", "device_"):
        assert attrs0.get(name) == attrs1.get(name), name
    for w0, w1 in zip(weights0, weights1, strict=True):
        assert torch.equal(w0, w1)
    for o0, o1 in zip(out0, out1, strict=True):
        np.testing.assert_array_equal(o0, o1)


def _interrupt_at_batch(monkeypatch, n):
    """Raise KeyboardInterrupt, as Ctrl-C would, when batch ``n`` is drawn."""
    calls = {"n": 0}
    get_batch = skae._training.get_batch

    def interrupting(*args):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return get_batch(*args)

    monkeypatch.setattr(skae._training, "get_batch", interrupting)
    return calls


def _pretraining_batches(estimator):
    if not _is_classifier(estimator):
        return 0
    return len(estimator.hidden_layer_sizes) * estimator.pretrain_max_iter * BATCHES_PER_EPOCH


# ------------------------------------------------------------ determinism


def test_same_random_state_gives_identical_results(estimator, data):
    X, y = data
    state = torch.get_rng_state()
    first, second = clone(estimator).fit(X, y), clone(estimator).fit(X, y)
    assert torch.equal(state, torch.get_rng_state())  # the global RNG is never used
    for a, b in zip(_outputs(first, X), _outputs(second, X), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.loss_curve_ == second.loss_curve_
    other = clone(estimator).set_params(random_state=1).fit(X, y)
    assert not np.array_equal(_outputs(other, X)[0], _outputs(first, X)[0])


def test_float64_output_depends_on_the_batch_only_in_its_last_bits(estimator, data):
    # Row by row against all rows at once: float64 inference (the docs'
    # "Precision") differs in the last bits only, float32 by far more.
    X, y = data
    fitted = clone(estimator).fit(X, y)
    X = X[:40]
    for dtype, most in ((np.float64, 1e-13), (np.float32, 1e-4)):
        together = _outputs(fitted, X.astype(dtype))
        alone = [np.concatenate(parts) for parts in zip(
            *(_outputs(fitted, X[i : i + 1].astype(dtype)) for i in range(len(X))), strict=True
        )]  # fmt: skip
        for a, b in zip(together, alone, strict=True):
            scale = max(np.abs(a).max(), 1.0)
            assert np.abs(a - b).max() <= most * scale, (dtype, np.abs(a - b).max() / scale)


def test_pickle_round_trip_keeps_every_output(estimator, data):
    X, y = data
    fitted = estimator.fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    for a, b in zip(_outputs(fitted, X), _outputs(restored, X), strict=True):
        np.testing.assert_array_equal(a, b)
    # The optimizer's state travels too: continuing gives the same result.
    fitted.partial_fit(X, y)
    restored.partial_fit(X, y)
    for a, b in zip(_outputs(fitted, X), _outputs(restored, X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nan_let_through_by_assume_finite_is_named(estimator, data):
    # scikit-learn skips its NaN check under assume_finite=True: the NaN then
    # made "non-finite values from finite input" or a divergence blamed on
    # the learning rate.
    X, y = data
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    estimator.fit(X, y)
    before = _state(estimator, X)
    with sklearn.config_context(assume_finite=True):
        with pytest.raises(ValueError, match="X contains NaN or infinity.*assume_finite"):
            _outputs(estimator, X_nan)
        for fit in (clone(estimator).fit, estimator.partial_fit):
            with pytest.raises(FloatingPointError, match="X contains NaN or infinity.*assume"):
                fit(X_nan, y)
    _assert_same_state(before, _state(estimator, X))


def test_skaes_own_nets_leave_torchs_global_generators_alone(estimator, data, monkeypatch):
    # They draw from private generators only: forking and seeding the
    # process-wide ones (as a user's modules need) would race with other
    # threads, which lost their global random state to a search's fits.
    X, y = data

    def no_fork(*args, **kwargs):
        raise AssertionError("torch's global generators were forked")

    monkeypatch.setattr(torch.random, "fork_rng", no_fork)
    state = torch.get_rng_state()
    estimator.fit(X, y).partial_fit(X, y)
    _outputs(estimator, X)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_float64_default_dtype_changes_nothing(estimator, data, monkeypatch):
    # skae computes in float32: a caller's float64 default used to build
    # float64 nets, whose float32 batches then failed with a raw dtype error,
    # in fresh fits and in models unpickled or loaded. skae never changes
    # the process-wide default itself: other threads may be reading it.
    X, y = data
    fitted = clone(estimator).fit(X, y)
    pickled = pickle.dumps(fitted)
    defaults_seen, original_get_batch = set(), skae._training.get_batch

    def recording_get_batch(*args, **kwargs):
        defaults_seen.add(torch.get_default_dtype())
        return original_get_batch(*args, **kwargs)

    monkeypatch.setattr(skae._training, "get_batch", recording_get_batch)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        again = clone(estimator).fit(X, y)
        restored = pickle.loads(pickled)
        for model in (again, restored):
            for a, b in zip(_outputs(fitted, X), _outputs(model, X), strict=True):
                np.testing.assert_array_equal(a, b)
        restored.partial_fit(X, y)
        assert torch.get_default_dtype() == torch.float64  # the caller's, back
        with pytest.raises(ValueError):
            restored.partial_fit(X[:, :-1], y)
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(before)
    assert defaults_seen == {torch.float64}
    fitted.partial_fit(X, y)
    for a, b in zip(_outputs(fitted, X), _outputs(restored, X), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_fits_inside_a_no_gradient_mode_as_outside(estimator, data, mode):
    X, y = data
    outside = clone(estimator).fit(X, y)
    with mode():
        inside = clone(estimator).fit(X, y)
        assert not torch.is_grad_enabled()  # the caller's mode, back
        inside.partial_fit(X, y)
    assert inside.loss_curve_[:-1] == outside.loss_curve_
    outside.partial_fit(X, y)
    for a, b in zip(_outputs(inside, X), _outputs(outside, X), strict=True):
        np.testing.assert_array_equal(a, b)


# Estimators that draw no random noise while training: on a GPU they start
# from the same weights (initialised on the CPU) and see the same batches.
_NOISELESS = {"autoencoder", "conv", "test_variant"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_gpu_fit_gives_numpy_outputs_and_matches_the_cpu_where_no_noise_is_drawn(
    estimator, data, request
):
    X, y = data
    on_cpu = clone(estimator).fit(X, y)
    on_gpu = clone(estimator).set_params(device="cuda").fit(X, y)
    assert on_gpu.device_.startswith("cuda") and next(on_gpu.module_.parameters()).is_cuda
    gpu_outputs, cpu_outputs = _outputs(on_gpu, X), _outputs(on_cpu, X)
    for gpu, cpu in zip(gpu_outputs, cpu_outputs, strict=True):
        assert type(gpu) is np.ndarray and gpu.dtype == cpu.dtype and gpu.shape == cpu.shape
        assert np.isfinite(gpu).all()
        # Noise comes from the device's own generator: another draw on a GPU.
        if request.node.callspec.params["estimator"] in _NOISELESS:
            np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-4)
    for a, b in zip(gpu_outputs, _outputs(pickle.loads(pickle.dumps(on_gpu)), X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ atomicity


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_input_leaves_a_fitted_estimator_unchanged(estimator, data, method):
    X, y = data
    estimator.fit(X, y)
    before = _state(estimator, X)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        getattr(estimator, method)(X_bad, y)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        getattr(estimator, method)(X[:0], y[:0])
    if method == "partial_fit":
        with pytest.raises(ValueError, match="X has 10 features"):
            estimator.partial_fit(X[:, :10], y)
    _assert_same_state(before, _state(estimator, X))


def test_bad_parameter_leaves_a_fitted_estimator_unchanged(estimator, data):
    X, y = data
    estimator.fit(X, y)
    before = _state(estimator, X)
    learning_rate_init = estimator.learning_rate_init
    with pytest.raises(ValueError, match="'learning_rate_init' parameter"):
        estimator.set_params(learning_rate_init=-1.0).fit(X, y)
    estimator.set_params(learning_rate_init=learning_rate_init)
    _assert_same_state(before, _state(estimator, X))


# ------------------------------------------------------------ interrupt


def test_interrupt_mid_epoch_keeps_the_last_completed_epoch_and_reraises(
    estimator, data, monkeypatch
):
    X, y = data
    # The 2nd batch of epoch 3: the 1st has already moved the weights.
    n = _pretraining_batches(estimator) + 2 * BATCHES_PER_EPOCH + 2
    _interrupt_at_batch(monkeypatch, n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning in front of the interrupt
        with pytest.raises(KeyboardInterrupt):
            estimator.fit(X, y)
    monkeypatch.undo()
    assert estimator.n_iter_ == 2 and len(estimator.loss_curve_) == 2
    assert estimator.t_ == 2 * X.shape[0]
    # Exactly the model that two epochs give.
    two_epochs = clone(estimator).set_params(max_iter=2).fit(X, y)
    for a, b in zip(_outputs(estimator, X), _outputs(two_epochs, X), strict=True):
        np.testing.assert_array_equal(a, b)
    assert estimator.loss_curve_ == two_epochs.loss_curve_


def test_interrupt_in_the_first_epoch_leaves_the_estimator_unfitted(estimator, data, monkeypatch):
    X, y = data
    _interrupt_at_batch(monkeypatch, _pretraining_batches(estimator) + 1)
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_interrupt_before_an_epoch_completes_keeps_the_previous_fit(
    estimator, data, monkeypatch, method
):
    X, y = data
    estimator.fit(X, y)
    before = _state(estimator, X)
    _interrupt_at_batch(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        if method == "warm_start":
            estimator.set_params(warm_start=True).fit(X, y)
        else:
            estimator.partial_fit(X, y)
    monkeypatch.undo()
    estimator.set_params(warm_start=False)
    _assert_same_state(before, _state(estimator, X))


def test_interrupt_during_validation_keeps_the_completed_epochs(estimator, data, monkeypatch):
    X, y = data
    estimator.set_params(early_stopping=True, validation_fraction=0.25)
    evaluate_mean, calls = skae._training.evaluate_mean, {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the validation of epoch 2
            raise KeyboardInterrupt
        return evaluate_mean(*args, **kwargs)

    monkeypatch.setattr(skae._training, "evaluate_mean", interrupting)
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(X, y)
    assert estimator.n_iter_ == 1 and len(estimator.validation_scores_) == 1
    assert estimator.best_validation_score_ == estimator.validation_scores_[0]


def test_interrupt_during_pretraining_of_layer_2_stops_everything(data, monkeypatch):
    X, y = data
    clf = clone(ESTIMATORS["classifier"])
    layer_1 = clf.pretrain_max_iter * BATCHES_PER_EPOCH
    calls = _interrupt_at_batch(monkeypatch, layer_1 + 2)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert calls["n"] == layer_1 + 2  # no fine-tuning batch was ever drawn
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


# ------------------------------------------------------------ non-finite output


def _methods(estimator):
    if _is_classifier(estimator):
        return ["predict", "predict_proba", "predict_log_proba", "decision_function",
                "transform", "score"]  # fmt: skip
    return ["transform", "score_samples", "score"]


# scikit-learn's finiteness check sums X, and 1e308 - 1e308 overflows there.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
@pytest.mark.parametrize("dtype, huge", [(np.float64, 1e308), (np.float32, 3e38)])
def test_finite_input_never_gives_non_finite_output(estimator, data, dtype, huge):
    X, y = data
    estimator.fit(X, y)
    X_huge = np.where(X > 0.5, huge, -huge).astype(dtype)
    codes = np.full((3, getattr(estimator, "n_components_", 1)), huge, dtype=dtype)
    calls = [(method, (X_huge,)) for method in _methods(estimator)]
    if not _is_classifier(estimator):
        calls.append(("inverse_transform", (codes,)))
    for method, args in calls:
        args = (*args, y) if method == "score" else args
        try:
            output = getattr(estimator, method)(*args)
        except ValueError as error:  # the one allowed outcome besides finite output
            assert "non-finite values (NaN or inf) from finite input" in str(error)
            assert f"largest magnitude is {huge:.3g}" in str(error)
            assert "StandardScaler" in str(error)
        else:
            assert np.isfinite(output).all(), method


def test_score_of_inputs_of_1e200_is_an_error_not_minus_inf(estimator, data):
    X, y = data
    estimator.fit(X, y)
    if _is_classifier(estimator):  # an accuracy: finite whatever the input
        assert 0 <= estimator.score(np.full_like(X, 1e200), y) <= 1
        return
    with pytest.raises(ValueError, match="largest magnitude is 1e\\+200"):
        estimator.score(np.full_like(X, 1e200))


# ------------------------------------------------------------ divergence


def _first_cause(message):
    return message.split("most likely first:\n- ", 1)[1]


@pytest.mark.parametrize(
    "change, first_cause",
    [
        ("X", "X's largest magnitude is 1e+20"),
        ("alpha", "alpha=1e+300"),
        ("learning_rate", "learning_rate=1e+30"),
    ],
)
def test_divergence_names_the_most_likely_cause_first(estimator, data, change, first_cause):
    X, y = data
    if change == "X" and isinstance(estimator, MAEAutoencoder):
        pytest.skip("an absolute-error loss stays finite, and Adam steps bounded, on large X")
    autoencoders = (AutoencoderTransformer, DenoisingAutoencoder, VariationalAutoencoder)
    if change == "X" and type(estimator) in autoencoders:
        pytest.skip("the error, divided by scale_ before squaring, stays finite on large X")
    if change == "X":
        X = X * 1e20
    elif change == "alpha":
        estimator.set_params(alpha=1e300)
    else:
        estimator.set_params(learning_rate_init=1e30)
        if _is_classifier(estimator):
            estimator.set_params(pretrain_learning_rate_init=1e30)
    with pytest.raises(FloatingPointError, match="Training diverged") as error:
        estimator.fit(X, y)
    message = str(error.value)
    assert "X's largest magnitude" in message and "alpha=" in message
    cause = _first_cause(message)
    if change == "learning_rate":
        name = "pretrain_learning_rate_init" if _is_classifier(estimator) else "learning_rate_init"
        assert cause.startswith(f"{name}=1e+30 (rate in use: 1e+30)"), message
    else:
        assert cause.startswith(first_cause), message
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


@pytest.mark.parametrize(
    "name, weight",
    [
        ("autoencoder", "activity_l1"),
        ("autoencoder", "contractive_weight"),
        ("variational", "beta"),
        ("classifier", "consistency_weight"),
    ],
)
def test_divergence_from_a_huge_loss_term_weight_names_it_first(data, name, weight):
    # The weights of the loss's other terms were no cause in the message,
    # which then blamed the default learning rate first.
    estimator = clone(ESTIMATORS[name]).set_params(**{weight: 1e38})
    if name == "classifier":
        estimator.set_params(noise_std=0.3)  # the consistency term needs noise
    with pytest.raises(FloatingPointError, match="Training diverged") as error:
        estimator.fit(*data)
    assert _first_cause(str(error.value)).startswith(f"{weight}=1e+38 weighs a term"), error.value


def test_divergence_after_pretraining_at_a_huge_rate_names_that_rate(data):
    # Pretraining at 1e12 ends with finite but huge weights; the main phase,
    # at a sensible rate, diverges from them.
    X, y = data
    classifier = clone(ESTIMATORS["classifier"]).set_params(
        hidden_layer_sizes=(8,),
        solver="sgd",
        pretrain_learning_rate_init=1e12,
        pretrain_max_iter=1,
    )
    with pytest.raises(FloatingPointError, match="diverged \\(fine-tuning\\)") as error:
        classifier.fit(X, y)
    assert _first_cause(str(error.value)).startswith(f"pretrain_learning_rate_init={1e12!r} may")
    # A warm_start fit runs no pretraining: its rate is no cause then.
    classifier.set_params(pretrain_learning_rate_init=0.01).fit(X, y)
    classifier.set_params(warm_start=True, learning_rate_init=1e30)
    with pytest.raises(FloatingPointError, match="diverged") as error:
        classifier.fit(X, y)
    assert "pretrain_learning_rate_init" not in str(error.value)


# ------------------------------------------------------------ continuity


def test_warm_start_and_partial_fit_continue_training(estimator, data):
    X, y = data
    estimator.fit(X, y)
    estimator.set_params(warm_start=True).fit(X, y)
    assert estimator.n_iter_ == 8 and len(estimator.loss_curve_) == 8
    assert estimator.t_ == 8 * X.shape[0]
    steps = estimator._optimizer_state[1]["state"][0]["step"]
    assert int(steps) == 8 * BATCHES_PER_EPOCH  # the optimizer's state went on
    estimator.partial_fit(X, y)
    assert estimator.n_iter_ == 9 and estimator.t_ == 9 * X.shape[0]


def test_partial_fit_after_a_validated_fit_measures_progress_on_its_loss(estimator, data):
    # The fit's last reference is a validation score (an accuracy, an ELBO);
    # partial_fit holds nothing out and measures its loss, which compared
    # with that score was a stall at every call: the rate fell by 5 every
    # n_iter_no_change + 1 calls while the loss still fell.
    X, y = data
    estimator.set_params(early_stopping=True, n_iter_no_change=3).fit(X, y)
    for _ in range(3):
        estimator.partial_fit(X, y)
    losses = estimator.loss_curve_[-3:]
    # At tol=0 the reference is the best loss of the three calls, and the
    # stall count the calls since it.
    best = int(np.argmin(losses))
    assert estimator._history.improvement_reference == -losses[best]
    assert estimator._history.no_improvement_count == 2 - best


def test_validation_scores_stay_aligned_with_the_loss_curve(estimator, data):
    # A warm_start fit without early stopping between two with it: its
    # epochs have no score, and the later scores must not slide into them.
    X, y = data
    estimator.set_params(early_stopping=True, n_iter_no_change=50, max_iter=3).fit(X, y)
    estimator.set_params(warm_start=True, early_stopping=False).fit(X, y)
    assert estimator.validation_scores_ is None
    estimator.set_params(early_stopping=True).fit(X, y)
    scores = np.asarray(estimator.validation_scores_)
    assert len(scores) == len(estimator.loss_curve_) == estimator.n_iter_ == 9
    np.testing.assert_array_equal(np.isnan(scores), [False] * 3 + [True] * 3 + [False] * 3)
    assert estimator.best_validation_score_ == np.max(scores[6:])


def test_partial_fit_keeps_the_validation_history(estimator, data):
    # partial_fit holds out nothing: with early_stopping still set, its
    # epochs score NaN, the best score stays the fit's, and best_loss_ None.
    X, y = data
    estimator.set_params(early_stopping=True, n_iter_no_change=50, max_iter=3).fit(X, y)
    fitted_scores, best = list(estimator.validation_scores_), estimator.best_validation_score_
    estimator.partial_fit(X, y)
    scores = estimator.validation_scores_
    assert len(scores) == len(estimator.loss_curve_) == 4
    np.testing.assert_array_equal(scores[:3], fitted_scores)
    assert np.isnan(scores[3])
    assert estimator.best_validation_score_ == best and estimator.best_loss_ is None
    # Without a fit that held out a split, there is no best score yet.
    fresh = clone(estimator).set_params(max_iter=3)
    fresh.partial_fit(X, y, **({"classes": np.unique(y)} if _is_classifier(fresh) else {}))
    assert np.isnan(fresh.validation_scores_).all() and fresh.best_validation_score_ is None
    # A call without early_stopping in between does not lose the fit's best.
    estimator.set_params(early_stopping=False).partial_fit(X, y)
    assert estimator.validation_scores_ is None and estimator.best_validation_score_ is None
    estimator.set_params(early_stopping=True).partial_fit(X, y)
    assert len(estimator.validation_scores_) == 6 and estimator.best_validation_score_ == best


def test_a_state_saved_before_history_reported_scores_keeps_the_best(estimator, data):
    # Files and pickles of older versions hold the best score in the fitted
    # attribute only: a partial_fit after loading them keeps it.
    X, y = data
    estimator.set_params(early_stopping=True, n_iter_no_change=50, max_iter=3).fit(X, y)
    best = estimator.best_validation_score_
    state = estimator.__getstate__()  # History's fields as a dict
    del state["_history"]["reported_validation_score"]
    restored = type(estimator).__new__(type(estimator))
    restored.__setstate__(pickle.loads(pickle.dumps(state)))
    restored.partial_fit(X, y)
    assert restored.best_validation_score_ == best


def net_changing_parameters(estimator):
    """Other values of parameters the estimator's net is built from."""
    sizes = tuple(5 for _ in estimator.hidden_layer_sizes) or (5,)
    changes = {"hidden_layer_sizes": sizes, "activation": "tanh"}
    if "n_components" in estimator.get_params():
        changes["n_components"] = estimator.n_components - 1
    return changes


@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_continuing_refuses_parameters_that_describe_another_net(estimator, data, method):
    X, y = data
    estimator.fit(X, y)
    before = _outputs(estimator, X)
    changes = net_changing_parameters(estimator)
    originals = {name: getattr(estimator, name) for name in changes}
    estimator.set_params(**changes)
    with pytest.raises(ValueError, match="describe a different net") as raised:
        if method == "warm_start":
            estimator.set_params(warm_start=True).fit(X, y)
        else:
            estimator.partial_fit(X, y)
    for name, value in changes.items():
        assert f"{name}={value!r}" in str(raised.value)
    assert estimator.n_iter_ == 4
    for a, b in zip(before, _outputs(estimator, X), strict=True):
        np.testing.assert_array_equal(a, b)
    # Set back (a list for a tuple is the same setting), training goes on.
    estimator.set_params(**originals)
    estimator.set_params(hidden_layer_sizes=list(estimator.hidden_layer_sizes)).partial_fit(X, y)
    assert estimator.n_iter_ == 5


def _user_architecture(n_features, n_components):
    return nn.Linear(n_features, n_components), nn.Linear(n_components, n_features)


def test_continuing_ignores_settings_the_fitted_net_does_not_use(data):
    # Convolution settings do not shape an MLP; (8, 8) and (1, 8, 8) are
    # the same image shape; a callable's modules ignore the layer settings.
    X, y = data
    mlp = clone(ESTIMATORS["autoencoder"]).fit(X)
    mlp.set_params(unpooling="max", conv_channels=(8,), image_shape=(4, 16), warm_start=True)
    mlp.fit(X)
    mlp.partial_fit(X)
    conv = AutoencoderTransformer(
        2, architecture="conv", image_shape=(8, 8), conv_channels=(2,), hidden_layer_sizes=(),
        max_iter=2, random_state=0,
    ).fit(X)  # fmt: skip
    conv.set_params(image_shape=(1, 8, 8)).partial_fit(X)
    with pytest.raises(ValueError, match="conv_channels=\\(3,\\)"):
        conv.set_params(conv_channels=(3,)).partial_fit(X)
    user = AutoencoderTransformer(
        2, architecture=_user_architecture, max_iter=2, random_state=0
    ).fit(X)
    user.set_params(hidden_layer_sizes=(7,), activation="tanh").partial_fit(X)
    assert user.n_iter_ == 3


def test_first_partial_fit_equals_fit_of_one_epoch(estimator, data):
    X, y = data
    kwargs = {"classes": np.unique(y)} if _is_classifier(estimator) else {}
    incremental = clone(estimator).partial_fit(X, y, **kwargs)
    one_epoch = clone(estimator).set_params(max_iter=1).fit(X, y)
    for a, b in zip(_outputs(incremental, X), _outputs(one_epoch, X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_warning_raised_as_an_error_leaves_the_completed_fit(estimator, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            estimator.fit(X, y)
    assert estimator.n_iter_ == estimator.max_iter
    assert np.isfinite(_outputs(estimator, X)[0]).all()


@pytest.mark.parametrize("method", ["transform", "fit_transform"])
def test_set_output_pandas_gives_named_data_frames(estimator, data, method):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])], index=X[:, 10])
    estimator.set_output(transform="pandas")
    if method == "transform":
        output = estimator.fit(frame, y).transform(frame)
    else:
        output = estimator.fit_transform(frame, y)
    assert isinstance(output, pd.DataFrame)
    assert list(output.columns) == list(estimator.get_feature_names_out())
    pd.testing.assert_index_equal(output.index, frame.index)


def test_fitted_attributes_mean_the_same_everywhere(estimator, data):
    X, y = data
    estimator.fit(X, y)
    assert estimator.best_loss_ == min(estimator.loss_curve_)
    assert estimator.validation_scores_ is None and estimator.best_validation_score_ is None
    estimator.set_params(early_stopping=True, validation_fraction=0.25).fit(X, y)
    assert estimator.best_loss_ is None
    assert len(estimator.validation_scores_) == estimator.n_iter_
    assert estimator.best_validation_score_ == max(estimator.validation_scores_)
    assert estimator.t_ == estimator.n_iter_ * 90  # 75% of 120 rows train
