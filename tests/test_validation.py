"""Bad input gets a clear error and leaves a fitted estimator unchanged."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_fit2d_1sample

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)

RNG = np.random.RandomState(0)
X_GOOD = RNG.uniform(size=(60, 6))


@pytest.fixture
def fitted():
    return AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(
        X_GOOD
    )


def _fingerprint(model):
    """What must not change: fitted attributes and every output."""
    return {
        "attributes": {k: v for k, v in vars(model).items() if k.endswith("_")},
        "params": model.get_params(),
        "codes": model.transform(X_GOOD),
        "weights": [p.detach().clone() for p in model.module_.parameters()],
    }


def _assert_unchanged(model, before):
    after = _fingerprint(model)
    assert after["params"] == before["params"]
    assert after["attributes"].keys() == before["attributes"].keys()
    for name, value in before["attributes"].items():
        if isinstance(value, (int, float, str, list, type(None))):
            assert after["attributes"][name] == value, name
    np.testing.assert_array_equal(after["codes"], before["codes"])
    for old, new in zip(before["weights"], after["weights"], strict=True):
        assert torch.equal(old, new)


def _with(value, row=0, col=0):
    X = X_GOOD.copy()
    X[row, col] = value
    return X


BAD_FIT_INPUT = {
    "nan": (_with(np.nan), "Input X contains NaN"),
    "inf": (_with(np.inf), "Input X contains infinity"),
    "empty": (np.empty((0, 6)), r"Found array with 0 sample\(s\)"),
    "one_dimensional": (X_GOOD[:, 0], "Expected 2D array, got 1D array"),
    "strings": (X_GOOD.astype(str).astype(object) + "x", "could not convert string to float"),
    "complex": (X_GOOD + 1j, "Complex data not supported"),
}


@pytest.mark.parametrize("case", BAD_FIT_INPUT)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_training_data_is_rejected_and_changes_nothing(fitted, case, method):
    X_bad, message = BAD_FIT_INPUT[case]
    before = _fingerprint(fitted)
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(X_bad)
    _assert_unchanged(fitted, before)


@pytest.mark.parametrize("case", BAD_FIT_INPUT)
@pytest.mark.parametrize("method", ["transform", "score_samples", "score"])
def test_bad_data_at_inference_is_rejected(fitted, case, method):
    X_bad, message = BAD_FIT_INPUT[case]
    before = _fingerprint(fitted)
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(X_bad)
    _assert_unchanged(fitted, before)


@pytest.mark.parametrize("method", ["transform", "score_samples", "score", "partial_fit"])
def test_wrong_number_of_features_is_rejected(fitted, method):
    before = _fingerprint(fitted)
    with pytest.raises(ValueError, match="X has 5 features, but AutoencoderTransformer is "):
        getattr(fitted, method)(X_GOOD[:, :5])
    _assert_unchanged(fitted, before)


def test_inverse_transform_checks_the_code_size(fitted):
    with pytest.raises(ValueError, match=r"X has 4 features, .* expects codes with 3 features"):
        fitted.inverse_transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Expected 2D array"):
        fitted.inverse_transform(np.zeros(3))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.inverse_transform(np.full((2, 3), np.nan))


def test_refitting_with_more_features_than_allowed_changes_nothing(fitted):
    before = _fingerprint(fitted)
    with pytest.raises(ValueError, match=r"n_components=3 is larger .* 2 feature\(s\)"):
        fitted.fit(X_GOOD[:, :2])
    _assert_unchanged(fitted, before)


BAD_PARAMS = {
    "n_components_zero": ({"n_components": 0}, "'n_components' parameter .* range"),
    "n_components_negative": ({"n_components": -3}, "'n_components' parameter .* range"),
    "activation": ({"activation": "swish"}, "'activation' parameter .* must be a str among"),
    "solver": ({"solver": "newton"}, "'solver' parameter .* must be a str among"),
    "loss": ({"loss": "hinge"}, "'loss' parameter"),
    "learning_rate": ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter"),
    "hidden_layer_sizes": ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be"),
    "batch_size": ({"batch_size": 0}, "'batch_size' parameter"),
    "validation_fraction": ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
}


@pytest.mark.parametrize("case", BAD_PARAMS)
def test_bad_parameters_are_rejected_and_change_nothing(fitted, case):
    params, message = BAD_PARAMS[case]
    before = _fingerprint(fitted)
    good_params = fitted.get_params()
    fitted.set_params(**params)  # like __init__, set_params only stores
    with pytest.raises(ValueError, match=message):
        fitted.fit(X_GOOD)
    fitted.set_params(**good_params)
    _assert_unchanged(fitted, before)


def test_invalid_parameters_raise_sklearn_error_type():
    with pytest.raises(InvalidParameterError):
        AutoencoderTransformer(activation="swish").fit(X_GOOD)


def test_bce_needs_a_sigmoid_output_and_data_in_unit_interval():
    with pytest.raises(ValueError, match="output_activation='sigmoid'"):
        AutoencoderTransformer(loss="bce").fit(X_GOOD)
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        AutoencoderTransformer(loss="bce", output_activation="sigmoid").fit(X_GOOD * 2)
    # A sparse X's implicit zeros are among its values, as quoted.
    stored = sp.csr_matrix(np.array([[0.0, 0.5], [2.0, 0.0]]))
    with pytest.raises(ValueError, match=r"X has values in \[0, 2\]"):
        AutoencoderTransformer(1, loss="bce", output_activation="sigmoid").fit(stored)


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_a_sigmoid_output_warns_of_data_beyond_its_range(loss):
    # Its reconstructions cannot leave [0, 1]: fits on X up to 2 trained
    # in silence, as loss='bce' and salt-and-pepper noise refuse it.
    for model in (AutoencoderTransformer(2, loss=loss), VariationalAutoencoder(2)):
        if loss == "huber" and isinstance(model, VariationalAutoencoder):
            continue  # the VAE has no Huber loss
        model.set_params(output_activation="sigmoid", max_iter=2)
        beyond = X_GOOD.copy()
        beyond[0, 0] = 2.0
        with pytest.warns(UserWarning, match=r"output_activation='sigmoid' .*, 2\]"):
            model.fit(beyond)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)  # two epochs
            model.fit(X_GOOD)  # in [0, 1]


def test_salt_and_pepper_refuses_a_range_before_the_sigmoid_warns_of_it():
    beyond = X_GOOD * 2
    model = DenoisingAutoencoder(2, noise="salt_and_pepper", output_activation="sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no warning before the error
        with pytest.raises(ValueError, match="noise='salt_and_pepper' sets inputs"):
            model.fit(beyond)


def test_the_consistency_term_is_no_cause_without_noise():
    from skae._divergence import _term_is_on

    # Without noise or dropout the clean and corrupted predictions are
    # equal: the term is 0 whatever its weight.
    assert not _term_is_on("consistency_weight", {"consistency_weight": 1e38})
    assert _term_is_on("consistency_weight", {"consistency_weight": 1e38, "noise_std": 0.3})


@pytest.mark.parametrize(
    "model",
    [
        AutoencoderTransformer(1, loss="bce", output_activation="sigmoid", max_iter=2),
        DenoisingAutoencoder(1, noise="salt_and_pepper", max_iter=2),
    ],
    ids=["bce", "salt_and_pepper"],
)
def test_the_unit_interval_is_read_as_training_sees_it(model):
    # MinMaxScaler's float64 output can end one rounding step above 1: 1 in
    # float32, which training uses. It used to be refused, with a message
    # quoting the range as [0, 1]. A value 1e-6 above 1 is outside.
    X = MinMaxScaler().fit_transform(np.array([[0.75, 1.0], [0.85, 0.5], [1.45, 0.0]]))
    assert X.max() == np.nextafter(1.0, 2.0)
    model.fit(X)
    with pytest.raises(ValueError, match=r"values in \[0, 1.000001\].*clip=True"):
        clone(model).fit(np.vstack([X, [[1 + 1e-6, 0.5]]]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_gets_a_clear_message(fitted):
    before = _fingerprint(fitted)
    fitted.set_params(device="cuda")
    with pytest.raises(ValueError, match="CUDA is not available.*device='cpu'"):
        fitted.fit(X_GOOD)
    fitted.set_params(device="cpu")
    _assert_unchanged(fitted, before)


def test_unknown_device_name_gets_a_clear_message():
    with pytest.raises(ValueError, match="not a device name torch understands"):
        AutoencoderTransformer(device="gpu0").fit(X_GOOD)


def test_auto_device_falls_back_to_cpu_without_accelerators():
    ae = AutoencoderTransformer(2, max_iter=1, device="auto").fit(X_GOOD)
    if not (torch.cuda.is_available() or torch.backends.mps.is_available()):
        assert ae.device_ == "cpu"


@pytest.mark.parametrize(
    "method", ["transform", "inverse_transform", "score", "score_samples", "get_feature_names_out"]
)
def test_use_before_fit_raises_not_fitted(method):
    ae = AutoencoderTransformer()
    args = () if method == "get_feature_names_out" else (X_GOOD[:, :2],)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(ae, method)(*args)


_CLASSIFIER_HOLDING_OUT = StackedAutoencoderClassifier(
    (4,), corruption_levels=0.1, early_stopping=True
)


@pytest.mark.parametrize(
    "estimator, y, counted",
    [
        (AutoencoderTransformer(2, early_stopping=True), None, "training samples (n_samples=1)"),
        (
            _CLASSIFIER_HOLDING_OUT,
            np.array([0] * 59 + [1]),
            "labelled training samples (n_samples=60)",
        ),
        (  # the validation rows are labelled ones: their count, not all rows'
            _CLASSIFIER_HOLDING_OUT,
            np.array([0] * 5 + [1] * 5 + [-1] * 50),
            "labelled training samples (n_samples=10)",
        ),
    ],
)
def test_early_stopping_without_enough_samples_names_the_settings(estimator, y, counted):
    X = X_GOOD[:1] if y is None else X_GOOD
    with pytest.raises(ValueError, match="early_stopping=True cannot hold out") as error:
        estimator.fit(X, y)
    assert "validation_fraction=0.1" in str(error.value)
    assert counted in str(error.value)
    assert "test_size" not in str(error.value)


@pytest.mark.parametrize("cls", [AutoencoderTransformer, DenoisingAutoencoder,
                                 VariationalAutoencoder])  # fmt: skip
def test_one_sample_under_early_stopping_passes_sklearns_check(cls):
    # check_fit2d_1sample accepts an error only if it names n_samples=1.
    estimator = cls(2, hidden_layer_sizes=(4,), max_iter=2, early_stopping=True, random_state=0)
    check_fit2d_1sample(cls.__name__, estimator)


def test_bad_conv_channels_are_named_as_such():
    ae = AutoencoderTransformer(2, architecture="conv", image_shape=(2, 3), conv_channels=(4, 0))
    with pytest.raises(ValueError, match=r"conv_channels must be .* got \(4, 0\)"):
        ae.fit(X_GOOD)


@pytest.mark.parametrize(
    "estimator, name",
    [
        (AutoencoderTransformer(learning_rate_init=1e39), "learning_rate_init"),
        (StackedAutoencoderClassifier(learning_rate_init=1e39), "learning_rate_init"),
        (
            StackedAutoencoderClassifier(pretrain_learning_rate_init=1e39),
            "pretrain_learning_rate_init",
        ),
    ],
)
def test_learning_rates_are_bounded_by_the_float32_maximum(estimator, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
        estimator.fit(X_GOOD, np.arange(60) % 2)


@pytest.mark.parametrize("cls", [AutoencoderTransformer, DenoisingAutoencoder,
                                 VariationalAutoencoder])  # fmt: skip
def test_a_bool_is_no_count(cls):
    # Python's bool passes an Integral check: n_components=True reached the
    # net builder (a torch TypeError) or made a 1-D model.
    fitted = cls(2, hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X_GOOD)
    before = fitted.transform(X_GOOD)
    with pytest.raises(ValueError, match="'n_components' parameter .* Got True instead"):
        fitted.set_params(n_components=True).fit(X_GOOD)
    np.testing.assert_array_equal(fitted.transform(X_GOOD), before)
    if cls is VariationalAutoencoder:
        with pytest.raises(ValueError, match="'n_samples' parameter .* Got True instead"):
            fitted.sample(True)


def test_nan_let_through_by_assume_finite_is_named_by_the_range_checks():
    # The [0, 1] checks quoted "values in [nan, nan]" and advised scaling;
    # a NaN weight was silently read as weight 0 and its row dropped.
    X = X_GOOD.copy()
    X[3, 2] = np.nan
    models = [
        AutoencoderTransformer(1, loss="bce", output_activation="sigmoid", max_iter=2),
        DenoisingAutoencoder(1, noise="salt_and_pepper", max_iter=2),
    ]
    weights = np.ones(len(X_GOOD))
    weights[5] = np.nan
    with sklearn.config_context(assume_finite=True):
        for model in models:
            with pytest.raises(ValueError, match="X contains NaN or infinity.*assume_finite"):
                model.fit(X)
        with pytest.raises(ValueError, match="sample_weight contains NaN.*assume_finite"):
            AutoencoderTransformer(1, max_iter=2).fit(X_GOOD, sample_weight=weights)


def test_inverse_transform_names_the_fitted_code_size(fitted):
    # After set_params(n_components=...), "n_components" named the new value,
    # not the fitted size the codes must have.
    n_fitted = fitted.n_components_
    fitted.set_params(n_components=n_fitted + 1)
    try:
        with pytest.raises(ValueError, match=rf"codes with {n_fitted} features \(n_components_"):
            fitted.inverse_transform(np.zeros((2, n_fitted + 1)))
    finally:
        fitted.set_params(n_components=n_fitted)
