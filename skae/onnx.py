"""ONNX export of skae's estimators through skl2onnx.

Importing this module registers skl2onnx converters for

- the ``transform`` of the fully connected autoencoders
  (:class:`~skae.AutoencoderTransformer`, :class:`~skae.DenoisingAutoencoder`
  and :class:`~skae.VariationalAutoencoder`, whose code is the posterior
  mean), and their ``inverse_transform`` with the converter option
  ``{"inverse": True}`` (the graph then maps codes to reconstructions);
- ``predict`` and ``predict_proba`` of
  :class:`~skae.StackedAutoencoderClassifier`, with skl2onnx's classifier
  options (``zipmap``, ``nocl``, ``output_class_labels``),

so that ``skl2onnx.to_onnx`` converts them alone or inside a ``Pipeline``.
The graphs take float32 input and use standard ai.onnx ops of opset 13 or
earlier (Gemm, Sub, Div, Mul, Add, the activations, Softmax, ArgMax,
Gather); skae targets opset :data:`TARGET_OPSET`, and any ``target_opset``
from 13 works. Convolutional nets and nets built from a callable
``architecture`` have no converter: export their modules with
``torch.onnx.export``.
"""

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx._parse import _parse_sklearn_classifier
from skl2onnx.common.data_types import FloatTensorType
from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
from skl2onnx.common.utils import check_input_and_output_numbers
from skl2onnx.common.utils_classifier import get_label_classes
from sklearn.utils.validation import check_is_fitted

from ._autoencoder import AutoencoderTransformer
from ._denoising import DenoisingAutoencoder
from ._onnx_graph import (
    ACTIVATION_OPS,
    GraphWriter,
    classifier_steps,
    decoder_steps,
    emit_steps,
    encoder_steps,
)
from ._stacked import StackedAutoencoderClassifier
from ._variational import VariationalAutoencoder

__all__ = ["ACTIVATION_OPS", "TARGET_OPSET", "register_converters"]

#: The opset skae's documentation and examples export to; the converters
#: emit ops of opset 13 or earlier, so ``target_opset`` may be 13 or later.
TARGET_OPSET = 17

_AUTOENCODERS = (AutoencoderTransformer, DenoisingAutoencoder, VariationalAutoencoder)
_INVERSE_DEFAULT = {"inverse": False}
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
}


def _check_convertible(model):
    """Refuse, naming the setting, what the converters cannot express."""
    check_is_fitted(model)
    # The net the model was fitted with, whatever set_params changed since.
    built_with = getattr(model, "_net_parameters_", None) or {}
    architecture = built_with.get("architecture", getattr(model, "architecture", "mlp"))
    recipe = (
        "wrap estimator.module_.encode in a torch module and export it with "
        "torch.onnx.export(..., dynamo=False) (see 'Exporting to ONNX' in the user guide)"
    )
    if callable(architecture):
        raise NotImplementedError(
            f"{type(model).__name__} with a callable architecture has no ONNX converter: "
            f"skae cannot know what your modules compute; {recipe}."
        )
    if architecture != "mlp":
        raise NotImplementedError(
            f"{type(model).__name__}(architecture={architecture!r}) has no ONNX converter; "
            f"use architecture='mlp', or {recipe}."
        )


def _check_input(operator, n_expected, what):
    """The input must be a float32 matrix with ``n_expected`` columns (when known)."""
    model = operator.raw_operator
    input_type = operator.inputs[0].type
    if not isinstance(input_type, FloatTensorType):
        raise TypeError(
            f"skae's ONNX converter for {type(model).__name__} takes float32 input "
            f"(FloatTensorType), got {type(input_type).__name__}: convert X with "
            "X.astype(numpy.float32) before calling to_onnx."
        )
    shape = input_type.shape
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != n_expected):
        raise ValueError(
            f"The ONNX input of {type(model).__name__} has shape {list(shape)}, but the "
            f"model expects {what} with {n_expected} columns."
        )


def _is_inverse(scope, model):
    return bool(scope.get_options(model, dict(_INVERSE_DEFAULT))["inverse"])


def _autoencoder_shapes(operator):
    """Shape calculator: codes out of rows, or reconstructions out of codes."""
    model = operator.raw_operator
    _check_convertible(model)
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    if _is_inverse(operator.scope_inst, model):
        n_in, n_out, what = model.n_components_, model.n_features_in_, "codes (inverse=True)"
    else:
        n_in, n_out, what = model.n_features_in_, model.n_components_, "samples"
    _check_input(operator, n_in, what)
    n_samples = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n_samples, n_out])


def _convert_autoencoder(scope, operator, container):
    """Converter: ``transform``, or ``inverse_transform`` with ``{"inverse": True}``."""
    model = operator.raw_operator
    module = model.module_
    inverse = _is_inverse(container, model)
    steps = decoder_steps(module) if inverse else encoder_steps(module)
    graph = GraphWriter(scope, container)
    emit_steps(graph, operator.inputs[0].full_name, steps, output=operator.outputs[0].full_name)


def _classifier_shapes(operator):
    """Shape calculator: labels and probabilities, as skl2onnx's classifiers."""
    model = operator.raw_operator
    check_is_fitted(model)
    _check_input(operator, model.n_features_in_, "samples")
    calculate_linear_classifier_output_shapes(operator)


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser (``zipmap`` and friends), once fitted."""
    check_is_fitted(model)  # the parser reads classes_ before any shape calculator
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers=custom_parsers)


def _label_values(scope, model):
    """The labels ``predict`` returns, as int64 or str (skl2onnx's label types)."""
    classes = np.asarray(get_label_classes(scope, model))
    if classes.dtype.kind in "OUS":
        return classes.astype(str)
    if classes.dtype.kind == "f" and not np.all(classes == np.round(classes)):
        raise ValueError(
            f"ONNX labels are int64 or strings, but classes_ holds non-integral floats "
            f"{classes[:5]}; fit on integer or string labels to export this classifier."
        )
    # Python ints compare exactly with uint64 and float labels alike.
    int64 = np.iinfo(np.int64)
    outside = [c for c in classes.tolist() if not int64.min <= c <= int64.max]
    if outside:
        raise ValueError(
            f"ONNX labels are int64 or strings, but classes_ holds {outside[:3]}, outside "
            "int64's range; fit on smaller integers or on strings to export this classifier."
        )
    return classes.astype(np.int64)


def _convert_classifier(scope, operator, container):
    """Converter: ``predict`` (output 0) and ``predict_proba`` (output 1)."""
    model = operator.raw_operator
    label, probabilities = (output.full_name for output in operator.outputs[:2])
    graph = GraphWriter(scope, container)
    logits = emit_steps(graph, operator.inputs[0].full_name, classifier_steps(model.module_))
    graph.node("Softmax", [logits], output=probabilities, axis=1)
    # predict takes the argmax of the logits (the first one on ties, as numpy).
    index = graph.node("ArgMax", [logits], axis=1, keepdims=0)
    classes = graph.constant("classes", _label_values(scope, model))
    graph.node("Gather", [classes, index], output=label, axis=0)


def register_converters():
    """Register skae's skl2onnx converters (importing ``skae.onnx`` already does).

    Registers the shape calculators and converters of
    :class:`~skae.AutoencoderTransformer`, :class:`~skae.DenoisingAutoencoder`,
    :class:`~skae.VariationalAutoencoder` (option ``"inverse"``) and
    :class:`~skae.StackedAutoencoderClassifier` (skl2onnx's classifier
    options). Calling it again changes nothing.

    See Also
    --------
    skl2onnx.update_registered_converter : How converters are registered.
    skl2onnx.to_onnx : The conversion itself.

    Examples
    --------
    >>> import numpy as np
    >>> from onnxruntime import InferenceSession
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.onnx import TARGET_OPSET, register_converters
    >>> register_converters()  # the import above did it already
    >>> X = load_digits().data.astype(np.float32)
    >>> ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(16,),
    ...                             max_iter=2, random_state=0).fit(X)
    >>> onx = to_onnx(ae, X[:1], target_opset=TARGET_OPSET)
    >>> session = InferenceSession(onx.SerializeToString(),
    ...                            providers=["CPUExecutionProvider"])
    >>> session.run(None, {"X": X[:3]})[0].shape
    (3, 4)
    >>> onx = to_onnx(ae, np.zeros((1, 4), np.float32), target_opset=TARGET_OPSET,
    ...               options={id(ae): {"inverse": True}})
    >>> onx.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    64
    """
    for estimator in _AUTOENCODERS:
        update_registered_converter(
            estimator,
            f"Skae{estimator.__name__}",
            _autoencoder_shapes,
            _convert_autoencoder,
            options={"inverse": [False, True]},
        )
    update_registered_converter(
        StackedAutoencoderClassifier,
        "SkaeStackedAutoencoderClassifier",
        _classifier_shapes,
        _convert_classifier,
        parser=_parse_classifier,
        options=_CLASSIFIER_OPTIONS,
    )


register_converters()
