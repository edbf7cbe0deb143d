"""TorchEstimatorMixin: what every skae estimator does with its torch module.

Batched inference in the input's float dtype, the warnings that end a fit,
and pickling that carries the weights on the CPU. Shared by the
autoencoders (``BaseAutoencoder``) and ``StackedAutoencoderClassifier``.
"""

import copy
import functools
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ._training import BatchSource, predict_in_batches, resolve_device


class TorchEstimatorMixin:
    """Inference, end-of-fit warnings and pickling around ``module_``.

    Expects the fitted attributes ``module_`` and ``device_`` (a device
    name) and the parameters ``solver``, ``max_iter`` and ``early_stopping``.
    Place it right before ``BaseEstimator`` in the bases.
    """

    def _warn_on_stop(self, history, incremental):
        if history.interrupted:
            warnings.warn(
                f"Training was interrupted after {history.n_epochs} epoch(s); the "
                "model keeps the weights it had then"
                + (" (best validation epoch)." if self.early_stopping else "."),
                UserWarning,
                stacklevel=5,
            )
        elif not incremental and not history.stopped_early:
            warnings.warn(
                f"{self.solver} solver: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet. Increase max_iter, or "
                "raise tol.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _resumed_training_state(self, seed):
        """What a continued fit (``partial_fit``, ``warm_start``) trains from.

        Copies, so that an error mid-training leaves the fitted estimator as
        it was. Returns the module, its device, the History, the optimizer's
        state dict (None if the solver changed since) and the seed for this
        call, shifted by the epochs done so that every call draws a new
        batch order and new noise.
        """
        optimizer_state = None
        if self._optimizer_state is not None and self._optimizer_state[0] == self.solver:
            optimizer_state = copy.deepcopy(self._optimizer_state[1])
        history = copy.deepcopy(self._history)
        seed = (seed + history.n_epochs) % np.iinfo(np.int32).max
        module = copy.deepcopy(self.module_)
        return module, torch.device(self.device_), history, optimizer_state, seed

    # ------------------------------------------------------------- inference

    def _inference_module(self, dtype):
        """``module_`` in eval mode, computing in ``dtype``.

        Training runs in float32 for speed, but inference on float64 input
        runs in float64 (as sklearn's MLP does): then a sample's code does
        not depend, even in the last bit, on which other samples share its
        batch, and the result is as precise as the dtype the user asked for.
        """
        module = self.module_
        if dtype == np.float64:
            module = copy.deepcopy(module).to(torch.float64)
        return module.eval()

    def _infer(self, fn, X):
        """Apply ``fn(module, batch)`` to ``X`` in batches, in X's float dtype."""
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        module = self._inference_module(X.dtype)
        source = BatchSource(X, torch.device(self.device_), dtype=dtype)
        result = predict_in_batches(functools.partial(fn, module), source)
        return result.astype(X.dtype, copy=False)

    def __getstate__(self):
        state = super().__getstate__()
        module = state.get("module_")
        if module is not None and next(module.parameters()).device.type != "cpu":
            # Pickles load anywhere: weights travel on the CPU. The optimizer's
            # moments stay behind (a later partial_fit starts them afresh).
            state["module_"] = copy.deepcopy(module).cpu()
            if "_optimizer_state" in state:
                state["_optimizer_state"] = None
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        module = getattr(self, "module_", None)
        if module is None:
            return
        device = torch.device(self.device_)
        if device.type != "cpu":
            try:
                self.module_ = module.to(resolve_device(self.device_))
            except ValueError:
                warnings.warn(
                    f"This model was trained on {self.device_}, which is not "
                    "available here; it runs on the CPU.",
                    UserWarning,
                    stacklevel=2,
                )
                self.device_ = "cpu"
                if hasattr(self, "_optimizer_state"):
                    self._optimizer_state = None
