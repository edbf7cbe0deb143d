"""Hostile input: every estimator, every public method, arbitrary data.

``hypothesis`` draws the data users actually pass (see
``hostile_strategies.py``: every dtype, NaN and inf, the dtype's extremes,
constant columns, 1 sample or 1 feature, fewer samples than ``batch_size``,
sparse formats, DataFrames with odd column names, odd class labels and
sample weights). Each call must end in a finite result of the documented
shape and dtype, or in a ``ValueError``/``TypeError`` raised by skae or
scikit-learn (not by torch) whose message names the data or setting at
fault, leaving a fitted model exactly as it was. A diverged fit's
documented ``FloatingPointError`` is accepted when its most likely cause is
the magnitude of X. A per-example deadline turns a hang into a failure.

Profiles (``SKAE_HYPOTHESIS_PROFILE``):

- ``ci`` (default): derandomized, a fixed number of examples per test, a
  5 s deadline per example; the whole file runs in about a minute::

      OMP_NUM_THREADS=1 python -m pytest -q tests/test_hostile_input.py \\
          --hypothesis-show-statistics

- ``thorough``: random, 10x the examples (several minutes)::

      SKAE_HYPOTHESIS_PROFILE=thorough python -m pytest -q tests/test_hostile_input.py

A failure prints the smallest input found and a ``@reproduce_failure`` blob.
The plain tests at the end are regressions for what the suite found.
"""

import copy
import os
import re

import numpy as np
import pytest
import scipy.sparse as sp
from hostile_strategies import float_dtype_of, hostile_X, labels, numeric_arrays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import ClassifierMixin, clone
from test_invariants import _assert_same_state, _state

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)

_COMMON = dict(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    print_blob=True,
)
settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=5000, **_COMMON
)  # fmt: skip
settings.register_profile("thorough", max_examples=600, deadline=10000, **_COMMON)
HOSTILE = settings.get_profile(os.environ.get("SKAE_HYPOTHESIS_PROFILE", "ci"))

_TINY = dict(max_iter=2, batch_size=4, tol=0, random_state=0)
ESTIMATORS = {
    "autoencoder": AutoencoderTransformer(1, hidden_layer_sizes=(4,), **_TINY),
    "conv": AutoencoderTransformer(
        1,
        architecture="conv",
        image_shape=(2, 2),
        conv_channels=(2,),
        hidden_layer_sizes=(),
        **_TINY,
    ),  # fmt: skip
    "denoising": DenoisingAutoencoder(1, hidden_layer_sizes=(4,), **_TINY),
    "variational": VariationalAutoencoder(1, hidden_layer_sizes=(4,), **_TINY),
    "classifier": StackedAutoencoderClassifier(
        (4,), corruption_levels=0.1, pretrain_max_iter=1, **_TINY
    ),
}
# The conv model reads rows as 2x2 images: mostly 4 features, sometimes not.
N_FEATURES = {"conv": st.sampled_from([4, 4, 4, 1, 5])}
X_CLEAN = np.random.RandomState(0).uniform(size=(12, 4))
Y_CLEAN = np.arange(12) % 2
_FITTED = {}

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning"),
    pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning"),
    pytest.mark.filterwarnings("ignore:X has feature names:UserWarning"),
    # An overflow or invalid value in skae's own NumPy code is a bug.
    pytest.mark.filterwarnings("error::RuntimeWarning:skae"),
]


def _is_classifier(estimator):
    return isinstance(estimator, ClassifierMixin)


def _fitted(name):
    """A copy of ``name``'s estimator fitted on clean data (fitted once)."""
    if name not in _FITTED:
        _FITTED[name] = clone(ESTIMATORS[name]).fit(X_CLEAN, Y_CLEAN)
    return copy.deepcopy(_FITTED[name])


# ----------------------------------------------------------------- oracle


def _raised_in_torch(error):
    traceback = error.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return f"{os.sep}torch{os.sep}" in traceback.tb_frame.f_code.co_filename


def assert_clear_error(error, estimator, fitting):
    """A ValueError/TypeError naming the data or a setting, not raised by torch."""
    message = str(error)
    if fitting and isinstance(error, FloatingPointError):
        # The documented divergence error, blaming the data's magnitude first.
        assert message.startswith("Training diverged"), message
        assert message.splitlines()[1].startswith("- X's largest magnitude"), message
        return
    if not isinstance(error, (ValueError, TypeError)) or _raised_in_torch(error):
        raise AssertionError(f"not a clear error: {type(error).__name__}") from error
    names = [re.escape(name) for name in estimator.get_params()]
    subject = r"\bX\b|\by\b|sample|weight|feature|class|label|column|float|convert|"
    subject += "|".join(names)
    assert re.search(subject, message, re.IGNORECASE), f"names no data or setting: {message}"


def assert_finite(result, shape, dtype):
    """A finite ndarray of ``shape`` and ``dtype``."""
    assert isinstance(result, np.ndarray), type(result)
    assert result.shape == shape and result.dtype == dtype, (result.shape, result.dtype)
    assert np.isfinite(result).all(), result


def _calls(estimator, X, y):
    """Every inference method of a fitted estimator on ``X``, with its expected result.

    Yields ``(name, call, shape, dtype)``; a None shape is for a scalar score.
    """
    n, dtype = len(y), float_dtype_of(X)
    if _is_classifier(estimator):
        k = len(estimator.classes_)
        yield "predict", lambda: estimator.predict(X), (n,), estimator.classes_.dtype
        yield "predict_proba", lambda: estimator.predict_proba(X), (n, k), dtype
        yield "predict_log_proba", lambda: estimator.predict_log_proba(X), (n, k), dtype
        shape = (n,) if k == 2 else (n, k)
        yield "decision_function", lambda: estimator.decision_function(X), shape, dtype
        width = estimator.module_.head.in_features
        yield "transform", lambda: estimator.transform(X), (n, width), dtype
        yield "score", lambda: estimator.score(X, y), None, None
        return
    codes_shape = (n, estimator.n_components_)
    yield "transform", lambda: estimator.transform(X), codes_shape, dtype
    yield "score_samples", lambda: estimator.score_samples(X), (n,), dtype
    yield "score", lambda: estimator.score(X), None, None
    if hasattr(estimator, "denoise"):
        shape = (n, estimator.n_features_in_)
        yield "denoise", lambda: estimator.denoise(X), shape, dtype


def check_methods(estimator, X, y):
    """Call every inference method on ``X``; check each result or error."""
    for name, call, shape, dtype in _calls(estimator, X, y):
        try:
            result = call()
        except Exception as error:  # noqa: BLE001 - the oracle judges it
            assert_clear_error(error, estimator, fitting=False)
            continue
        if shape is None:
            assert isinstance(result, float) and np.isfinite(result), (name, result)
        elif name == "predict":
            assert result.shape == shape and np.isin(result, estimator.classes_).all()
        else:
            assert_finite(result, shape, dtype)
        if name == "transform" and not _is_classifier(estimator):
            _check_inverse_transform(estimator, result, result.dtype)


def _check_inverse_transform(estimator, codes, dtype):
    try:
        decoded = estimator.inverse_transform(codes)
    except Exception as error:  # noqa: BLE001 - the oracle judges it
        assert_clear_error(error, estimator, fitting=False)
        return
    assert_finite(decoded, (_n_samples(codes), estimator.n_features_in_), dtype)


def _n_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _sample_weights(n_samples):
    """None, or weights of any dtype and content (sometimes of the wrong length)."""
    length = st.sampled_from([n_samples, n_samples, n_samples + 1])
    weights = st.builds(lambda n: n, length).flatmap(
        lambda n: st.sampled_from(["float64", "float32", "int64", "bool"]).flatmap(
            lambda dtype: numeric_arrays((n, 1), dtype)
        )
    )
    return st.one_of(st.none(), weights.map(np.ravel))


# ------------------------------------------------------------------ tests


@HOSTILE
@given(data=st.data())
@pytest.mark.parametrize("name", ESTIMATORS)
def test_fit_on_hostile_data_then_every_method(name, data):
    """Fit (or a first partial_fit) on hostile data, then call every method on it."""
    estimator = clone(ESTIMATORS[name])
    X = data.draw(hostile_X(n_features=N_FEATURES.get(name, st.integers(1, 5))), label="X")
    n_samples = _n_samples(X)
    y = data.draw(labels(n_samples), label="y") if _is_classifier(estimator) else None
    first_call = data.draw(st.sampled_from(["fit", "partial_fit"]), label="method")
    kwargs = {}
    if first_call == "partial_fit" and y is not None:
        kwargs["classes"] = data.draw(st.sampled_from([None, np.unique(y.astype(str))]))
    try:
        getattr(estimator, first_call)(X, y, **kwargs)
    except Exception as error:  # noqa: BLE001 - the oracle judges it
        assert_clear_error(error, estimator, fitting=True)
        assert not hasattr(estimator, "module_"), "a failed fit left a fitted attribute"
        return
    check_methods(estimator, X, y if y is not None else np.zeros(n_samples))


@HOSTILE
@given(data=st.data())
@pytest.mark.parametrize("name", ESTIMATORS)
def test_fitted_model_on_hostile_data(name, data):
    """A fitted model given hostile data: results, or an error that changes nothing."""
    estimator = _fitted(name)
    classifier = _is_classifier(estimator)
    methods = ["partial_fit", "warm_start_fit", "fit", "infer"]
    methods += [] if classifier else ["inverse_transform"]
    method = data.draw(st.sampled_from(methods), label="method")
    if method == "warm_start_fit":
        estimator.set_params(warm_start=True)
    before = _state(estimator, X_CLEAN)
    n_features = N_FEATURES.get(name, st.sampled_from([4, 4, 4, 1, 5]))
    if method == "inverse_transform":
        n_features = st.sampled_from([estimator.n_components_] * 3 + [2])
    X = data.draw(hostile_X(n_features=n_features), label="X")
    n_samples = _n_samples(X)
    if classifier and method == "infer":  # score's labels are sklearn's to check
        y = data.draw(st.lists(st.sampled_from(estimator.classes_), min_size=n_samples,
                               max_size=n_samples).map(np.array), label="y")  # fmt: skip
    elif classifier:
        y = data.draw(labels(n_samples), label="y")
    else:
        y = np.zeros(n_samples)
    if method == "infer":
        check_methods(estimator, X, y)
    elif method == "inverse_transform":
        _check_inverse_transform(estimator, X, float_dtype_of(X))
    else:
        weights = data.draw(_sample_weights(n_samples), label="sample_weight")
        fit = estimator.partial_fit if method == "partial_fit" else estimator.fit
        try:
            fit(X, y if classifier else None, sample_weight=weights)
        except Exception as error:  # noqa: BLE001 - the oracle judges it
            assert_clear_error(error, estimator, fitting=True)
        else:
            check_methods(estimator, X_CLEAN, Y_CLEAN)
            return
    _assert_same_state(before, _state(estimator, X_CLEAN))


@HOSTILE
@given(
    n_samples=st.one_of(st.integers(-2, 3000), st.sampled_from([1.5, "3", None, np.int8(2)])),
    random_state=st.one_of(st.none(), st.integers(0, 2**32 - 1), st.sampled_from([-1, 2**32])),
)
def test_variational_sample(n_samples, random_state):
    """VariationalAutoencoder.sample: n_samples finite float64 rows, or a clear error."""
    estimator = _fitted("variational")
    try:
        result = estimator.sample(n_samples, random_state=random_state)
    except Exception as error:  # noqa: BLE001 - the oracle judges it
        assert_clear_error(error, estimator, fitting=False)
        assert re.search("n_samples|random_state", str(error)), str(error)
        return
    assert_finite(result, (int(n_samples), estimator.n_features_in_), np.dtype(np.float64))


# ------------------------------------------------- regressions (plain tests)


@pytest.mark.parametrize("name", ["autoencoder", "classifier"])
def test_training_data_beyond_float32_range_is_refused(name):
    # Was: trained on inf (float64 -> float32), then "Training diverged".
    estimator = _fitted(name)
    before = _state(estimator, X_CLEAN)
    message = r"X has values of magnitude up to 9.79e\+299, beyond the largest float32"
    with pytest.raises(ValueError, match=message):
        estimator.partial_fit(X_CLEAN * 1e300, Y_CLEAN)
    _assert_same_state(before, _state(estimator, X_CLEAN))


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float16, np.int64, np.uint64, np.int8, np.uint8, np.bool_]
)
def test_the_float32_range_check_reads_only_float64(dtype, monkeypatch):
    # Every value of these dtypes fits float32: the check returns without
    # a pass over X (a tenth of the fixed cost of a fit on MNIST). float64
    # is still scanned, and refused beyond float32 (the test above).
    from skae import _estimator

    def must_not_read(X):
        raise AssertionError(f"{X.dtype} data was scanned")

    monkeypatch.setattr(_estimator, "largest_magnitude", must_not_read)
    X = np.ones((3, 2), dtype=dtype)
    assert _estimator.check_float32_range(X) is X
    with pytest.raises(AssertionError, match="float64 data was scanned"):
        _estimator.check_float32_range(X.astype(np.float64))


@pytest.mark.parametrize("scale", [1e-40, 1e30])
def test_data_of_extreme_scale_trains(scale):
    # Was: "Training diverged", blaming the learning rate: a spread below
    # float32's smallest normal number was divided by (1e-40), or the
    # squared error overflowed before the division by scale_**2 (1e30).
    estimator = clone(ESTIMATORS["autoencoder"]).fit(X_CLEAN * scale)
    assert_finite(estimator.transform(X_CLEAN * scale), (12, 1), np.dtype(np.float64))
    assert np.isfinite(estimator.score(X_CLEAN * scale))


def test_float16_data_above_256_trains():
    # Was: float16 squares overflowed in weighted_moments: scale_ = inf.
    X = (X_CLEAN * 1000).astype(np.float16)
    estimator = clone(ESTIMATORS["autoencoder"]).fit(X)
    assert 200 < estimator.scale_ < 400
    assert_finite(estimator.transform(X), (12, 1), np.dtype(np.float64))


@pytest.mark.parametrize("weight", [1e-108, 1.7e308])
@pytest.mark.parametrize("name", ["autoencoder", "classifier"])
def test_sample_weights_beyond_float32_range_are_refused(name, weight):
    # Was: a ZeroDivisionError (1e-108 sums to 0 in float32) or inf weights.
    estimator = _fitted(name)
    before = _state(estimator, X_CLEAN)
    with pytest.raises(ValueError, match="sample_weight has positive values from"):
        estimator.partial_fit(X_CLEAN, Y_CLEAN, sample_weight=np.full(12, weight))
    _assert_same_state(before, _state(estimator, X_CLEAN))


def test_float32_data_at_the_limit_gives_a_finite_scale():
    # Was: float32 squares overflowed in weighted_moments: scale_ = inf.
    X = (X_CLEAN * 1e30).astype(np.float32)
    estimator = clone(ESTIMATORS["autoencoder"]).fit(X)
    assert 1e29 < estimator.scale_ < 1e30
    assert_finite(estimator.transform(X), (12, 1), np.dtype(np.float32))


def test_labels_of_mixed_types_are_refused_by_name():
    # Was: numpy's "'<' not supported between instances of 'str' and 'int'".
    estimator = clone(ESTIMATORS["classifier"])
    y = np.array([0, "a"] * 6, dtype=object)
    with pytest.raises(TypeError, match=r"y mixes labels of types \['int', 'str'\]"):
        estimator.fit(X_CLEAN, y)
    with pytest.raises(TypeError, match="classes mixes labels"):
        estimator.partial_fit(X_CLEAN, Y_CLEAN, classes=np.array([0, "a"], dtype=object))


@pytest.mark.parametrize("name", ["denoising", "variational", "classifier"])
def test_integer_X_trains_as_features(name):
    # Was: integer X trained as class indices (torch.long), and corruption,
    # sampling or the classifier's sparse batches crashed inside torch.
    X = (X_CLEAN * 255).astype(np.uint8)
    X = sp.csr_matrix(X) if name == "classifier" else X
    estimator = clone(ESTIMATORS[name]).fit(X, Y_CLEAN)
    assert_finite(estimator.transform(X), (12, estimator.transform(X_CLEAN).shape[1]), np.float64)
