"""ONNX export (skae.onnx): onnxruntime reproduces skae's float32 outputs."""

import numpy as np
import pytest
from onnxruntime import InferenceSession
from skl2onnx import to_onnx
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)
from skae._layers import ACTIVATIONS, make_activation
from skae.onnx import ACTIVATION_OPS, TARGET_OPSET

N_SAMPLES = 300

# Codes and reconstructions agree within rtol=1e-5, plus an absolute
# tolerance for values near 0. A float32 sum carries a rounding error
# relative to the size of its terms, not of its result, and onnxruntime's
# Gemm, Tanh, Sigmoid and Erf round differently from torch's (a few ulps):
# a code that cancels to ~0 keeps the absolute error of the activations it
# was summed from. The atol is 1e-6 times the largest magnitude in the
# output (~8 float32 ulps of it); over AUTOENCODERS at 4 seeds, the excess
# over rtol measured at most 1.8e-7 times it (/tmp script in the report).
RTOL = 1e-5
ATOL_FRACTION = 1e-6


def assert_close(actual, expected):
    atol = ATOL_FRACTION * np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=atol)


def run(onx, X):
    session = InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def X_unit(digits_unit):
    return digits_unit[:N_SAMPLES].astype(np.float32)


@pytest.fixture(scope="module")
def y(digits_raw):
    return digits_raw[1][:N_SAMPLES]


def tiny(cls, **params):
    settings = dict(n_components=4, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    return cls(**{**settings, **params})


AUTOENCODERS = [
    *(
        pytest.param(tiny(AutoencoderTransformer, activation=name), id=f"activation={name}")
        for name in ACTIVATIONS
    ),
    *(
        pytest.param(tiny(AutoencoderTransformer, code_activation=name), id=f"code={name}")
        for name in ACTIVATIONS
    ),
    *(
        pytest.param(
            tiny(
                AutoencoderTransformer,
                hidden_layer_sizes=hidden,
                tied_weights=tied,
                activation="tanh",
            ),
            id=f"hidden={hidden}-tied={tied}",
        )
        for hidden in [(), (24, 12)]
        for tied in [False, True]
    ),
    pytest.param(
        tiny(AutoencoderTransformer, output_activation="sigmoid", loss="bce"), id="sigmoid-out"
    ),
    pytest.param(
        tiny(DenoisingAutoencoder, noise_level=0.3, tied_weights=True, activation="elu"),
        id="denoising",
    ),
    pytest.param(tiny(VariationalAutoencoder), id="variational-mse"),
    pytest.param(
        tiny(
            VariationalAutoencoder,
            loss="bce",
            output_activation="sigmoid",
            hidden_layer_sizes=(16, 8),
        ),
        id="variational-bce",
    ),
]


@pytest.mark.parametrize("autoencoder", AUTOENCODERS)
def test_autoencoder_transform_and_inverse_parity(autoencoder, X_unit):
    model = autoencoder.fit(X_unit)
    codes = model.transform(X_unit)
    (onnx_codes,) = run(to_onnx(model, X_unit[:1], target_opset=TARGET_OPSET), X_unit)
    assert onnx_codes.dtype == np.float32
    assert_close(onnx_codes, codes)

    inverse = to_onnx(
        model, codes[:1], target_opset=TARGET_OPSET, options={id(model): {"inverse": True}}
    )
    (reconstructions,) = run(inverse, codes)
    assert reconstructions.shape == X_unit.shape
    assert_close(reconstructions, model.inverse_transform(codes))


@pytest.mark.parametrize("target_opset", [None, 13, TARGET_OPSET])
def test_pipeline_exports_in_one_call(target_opset, digits_raw):
    X, y = digits_raw
    X = X[:N_SAMPLES].astype(np.float32)
    y = y[:N_SAMPLES]
    autoencoder = tiny(AutoencoderTransformer, n_components=8, hidden_layer_sizes=(32,))
    pipe = make_pipeline(StandardScaler(), autoencoder, LogisticRegression(max_iter=300))
    pipe.fit(X, y)

    onx = to_onnx(pipe, X[:1], options={"zipmap": False}, target_opset=target_opset)
    labels, probabilities = run(onx, X)
    np.testing.assert_allclose(probabilities, pipe.predict_proba(X), rtol=0, atol=1e-4)
    np.testing.assert_array_equal(labels, pipe.predict(X))

    encoder = pipe[:2]
    (codes,) = run(to_onnx(encoder, X[:1], target_opset=target_opset), X)
    assert_close(codes, encoder.transform(X))


CLASSIFIERS = [
    pytest.param(dict(hidden_layer_sizes=()), id="softmax-only"),
    pytest.param(dict(hidden_layer_sizes=(24, 12), activation="gelu"), id="gelu-2-layers"),
    pytest.param(dict(hidden_layer_sizes=(16,), dropout=0.5, input_dropout=0.2), id="dropout"),
    # Inference's batch norms fold into the Gemms; the noise is training's only.
    pytest.param(dict(hidden_layer_sizes=(24, 12), batch_norm=True, noise_std=0.3), id="norms"),
    pytest.param(dict(hidden_layer_sizes=(), batch_norm=True), id="softmax-norm"),
]


@pytest.mark.parametrize("params", CLASSIFIERS)
@pytest.mark.parametrize("labels", ["int", "str", "binary"])
def test_classifier_predict_and_proba_parity(params, labels, X_unit, y):
    targets = {"int": y, "str": np.array([f"digit {v}" for v in y]), "binary": y % 2}[labels]
    settings = dict(pretrain_max_iter=1, max_iter=3, random_state=0)
    clf = StackedAutoencoderClassifier(**{**settings, **params}).fit(X_unit, targets)

    onx = to_onnx(clf, X_unit[:1], options={"zipmap": False}, target_opset=TARGET_OPSET)
    predicted, probabilities = run(onx, X_unit)
    np.testing.assert_allclose(probabilities, clf.predict_proba(X_unit), rtol=0, atol=1e-4)
    np.testing.assert_array_equal(predicted, clf.predict(X_unit))


def test_classifier_zipmap_gives_one_dict_per_sample(X_unit, y):
    clf = StackedAutoencoderClassifier((8,), pretrain_max_iter=1, max_iter=2, random_state=0)
    clf.fit(X_unit, y)
    _, probabilities = run(to_onnx(clf, X_unit[:1], target_opset=TARGET_OPSET), X_unit[:2])
    assert sorted(probabilities[0]) == list(clf.classes_)
    expected = clf.predict_proba(X_unit[:2])[1]
    np.testing.assert_allclose([probabilities[1][c] for c in clf.classes_], expected, atol=1e-4)


def test_every_activation_has_an_onnx_op():
    assert {type(make_activation(name)) for name in ACTIVATIONS} <= set(ACTIVATION_OPS)


@pytest.mark.parametrize("cls", [AutoencoderTransformer, VariationalAutoencoder])
def test_conv_architecture_is_refused_by_name(cls, X_unit):
    model = cls(
        n_components=2,
        architecture="conv",
        image_shape=(1, 8, 8),
        conv_channels=(2,),
        hidden_layer_sizes=(),
        max_iter=1,
        random_state=0,
    ).fit(X_unit[:50])
    with pytest.raises(NotImplementedError, match="architecture='conv'.*torch.onnx.export"):
        to_onnx(model, X_unit[:1])


def test_the_fitted_architecture_decides_not_a_later_set_params(X_unit):
    # set_params does not change the fitted net (transform, save and load
    # keep it), so the converter judges the net, not the current parameter.
    mlp = AutoencoderTransformer(2, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    mlp.fit(X_unit[:50]).set_params(architecture="conv", image_shape=(1, 8, 8))
    (codes,) = run(to_onnx(mlp, X_unit[:1]), X_unit[:5])
    assert_close(codes, mlp.transform(X_unit[:5]))
    conv = AutoencoderTransformer(
        2, architecture="conv", image_shape=(1, 8, 8), conv_channels=(2,),
        hidden_layer_sizes=(), max_iter=1, random_state=0,
    ).fit(X_unit[:50])  # fmt: skip
    with pytest.raises(NotImplementedError, match="architecture='conv'"):
        to_onnx(conv.set_params(architecture="mlp"), X_unit[:1])


def test_callable_architecture_is_refused(X_unit):
    def architecture(n_features, n_components):
        return nn.Linear(n_features, n_components), nn.Linear(n_components, n_features)

    model = AutoencoderTransformer(2, architecture=architecture, max_iter=1, random_state=0)
    model.fit(X_unit[:50])
    with pytest.raises(NotImplementedError, match="callable architecture.*torch.onnx.export"):
        to_onnx(model, X_unit[:1])


def test_unknown_activation_module_is_refused(X_unit):
    model = tiny(AutoencoderTransformer, max_iter=1).fit(X_unit[:50])
    model.module_.encoder[1] = nn.Softplus()  # not one skae builds
    with pytest.raises(NotImplementedError, match="activation Softplus"):
        to_onnx(model, X_unit[:1])


def test_bad_input_types_and_widths_are_refused(X_unit):
    model = tiny(AutoencoderTransformer, max_iter=1).fit(X_unit[:50])
    with pytest.raises(TypeError, match="float32 input.*DoubleTensorType"):
        to_onnx(model, initial_types=[("X", DoubleTensorType([None, 64]))])
    with pytest.raises(ValueError, match="expects samples with 64 columns"):
        to_onnx(model, X_unit[:1, :10])
    with pytest.raises(ValueError, match=r"expects codes \(inverse=True\) with 4 columns"):
        to_onnx(model, X_unit[:1], options={id(model): {"inverse": True}})


def test_unfitted_model_is_refused(X_unit):
    with pytest.raises(NotFittedError):
        to_onnx(AutoencoderTransformer(), X_unit[:1])
    with pytest.raises(NotFittedError):
        to_onnx(StackedAutoencoderClassifier(), X_unit[:1])


def test_labels_outside_int64_are_refused_not_wrapped(X_unit, y):
    # uint64 labels such as hashed ids: cast to int64, 2**64 - 1 became -1.
    big = np.array([2**64 - 1, 2**63 + 7], dtype=np.uint64)[y % 2]
    settings = dict(hidden_layer_sizes=(8,), pretrain_max_iter=1, max_iter=1, random_state=0)
    clf = StackedAutoencoderClassifier(**settings).fit(X_unit, big)
    with pytest.raises(ValueError, match=r"classes_ holds \[9223372036854775815, 18446744"):
        to_onnx(clf, X_unit[:1], options={"zipmap": False}, target_opset=TARGET_OPSET)
    small = clf.fit(X_unit, (y % 2).astype(np.uint64) + np.uint64(2**62))  # within int64
    predicted, _ = run(to_onnx(small, X_unit[:1], options={"zipmap": False}), X_unit)
    np.testing.assert_array_equal(predicted, small.predict(X_unit))
