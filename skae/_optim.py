"""Optimizers and learning-rate schedules of the training loop (torch only)."""

import math

import torch
from torch.optim.adam import adam

__all__ = [
    "LBFGS_STEP",
    "LEARNING_RATE_SCHEDULES",
    "SOLVERS",
    "CosineSchedule",
    "current_learning_rate",
    "fused_or_default",
    "make_optimizer",
    "schedule_for_call",
    "set_learning_rate",
    "step_function",
]

SOLVERS = ("adam", "adamw", "sgd", "rmsprop", "lbfgs")
LEARNING_RATE_SCHEDULES = ("plateau", "constant", "adaptive", "cosine")
LBFGS_ITERATIONS_PER_EPOCH = 20
LBFGS_STEP = 1.0  # the step its line search starts from (torch's default)
# sklearn's "adaptive" schedule: divide by 5 on a plateau, stop below 1e-6.
ADAPTIVE_FACTOR = 5.0
ADAPTIVE_MIN_LEARNING_RATE = 1e-6
# The default "plateau" schedule: divide by 5 on the first two plateaus of a
# fit, stop at the third (measured on digits: benchmarks/defaults.py).
PLATEAU_REDUCTIONS = 2


def make_optimizer(solver, parameters, learning_rate):
    """Optimizer called ``solver`` ("adam", "sgd", "rmsprop", "adamw", "lbfgs").

    ``learning_rate`` is ignored by "lbfgs", whose line search sets the steps.
    Adam, AdamW and SGD use torch's fused kernels where the parameters'
    device has them (:func:`fused_or_default`).
    """
    parameters = list(parameters)
    if solver == "adam":
        return fused_or_default(torch.optim.Adam, parameters, lr=learning_rate)
    if solver == "adamw":
        return fused_or_default(torch.optim.AdamW, parameters, lr=learning_rate)
    if solver == "sgd":
        # sklearn's MLP defaults: momentum 0.9 with Nesterov.
        return fused_or_default(
            torch.optim.SGD, parameters, lr=learning_rate, momentum=0.9, nesterov=True
        )
    if solver == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=learning_rate)
    if solver == "lbfgs":
        # An epoch is one step of up to 20 L-BFGS iterations (torch's
        # default): torch's L-BFGS barely progresses when each step() is
        # limited to a single iteration. Like sklearn's MLP, L-BFGS ignores
        # the learning rate: the strong Wolfe line search sets every step.
        return torch.optim.LBFGS(
            parameters,
            lr=LBFGS_STEP,
            max_iter=LBFGS_ITERATIONS_PER_EPOCH,
            line_search_fn="strong_wolfe",
        )
    raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")


def fused_or_default(optimizer_class, parameters, **settings):
    """``optimizer_class(parameters, fused=True, **settings)``, or without ``fused`` if refused.

    The fused step updates each parameter and its moments in one pass, where
    torch's default on the CPU runs about eight whole-tensor operations per
    parameter: on MNIST 784-256-64 at batch 256, Adam's step took 226 us
    instead of 642 us, about a twelfth of a training step
    (benchmarks/step_costs.py). It
    is elementwise, so its result does not depend on the thread count, and
    it is the same from run to run. torch refuses it for parameters on a
    device without fused kernels, or not floating point: those get the
    default implementation.
    """
    if parameters and all(p.is_floating_point() for p in parameters):
        try:
            return optimizer_class(parameters, fused=True, **settings)
        except RuntimeError:  # no fused kernel for this device
            pass
    return optimizer_class(parameters, **settings)


def step_function(optimizer):
    """A function that does ``optimizer.step()``, with less Python per call for a fused Adam.

    ``Adam.step`` spends about a third of its time around its fused kernel
    (hooks, the profiler's record, gathering the state lists again each
    step): 226 us per step on MNIST 784-256-64 at batch 256, of which the
    kernel takes 154 (benchmarks/step_costs.py). A plain fused ``Adam`` (one parameter group, no
    AMSGrad, ``maximize``, capturable or differentiable mode, a float
    learning rate) steps instead through torch's functional
    :func:`torch.optim.adam.adam` with the state lists kept between steps:
    183 us, the same kernel, the same result bit for bit
    (tests/test_speed_paths.py). Any other optimizer gets its own ``step``.
    """
    groups = optimizer.param_groups
    if type(optimizer) is torch.optim.Adam and len(groups) == 1 and _plain_fused(groups[0]):
        return _FusedAdamStep(optimizer)
    return optimizer.step


def _plain_fused(group):
    unusual = ("amsgrad", "maximize", "capturable", "differentiable", "decoupled_weight_decay")
    return (
        bool(group.get("fused"))
        and not any(group.get(setting) for setting in unusual)
        and not torch.is_tensor(group["lr"])
    )


class _FusedAdamStep:
    """``optimizer.step()`` of a plain fused Adam (see :func:`step_function`)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.group = optimizer.param_groups[0]
        self.params = list(self.group["params"])
        self.state_lists = None  # once every parameter has its state

    def __call__(self):
        gradients = [parameter.grad for parameter in self.params]
        if self.state_lists is None or any(gradient is None for gradient in gradients):
            # Adam's own step creates the state at the first step and skips
            # the parameters without a gradient.
            self.optimizer.step()
            self.state_lists = self._state_lists()
            return
        exp_avgs, exp_avg_sqs, steps = self.state_lists
        beta1, beta2 = self.group["betas"]
        with torch.no_grad():
            adam(
                self.params, gradients, exp_avgs, exp_avg_sqs, [], steps,
                fused=True, amsgrad=False, beta1=beta1, beta2=beta2, lr=self.group["lr"],
                weight_decay=self.group["weight_decay"], eps=self.group["eps"], maximize=False,
            )  # fmt: skip

    def _state_lists(self):
        states = [self.optimizer.state.get(parameter) for parameter in self.params]
        if not all(states):
            return None
        return tuple([state[key] for state in states] for key in ("exp_avg", "exp_avg_sq", "step"))


def schedule_for_call(learning_rate, incremental):
    """The schedule one call trains with: ``partial_fit`` has nothing to anneal.

    A "cosine" schedule spans the epochs of one call; ``partial_fit`` trains
    a single epoch per call, so it keeps the rate constant instead.
    """
    return "constant" if incremental and learning_rate == "cosine" else learning_rate


def set_learning_rate(optimizer, learning_rate):
    """Set the learning rate of every parameter group of ``optimizer``."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate


def current_learning_rate(optimizer):
    """The learning rate ``optimizer`` uses now (of its first group)."""
    return optimizer.param_groups[0]["lr"]


class CosineSchedule:
    """Cosine annealing from ``base`` to 0 over ``n_steps`` batches.

    Updated before every batch rather than every epoch, so that a run of a
    few epochs still decays smoothly.
    """

    def __init__(self, optimizer, base, n_steps):
        self.optimizer = optimizer
        self.base = base
        self.n_steps = n_steps
        self.step = 0

    def before_batch(self):
        """Set the rate of the next batch."""
        progress = min(self.step / self.n_steps, 1.0)
        set_learning_rate(self.optimizer, self.base * 0.5 * (1.0 + math.cos(math.pi * progress)))
        self.step += 1
