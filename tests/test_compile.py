"""``compile=True``: training through torch.compile, never stored in the fitted state.

Compiling costs seconds the first time in a process (later fits with
same-shaped nets reuse the compiled code), so the default run compiles one
small autoencoder; the slow run compiles every estimator.
"""

import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
)

# torch.compile's CPU backend builds C++ (the compiler named by $CXX, else g++).
needs_cxx = pytest.mark.skipif(
    shutil.which(os.environ.get("CXX", "g++")) is None, reason="needs a C++ compiler"
)
SMALL = dict(hidden_layer_sizes=(16,), max_iter=3, batch_size=64, random_state=0)


def _output(estimator, X):
    if isinstance(estimator, StackedAutoencoderClassifier):
        return estimator.predict_proba(X)
    return estimator.transform(X)


def _fit(estimator, X, y):
    if isinstance(estimator, StackedAutoencoderClassifier):
        return estimator.fit(X, y)
    return estimator.fit(X)


def _holds_compiled_code(value):
    """Whether ``value`` is (or wraps) something torch.compile made."""
    return type(value).__module__.startswith("torch._dynamo") or (
        hasattr(value, "_torchdynamo_orig_callable")
    )


def _check_compiled_fit(estimator, X, y):
    """Compiled and plain fits agree to rounding; nothing compiled is kept."""
    compiled = _fit(clone(estimator).set_params(compile=True), X, y)
    plain = _fit(clone(estimator).set_params(compile=False), X, y)
    np.testing.assert_allclose(_output(compiled, X), _output(plain, X), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(compiled.loss_curve_, plain.loss_curve_, rtol=1e-4)
    assert type(compiled.module_) is type(plain.module_)
    assert not any(_holds_compiled_code(value) for value in vars(compiled).values())
    assert not any(_holds_compiled_code(m) for m in compiled.module_.modules())
    # The same seed gives the same model again, and a pickle round trip keeps it.
    again = _fit(clone(compiled), X, y)
    np.testing.assert_array_equal(_output(again, X), _output(compiled, X))
    restored = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_array_equal(_output(restored, X), _output(compiled, X))
    assert restored.get_params()["compile"] is True
    return compiled


@needs_cxx
def test_compiled_training_matches_plain_training_and_stores_nothing_compiled(
    digits_unit_split, monkeypatch
):
    X_train, _, y_train, _ = digits_unit_split
    compiled_functions = []
    real_compile = torch.compile

    def recording_compile(fn, *args, **kwargs):
        compiled_functions.append(fn)
        return real_compile(fn, *args, **kwargs)

    monkeypatch.setattr(torch, "compile", recording_compile)
    _check_compiled_fit(AutoencoderTransformer(4, **SMALL), X_train[:300], y_train[:300])
    # Two compiled fits (the fit and its rerun), none for the plain one.
    assert len(compiled_functions) == 2


@needs_cxx
@pytest.mark.slow
@pytest.mark.parametrize(
    "estimator",
    [
        AutoencoderTransformer(4, tied_weights=True, pretrain_max_iter=1, **SMALL),
        DenoisingAutoencoder(4, **SMALL),
        VariationalAutoencoder(4, **SMALL),
        StackedAutoencoderClassifier(pretrain_max_iter=1, **SMALL),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_every_estimator_trains_compiled(estimator, digits_unit_split):
    X_train, _, y_train, _ = digits_unit_split
    _check_compiled_fit(estimator, X_train[:300], y_train[:300])


def test_compile_must_be_a_bool(digits_unit):
    with pytest.raises(InvalidParameterError, match="'compile' parameter"):
        AutoencoderTransformer(compile="yes").fit(digits_unit[:50])


def test_a_failure_while_compiled_says_so_and_leaves_the_fit_as_it_was(digits_unit, monkeypatch):
    X = digits_unit[:200]
    fitted = AutoencoderTransformer(2, **SMALL).fit(X)
    codes = fitted.transform(X)

    def failing_compile(fn):
        def compiled(*args):
            raise RuntimeError("the backend failed")

        return compiled

    monkeypatch.setattr(torch, "compile", failing_compile)
    with pytest.raises(RuntimeError, match="the backend failed") as caught:
        fitted.set_params(compile=True).fit(X)
    if hasattr(caught.value, "__notes__"):  # Python >= 3.11
        assert "compile=False" in caught.value.__notes__[0]
    np.testing.assert_array_equal(fitted.transform(X), codes)


@pytest.mark.parametrize("cls", [AutoencoderTransformer, DenoisingAutoencoder])
def test_the_contractive_penalty_through_autograd_is_refused_before_training(
    cls, digits_unit, monkeypatch
):
    # Its Jacobian needs autograd's double backward, which torch.compile
    # lacks: every compiled fit failed on its first batch. Refused before
    # anything is compiled or trained, pretraining included; the fitted
    # model stays as it was.
    X = digits_unit[:200]
    fitted = cls(2, **SMALL).fit(X)
    codes = fitted.transform(X)
    monkeypatch.setattr(torch, "compile", lambda fn: pytest.fail("compiled"))
    for extra in ({}, {"pretrain_max_iter": 1}):
        fitted.set_params(compile=True, contractive_weight=0.1, **extra)
        with pytest.raises(ValueError, match="compile=True cannot train contractive_weight=0.1"):
            fitted.fit(X)
        np.testing.assert_array_equal(fitted.transform(X), codes)


@needs_cxx
def test_the_contractive_closed_form_trains_compiled(digits_unit):
    closed_form = dict(SMALL, hidden_layer_sizes=(), code_activation="logistic")
    _check_compiled_fit(AutoencoderTransformer(2, contractive_weight=0.1, **closed_form),
                        digits_unit[:200], None)  # fmt: skip
