"""The training loop's fast paths give the same results as the plain ones.

Batches gathered into reused buffers equal freshly indexed ones bit for
bit; the fused optimizer steps are chosen where torch has them and are
the same from run to run and at 1 or 2 threads; the squared error's
one-pass backward gives the plain expression's values and gradients.
"""

import copy

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

import skae._training
from skae import AutoencoderTransformer
from skae._nets import MLPAutoencoder
from skae._optim import fused_or_default, make_optimizer, set_learning_rate, step_function
from skae._penalties import scaled_squared_error
from skae._tensors import BatchSource, Rows, batch_buffers, get_batch
from skae._training import TrainingConfig, fit_module

CPU = torch.device("cpu")
X = np.random.RandomState(0).rand(100, 6).astype(np.float32)
WEIGHTS = np.random.RandomState(1).rand(100).astype(np.float32) + 0.5


def _sources(weighted=False):
    arrays = (X, WEIGHTS) if weighted else (X,)
    return tuple(BatchSource(a, CPU) for a in arrays)


@pytest.mark.parametrize(
    "data",
    [X, Rows(X, np.arange(99, -1, -1)), sp.csr_matrix(X)],
    ids=["dense", "rows", "sparse"],
)
def test_buffered_batches_equal_indexed_ones(data):
    sources = (BatchSource(data, CPU), BatchSource(np.arange(100), CPU, torch.long))
    buffers = batch_buffers(sources, 32)
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    for start in range(0, 100, 32):
        index = order[start : start + 32]
        plain = get_batch(sources, start, start + len(index), index)
        buffered = get_batch(sources, start, start + len(index), index, buffers)
        for a, b in zip(plain, buffered, strict=True):
            assert torch.equal(a, b) and a.dtype == b.dtype
    # A dense source reuses its buffer; a sparse one makes a new tensor per batch.
    assert (buffers[0] is None) == sp.issparse(data)
    if buffers[0] is not None:
        assert buffered[0].data_ptr() == buffers[0].data_ptr()


def _fit(sources, solver="adam", buffered=True, monkeypatch=None, alpha_in_graph=0.0, **config):
    if not buffered:
        monkeypatch.setattr(skae._training, "batch_buffers", lambda sources, size: None)
    module = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 6))
    with torch.no_grad():  # the same start for every run, without the global RNG
        generator = torch.Generator().manual_seed(0)
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=generator) - 0.5)

    def loss_fn(module, batch):
        per_row = (module(batch[0]) - batch[0]).pow(2).mean(dim=1)
        if len(batch) == 1:
            loss, batch_len = per_row.mean(), batch[0].shape[0]
        else:
            loss, batch_len = (per_row * batch[1]).sum() / batch[1].sum(), batch[1].sum()
        if alpha_in_graph:  # the L2 penalty as part of the loss, backpropagated
            weights = [p for p in module.parameters() if p.ndim > 1]
            squares = sum(w.pow(2).sum() for w in weights)
            loss = loss + (0.5 * alpha_in_graph / batch_len) * squares
        return loss

    history = fit_module(
        module,
        loss_fn,
        sources,
        make_optimizer(solver, module.parameters(), 1e-2),
        TrainingConfig(batch_size=32, max_epochs=3, learning_rate=1e-2, tol=0.0, **config),
        torch.Generator().manual_seed(0),
    )
    return history.loss_curve, [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("weighted", [False, True])
def test_training_with_buffers_equals_training_without(weighted, monkeypatch):
    buffered = _fit(_sources(weighted), weighted=weighted)
    plain = _fit(_sources(weighted), buffered=False, monkeypatch=monkeypatch, weighted=weighted)
    assert buffered[0] == plain[0]
    for p, q in zip(buffered[1], plain[1], strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_l2_penalty_trains_as_if_backpropagated(solver, weighted):
    # The loop adds the penalty's gradient itself rather than through
    # autograd: the same weights and loss curve, bit for bit.
    direct = _fit(_sources(weighted), solver, weighted=weighted, alpha=0.3)
    in_graph = _fit(_sources(weighted), solver, weighted=weighted, alpha_in_graph=0.3)
    unpenalised = _fit(_sources(weighted), solver, weighted=weighted)
    assert direct[0] == in_graph[0] != unpenalised[0]
    for p, q in zip(direct[1], in_graph[1], strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd"])
def test_fused_steps_are_used_and_deterministic(solver):
    module = nn.Linear(3, 2)
    assert make_optimizer(solver, module.parameters(), 1e-3).param_groups[0]["fused"]
    first, again = _fit(_sources(), solver), _fit(_sources(), solver)
    assert first[0] == again[0]
    for p, q in zip(first[1], again[1], strict=True):
        assert torch.equal(p, q)


def _adam_pair():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    twin = copy.deepcopy(module)
    return (module, torch.optim.Adam(module.parameters(), lr=1e-2, fused=True)), (
        twin,
        torch.optim.Adam(twin.parameters(), lr=1e-2, fused=True),
    )


def test_adam_steps_through_the_functional_api_equal_its_own_steps(monkeypatch):
    (module, optimizer), (twin, twin_optimizer) = _adam_pair()
    own_steps, real_step = [], twin_optimizer.step
    monkeypatch.setattr(twin_optimizer, "step", lambda: own_steps.append(1) or real_step())
    fast_step = step_function(twin_optimizer)
    generator = torch.Generator().manual_seed(0)
    for step in range(8):
        gradients = [torch.randn(p.shape, generator=generator) for p in module.parameters()]
        if step == 4:
            gradients[1] = None  # a parameter without a gradient
        for net in (module, twin):
            for parameter, gradient in zip(net.parameters(), gradients, strict=True):
                parameter.grad = None if gradient is None else gradient.clone()
        if step == 6:  # a schedule's new rate is read at each step
            set_learning_rate(optimizer, 3e-3)
            set_learning_rate(twin_optimizer, 3e-3)
        optimizer.step()
        fast_step()
    # Adam's own step only to create the state and for the gradient-less step.
    assert len(own_steps) == 2
    for p, q in zip(module.parameters(), twin.parameters(), strict=True):
        assert torch.equal(p, q)
    for a, b in zip(
        optimizer.state_dict()["state"].values(),
        twin_optimizer.state_dict()["state"].values(),
        strict=True,
    ):
        assert all(torch.equal(a[key], b[key]) for key in ("step", "exp_avg", "exp_avg_sq"))


@pytest.mark.parametrize(
    "settings", [{"amsgrad": True}, {"maximize": True}, {"fused": False}], ids=str
)
def test_other_adams_and_optimizers_keep_their_own_step(settings):
    parameters = list(nn.Linear(2, 2).parameters())
    adam = torch.optim.Adam(parameters, lr=0.1, **{"fused": True, **settings})
    assert step_function(adam) == adam.step
    for solver in ("adamw", "sgd", "rmsprop"):
        optimizer = make_optimizer(solver, parameters, 0.1)
        assert step_function(optimizer) == optimizer.step


def test_fused_refused_falls_back_to_the_default_step():
    integer = [torch.zeros(3, dtype=torch.long)]  # no fused kernel: not floating point
    assert fused_or_default(torch.optim.SGD, integer, lr=0.1).param_groups[0]["fused"] is None
    fused = fused_or_default(torch.optim.Adam, list(nn.Linear(2, 2).parameters()), lr=0.1)
    assert fused.param_groups[0]["fused"] is True
    assert make_optimizer("rmsprop", nn.Linear(2, 2).parameters(), 0.1).param_groups[0].get(
        "fused"
    ) in (None, False)


def test_fused_fits_do_not_depend_on_the_thread_count():
    # 256 hidden units: above the one-thread work, so 2 threads really run.
    X_wide = np.random.RandomState(0).rand(300, 256)
    before, fits = torch.get_num_threads(), []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for solver in ("adam", "sgd"):
                ae = AutoencoderTransformer(  # the fused backward is the squared error's
                    8, hidden_layer_sizes=(256,), solver=solver, loss="mse", batch_size=200,
                    max_iter=2, random_state=0,
                )  # fmt: skip
                fits.append(ae.fit(X_wide))
    finally:
        torch.set_num_threads(before)
    for one, two in zip(fits[:2], fits[2:], strict=True):
        for p, q in zip(one.module_.parameters(), two.module_.parameters(), strict=True):
            assert torch.equal(p, q)


def _plain_scaled_squared_error(output, target, scale):
    error = output - target
    if scale is not None:
        error = error / scale
    return error.pow(2).mean(dim=1)


@pytest.mark.parametrize("scale", [None, 0.3])
def test_scaled_squared_error_equals_the_plain_expression(scale):
    generator = torch.Generator().manual_seed(0)
    target = torch.randn(9, 7, generator=generator, dtype=torch.float64)
    output = torch.randn(9, 7, generator=generator, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(9, generator=generator, dtype=torch.float64)
    scale = None if scale is None else torch.tensor(scale, dtype=torch.float64)
    fast = scaled_squared_error(output, target, scale)
    plain = _plain_scaled_squared_error(output, target, scale)
    assert torch.equal(fast, plain)  # the same forward, bit for bit
    (fast_grad,) = torch.autograd.grad((fast * weights).sum(), output)
    (plain_grad,) = torch.autograd.grad((plain * weights).sum(), output)
    torch.testing.assert_close(fast_grad, plain_grad, rtol=1e-12, atol=0)
    assert torch.autograd.gradcheck(lambda o: scaled_squared_error(o, target, scale), (output,))


def test_scaled_squared_error_differentiates_a_target_that_needs_it():
    output = torch.zeros(2, 3, requires_grad=True)
    target = torch.ones(2, 3, requires_grad=True)
    scaled_squared_error(output, target, torch.tensor(2.0)).sum().backward()
    torch.testing.assert_close(target.grad, torch.full((2, 3), 1 / 6))
    torch.testing.assert_close(output.grad, torch.full((2, 3), -1 / 6))


def test_in_place_standardisation_equals_the_plain_expression():
    generator = torch.Generator().manual_seed(0)
    net = MLPAutoencoder(6, (4,), 2, "relu", "identity")
    mean, scale = torch.rand(6, generator=generator), torch.tensor(0.7)
    offset = torch.rand(6, generator=generator)
    net.set_centre(mean, offset, scale)
    x = torch.rand(5, 6, generator=generator, dtype=torch.float32, requires_grad=True)
    # Each map writes its second step into the tensor its first one made.
    assert net._centred(x)._version == 1
    assert net._uncentred(torch.ones(5, 6))._version == 1
    code, logits = net.encode_decode(x)
    assert torch.equal(code, net.encoder((x - mean) / scale))
    assert torch.equal(logits, net.decoder(code) * scale + offset)
    # Gradients reach the input and the weights through both in-place steps.
    net.double()
    x64 = x.detach().double().requires_grad_()
    assert torch.autograd.gradcheck(lambda v: net.encode_decode(v)[1], (x64,))
    logits.sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in net.parameters())
