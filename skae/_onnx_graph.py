"""skae's torch nets as ONNX nodes, for the skl2onnx converters of ``skae.onnx``.

A fitted net is first read into *steps*, plain float32 NumPy data in the
order the forward pass applies them: ``("linear", weight, bias)`` with
``weight`` of shape (n_in, n_out), ``("activation", module)``,
``("centre", mean, scale)`` (``(x - mean) / scale``) and ``("uncentre",
scale, offset)`` (``x * scale + offset``). :func:`emit_steps` then writes
them as standard ai.onnx nodes, op for op as torch computes them, so that
onnxruntime reproduces skae's float32 outputs to rounding.
"""

import math

import numpy as np
from onnx import TensorProto
from onnx.helper import np_dtype_to_tensor_dtype
from torch import nn

from ._layers import TiedDecoder
from ._nets import GaussianAutoencoder

__all__ = [
    "ACTIVATION_OPS",
    "GraphWriter",
    "classifier_steps",
    "decoder_steps",
    "emit_steps",
    "encoder_steps",
]

# The ONNX op of each activation module skae builds (see _layers.ACTIVATIONS).
_NATIVE_OPS = {nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid"}

# What each activation becomes, for the documentation and the tests.
ACTIVATION_OPS = {
    nn.Identity: "nothing (the value passes through)",
    nn.ReLU: "Relu",
    nn.Tanh: "Tanh",
    nn.Sigmoid: "Sigmoid",
    nn.ELU: "Elu (alpha from the module)",
    nn.LeakyReLU: "LeakyRelu (alpha = negative_slope)",
    nn.GELU: "0.5 * x * (1 + Erf(x / sqrt(2))): Mul, Erf, Add, Mul, Mul",
}

# Initializer names of the two arrays of each kind of step.
_HINTS = {"linear": ("W", "B"), "centre": ("mean", "scale"), "uncentre": ("scale", "offset")}


class GraphWriter:
    """Adds uniquely named constants and nodes to a skl2onnx container."""

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def constant(self, hint, array):
        """Store ``array`` (numeric, or an array of str) as an initializer; its name."""
        name = self.scope.get_unique_variable_name(hint)
        array = np.asarray(array)
        if array.dtype.kind in "OUS":
            values = [str(value).encode("utf-8") for value in array.ravel()]
            self.container.add_initializer(name, TensorProto.STRING, list(array.shape), values)
        else:
            onnx_type = np_dtype_to_tensor_dtype(array.dtype)
            self.container.add_initializer(name, onnx_type, list(array.shape), array.ravel())
        return name

    def node(self, op_type, inputs, output=None, **attributes):
        """Add an ``op_type`` node; the name of its output (new unless ``output``)."""
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            list(inputs),
            [output],
            name=self.scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output


def _float32(tensor):
    return tensor.detach().cpu().numpy().astype(np.float32)


def _scalar(value):
    return np.asarray(value, dtype=np.float32)


def _gelu(graph, x):
    # torch's exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))), computed in that order.
    scaled = graph.node("Mul", [x, graph.constant("inv_sqrt2", _scalar(1 / math.sqrt(2)))])
    one_plus_erf = graph.node(
        "Add", [graph.node("Erf", [scaled]), graph.constant("one", _scalar(1.0))]
    )
    half_x = graph.node("Mul", [x, graph.constant("half", _scalar(0.5))])
    return graph.node("Mul", [half_x, one_plus_erf])


def _emit_activation(graph, x, module):
    kind = type(module)
    if kind is nn.Identity:
        return x
    if kind in _NATIVE_OPS:
        return graph.node(_NATIVE_OPS[kind], [x])
    if kind is nn.ELU:
        return graph.node("Elu", [x], alpha=float(module.alpha))
    if kind is nn.LeakyReLU:
        return graph.node("LeakyRelu", [x], alpha=float(module.negative_slope))
    if kind is nn.GELU and module.approximate == "none":
        return _gelu(graph, x)
    raise NotImplementedError(f"skae.onnx has no ONNX conversion for the activation {module!r}.")


def emit_steps(graph, x, steps, output=None):
    """Write ``steps`` applied to the variable ``x``; the name of the result.

    When ``output`` is given, an Identity node copies the result to it.
    """
    for kind, *data in steps:
        if kind == "activation":
            x = _emit_activation(graph, x, data[0])
            continue
        first, second = (
            graph.constant(hint, array) for hint, array in zip(_HINTS[kind], data, strict=True)
        )
        if kind == "linear":
            x = graph.node("Gemm", [x, first, second])
        elif kind == "centre":
            x = graph.node("Div", [graph.node("Sub", [x, first]), second])
        else:  # "uncentre"
            x = graph.node("Add", [graph.node("Mul", [x, first]), second])
    if output is not None:
        x = graph.node("Identity", [x], output=output)
    return x


def _linear(layer):
    # F.linear(x, W, b) = x @ W.T + b: a Gemm with the (n_in, n_out) matrix W.T.
    return ("linear", _float32(layer.weight).T.copy(), _float32(layer.bias))


def _sequential_steps(sequential, part):
    """Steps of an ``nn.Sequential`` of ``Linear`` layers and activations."""
    if not isinstance(sequential, nn.Sequential):
        raise NotImplementedError(
            f"skae.onnx converts fully connected nets only, but this {part} is a "
            f"{type(sequential).__name__}."
        )
    return [
        _linear(layer) if isinstance(layer, nn.Linear) else ("activation", layer)
        for layer in sequential
    ]


def encoder_steps(module):
    """Steps from the input to the code of an MLP autoencoder (the posterior mean of a VAE)."""
    steps = _sequential_steps(module.encoder, "encoder")
    if isinstance(module, GaussianAutoencoder):
        # The last layer outputs (mean, log-variance): keep the mean's columns.
        index = max(i for i, step in enumerate(steps) if step[0] == "linear")
        _, weight, bias = steps[index]
        k = module.n_components
        steps[index] = ("linear", weight[:, :k].copy(), bias[:k].copy())
    if module.input_mean is not None:
        centre = ("centre", _float32(module.input_mean), _float32(module.data_scale))
        steps.insert(0, centre)
    return steps


def _tied_steps(decoder):
    # Layer by layer, F.linear(h, W.t(), b) = h @ W + b, activations in between.
    steps = []
    for i, (layer, bias) in enumerate(zip(reversed(decoder._tied), decoder.biases, strict=True)):
        if i:
            steps.append(("activation", decoder.activation))
        steps.append(("linear", _float32(layer.weight), _float32(bias)))
    return steps


def decoder_steps(module):
    """Steps from a code to the reconstruction (``inverse_transform``)."""
    if isinstance(module.decoder, TiedDecoder):
        steps = _tied_steps(module.decoder)
    else:
        steps = _sequential_steps(module.decoder, "decoder")
    if module.output_offset is not None:
        steps.append(("uncentre", _float32(module.data_scale), _float32(module.output_offset)))
    steps.append(("activation", module.output_activation))
    return steps


def _normalised_linear(layer, norm):
    """A ``Linear`` layer followed by an inference-mode batch norm, as one Gemm step.

    At inference the norm is affine, ``(z - mean) * s + beta`` with ``s =
    gamma / sqrt(var + eps)``: folded into the layer's weights and bias
    (in float64, then rounded to float32).
    """
    if norm is None:
        return _linear(layer)
    weight, bias = (t.detach().cpu().double().numpy() for t in (layer.weight, layer.bias))
    mean, var, gamma, beta = (
        t.detach().cpu().double().numpy()
        for t in (norm.running_mean, norm.running_var, norm.weight, norm.bias)
    )
    scale = gamma / np.sqrt(var + norm.eps)
    folded_weight = (weight * scale[:, None]).T.astype(np.float32)
    return ("linear", folded_weight.copy(), ((bias - mean) * scale + beta).astype(np.float32))


def classifier_steps(net):
    """Steps from the input to the class logits of a :class:`~skae._classifier_net.StackedNet`.

    Dropout and Gaussian noise are training-time noise only, so inference
    has none; batch norms (``batch_norm=True``) fold into their layers.
    """
    norms = list(net.norms) if hasattr(net, "norms") else [None] * (len(net.hidden) + 1)
    steps = []
    for layer, norm in zip(net.hidden, norms[:-1], strict=True):
        steps += [_normalised_linear(layer, norm), ("activation", net.activation)]
    return [*steps, _normalised_linear(net.head, norms[-1])]
