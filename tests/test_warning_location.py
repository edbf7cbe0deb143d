"""Every warning skae emits names the user's line, whatever the call path.

Also through scikit-learn: its ``fit_transform`` mixin, a ``Pipeline``, and
``cross_validate`` (joblib's ``Parallel``).

A warning attributed to a line inside skae escapes the user's filters by
module (``warnings.filterwarnings(..., module="my_pipeline")``) and sends
them to read skae's source to learn which of their calls it came from.
"""

import pickle
import re
import warnings
from pathlib import Path

import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from test_invariants import ESTIMATORS

import skae
from skae import VariationalAutoencoder

SKAE_SOURCES = Path(skae.__file__).resolve().parent


@pytest.fixture
def data(digits_raw):
    X, y = digits_raw
    return X[:120] / 16, y[:120]


def _assert_from_here(record, category):
    caught = [w for w in record if issubclass(w.category, category)]
    assert caught, f"no {category.__name__}"
    assert {Path(w.filename).resolve() for w in caught} == {Path(__file__).resolve()}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_fit_that_stops_at_max_iter_warns_at_the_fit_call(name, data):
    estimator = clone(ESTIMATORS[name])  # tol=0: every fit runs to max_iter
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        estimator.fit(*data)
        estimator.set_params(warm_start=True).fit(*data)
        if hasattr(estimator, "fit_transform"):  # scikit-learn's mixin calls fit
            estimator.fit_transform(*data)
        make_pipeline(clone(estimator)).fit(*data)  # and so does a Pipeline
        cross_validate(clone(estimator), *data, cv=2)  # through joblib's Parallel
    assert len(record) >= 3
    _assert_from_here(record, ConvergenceWarning)


def test_score_and_score_samples_warn_at_their_call_when_they_clip(data):
    model = VariationalAutoencoder(
        3, hidden_layer_sizes=(8,), loss="bce", output_activation="sigmoid", max_iter=2, tol=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data[0])
    outside = data[0] * 2
    for score in (model.score_samples, model.score, make_pipeline(model).score):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            score(outside)
        _assert_from_here(record, UserWarning)


def test_the_float32_rounding_warning_is_at_the_fit_call(data):
    model = clone(ESTIMATORS["autoencoder"])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(1e7 + data[0])
        model.fit_transform(1e7 + data[0])
        make_pipeline(clone(model)).fit(1e7 + data[0])
    assert sum("rounds them to float32" in str(w.message) for w in record) == 3
    _assert_from_here(record, UserWarning)


def test_a_model_of_another_version_and_device_warns_where_it_is_loaded(
    data, monkeypatch, tmp_path
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = clone(ESTIMATORS["autoencoder"]).fit(data[0])
    path = tmp_path / "model.skae"
    with monkeypatch.context() as old_machine:  # skae 0.0.1 on a machine with a GPU
        old_machine.setattr(skae._state, "skae_version", lambda: "0.0.1")
        old_machine.setattr(fitted, "device_", "cuda:9")
        pickled = pickle.dumps(fitted)
        skae.save(fitted, path)
    for load in (lambda: pickle.loads(pickled), lambda: skae.load(path)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            load()
        _assert_from_here(record, skae.SkaeVersionWarning)
        if not torch.cuda.is_available():
            _assert_from_here(record, UserWarning)


def test_every_warning_in_skae_goes_through_warn_at_caller():
    direct = [
        f"{path.name}:{number}"
        for path in SKAE_SOURCES.glob("*.py")
        if path.name != "_warnings.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bwarnings\.warn\(|from warnings import", line)
        and not line.lstrip().startswith((">>>", "..."))
    ]
    assert not direct, f"warnings.warn with a fixed stacklevel at {direct}"
