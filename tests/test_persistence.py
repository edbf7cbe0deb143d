"""Saving and loading: skae.save/skae.load, pickle, skops and mlflow.

Every round trip, over every estimator class, keeps the parameters, every
fitted attribute, the outputs bit for bit and the optimizer's state, so
that training goes on exactly as it would have. Damaged files, other format
versions and other skae versions are refused or warned about.
"""

import copy
import dataclasses
import json
import os
import pickle
import re
import warnings

import numpy as np
import pytest
import sklearn
import torch
from mae_autoencoder import MAEAutoencoder
from safetensors import safe_open
from sklearn.base import ClassifierMixin, clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from test_invariants import ESTIMATORS, net_changing_parameters
from torch import nn

import skae
from skae._persistence import _write_file
from skae._training import History

# ----------------------------------------------------------------- helpers


@pytest.fixture(params=list(ESTIMATORS))
def estimator(request):
    return clone(ESTIMATORS[request.param])


@pytest.fixture(scope="module")
def data(digits_raw):
    X, y = digits_raw
    return X[:120] / 16, y[:120]


def _save_and_load(estimator, tmp_path, **load_options):
    path = tmp_path / "model.skae"
    skae.save(estimator, path)
    return skae.load(path, trusted=[MAEAutoencoder], **load_options)


def _skops_round_trip(estimator, tmp_path):
    sio = pytest.importorskip("skops.io")
    dumped = sio.dumps(estimator)
    # The trusted list the user guide documents: the estimator's class only.
    untrusted = sio.get_untrusted_types(data=dumped)
    assert untrusted == [f"{type(estimator).__module__}.{type(estimator).__name__}"]
    return sio.loads(dumped, trusted=untrusted)


ROUND_TRIPS = {
    "save_load": _save_and_load,
    "pickle": lambda estimator, tmp_path: pickle.loads(pickle.dumps(estimator)),
    "skops": _skops_round_trip,
}


def _outputs(estimator, X):
    """Everything the fitted estimator computes from X, in float64 and float32."""
    outputs = []
    for X_typed in (X, X.astype(np.float32)):
        outputs.append(estimator.transform(X_typed))
        if isinstance(estimator, ClassifierMixin):
            outputs.append(estimator.predict_proba(X_typed))
        else:
            outputs += [estimator.score_samples(X_typed), estimator.inverse_transform(outputs[0])]
    return outputs


def _assert_same(a, b, where="state"):
    """``a`` and ``b`` equal bit for bit, with the same types, all the way down."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, torch.Tensor):
        # Restored optimizer tensors live on the CPU until training loads them.
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a.cpu(), b.cpu()), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (item_a, item_b) in enumerate(zip(a, b, strict=True)):
            _assert_same(item_a, item_b, f"{where}[{i}]")
    elif isinstance(a, History):
        _assert_same(dataclasses.asdict(a), dataclasses.asdict(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def _assert_same_model(original, restored, X):
    _assert_same(original.get_params(), restored.get_params(), "get_params()")
    fitted = {k: v for k, v in vars(original).items() if k.endswith("_") and k != "module_"}
    fitted |= {"_history": original._history, "_optimizer_state": original._optimizer_state}
    for name, value in fitted.items():
        _assert_same(value, getattr(restored, name), name)
    _assert_same(original.module_.state_dict(), restored.module_.state_dict(), "module_")
    _assert_same(_outputs(original, X), _outputs(restored, X), "outputs")


def _continue_training(estimator, X, y):
    """partial_fit, then a warm-started fit: both go on from the fitted state."""
    estimator.partial_fit(X, y)
    return estimator.set_params(warm_start=True, max_iter=2).fit(X, y)


def _rewrite(path, edit=None, **changes):
    """Rewrite the skae file ``path`` with metadata ``changes``, checksummed anew.

    ``edit``, if given, maps the metadata (a dict of strings) to new metadata.
    """
    with safe_open(path, framework="np") as file:
        metadata = file.metadata()
        arrays = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    metadata.pop("checksum")
    metadata = edit(metadata) if edit else metadata
    _write_file(str(path), {**metadata, **changes}, arrays)


# ------------------------------------------------------------- round trips


@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS))
def test_round_trip_keeps_everything_and_training_goes_on(estimator, data, tmp_path, round_trip):
    X, y = data
    fitted = estimator.fit(X, y)
    restored = ROUND_TRIPS[round_trip](fitted, tmp_path)
    _assert_same_model(fitted, restored, X)
    # The optimizer's state travels too: continued training is bit-identical.
    _assert_same_model(_continue_training(fitted, X, y), _continue_training(restored, X, y), X)


@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS))
def test_a_model_saved_after_set_params_keeps_the_net_it_was_fitted_with(
    estimator, data, tmp_path, round_trip
):
    X, y = data
    fitted = estimator.fit(X, y)
    outputs = _outputs(fitted, X)
    fitted.set_params(**net_changing_parameters(fitted))  # no refit
    restored = ROUND_TRIPS[round_trip](fitted, tmp_path)
    _assert_same(outputs, _outputs(restored, X), "outputs")
    _assert_same(fitted.get_params(), restored.get_params(), "get_params()")


def test_pickled_state_is_numpy_and_plain_python(estimator, data):
    X, y = data
    state = estimator.fit(X, y).__getstate__()
    plain = (type(None), bool, int, float, str, list, tuple, dict, np.ndarray)

    def check(value, where):
        assert isinstance(value, plain), f"{where} is a {type(value).__name__}"
        if isinstance(value, list | tuple | dict):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                check(item, f"{where}[{key!r}]")

    check(state, "state")
    assert state["_skae_version"] == skae.__version__ and state["device_"] == "cpu"
    assert set(state["module_"]) == set(estimator.module_.state_dict())


def test_unfitted_estimator_saves_its_parameters(estimator, tmp_path):
    estimator.set_params(random_state=np.random.RandomState(3), device=torch.device("cpu"))
    restored = _save_and_load(estimator, tmp_path)
    params, restored_params = estimator.get_params(), restored.get_params()
    original_rng, restored_rng = params.pop("random_state"), restored_params.pop("random_state")
    _assert_same(params, restored_params, "get_params()")  # torch.device("cpu") included
    _assert_same(original_rng.get_state(), restored_rng.get_state(), "random_state")
    with pytest.raises(NotFittedError):
        check_is_fitted(restored)


def test_feature_names_and_non_finite_floats_are_stored_as_json(data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = data
    frame = pd.DataFrame(X, columns=[f"pixel {i}" for i in range(X.shape[1])])
    fitted = clone(ESTIMATORS["autoencoder"]).fit(frame)
    path = tmp_path / "model.skae"
    skae.save(fitted, path)
    with safe_open(path, framework="np") as file:
        text = file.metadata()["state"]

    def refuse(constant):
        raise AssertionError(f"bare {constant} in the JSON")

    state = json.loads(text, parse_constant=refuse)  # strict JSON: no NaN/Infinity
    assert state["_history"]["best_validation_score"] == {"__float__": "-inf"}
    restored = skae.load(path)
    _assert_same(fitted.feature_names_in_, restored.feature_names_in_)
    np.testing.assert_array_equal(fitted.transform(frame), restored.transform(frame))


@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS))
def test_metadata_requests_round_trip(data, tmp_path, round_trip):
    X, y = data
    with sklearn.config_context(enable_metadata_routing=True):
        fitted = clone(ESTIMATORS["classifier"]).set_fit_request(sample_weight=True)
        fitted.set_score_request(sample_weight="weights").fit(X, y)
        restored = ROUND_TRIPS[round_trip](fitted, tmp_path)
        expected = fitted.get_metadata_routing()._serialize()
        assert restored.get_metadata_routing()._serialize() == expected
    _assert_same_model(fitted, restored, X)


def test_a_state_pickled_by_an_older_skae_still_loads(estimator, data):
    X, y = data
    fitted = estimator.fit(X, y)
    legacy = copy.deepcopy(vars(fitted))  # torch objects, no version: older pickles
    del legacy["compile"]  # a parameter newer than the state takes its default
    restored = type(fitted).__new__(type(fitted))
    with pytest.warns(skae.SkaeVersionWarning, match="unknown version"):
        restored.__setstate__(legacy)
    _assert_same_model(fitted, restored, X)
    assert restored.get_params() == fitted.get_params()


# ---------------------------------------------------- damaged files, versions


@pytest.fixture
def saved(data, tmp_path):
    path = tmp_path / "model.skae"
    skae.save(clone(ESTIMATORS["variational"]).fit(*data), path)
    return path


def test_a_corrupted_byte_anywhere_is_refused(saved):
    content = saved.read_bytes()
    # Header length, JSON header and metadata, tensor bytes, last byte.
    for position in {3, *np.linspace(0, len(content) - 1, 200).astype(int).tolist()}:
        corrupted = bytearray(content)
        corrupted[position] ^= 0x01
        saved.write_bytes(bytes(corrupted))
        with pytest.raises(ValueError, match=re.escape(str(saved)) + ".*(corrupted|format)"):
            skae.load(saved)


@pytest.mark.parametrize("keep", [0, 7, 100, 0.5, -1])
def test_a_truncated_file_is_refused(saved, keep):
    content = saved.read_bytes()
    saved.write_bytes(content[: int(keep * len(content)) if isinstance(keep, float) else keep])
    with pytest.raises(ValueError, match=re.escape(str(saved)) + ".*(truncated|corrupted)"):
        skae.load(saved)


def _without(field):
    return lambda metadata: {key: value for key, value in metadata.items() if key != field}


def _edited_state(edit):
    return lambda metadata: {**metadata, "state": json.dumps(edit(json.loads(metadata["state"])))}


# Files an editor could write: the checksum, recomputed, matches.
EDITED_FILES = {
    "no estimator field": (_without("estimator"), "without its estimator field"),
    "no state field": (_without("state"), "without its state field"),
    "state not a mapping": (_edited_state(lambda state: [1, 2]), "not a mapping"),
    "relabelled as another class": (
        lambda m: {**m, "estimator": "skae.DenoisingAutoencoder"},
        r"parameters \[.*'beta'.*\] that DenoisingAutoencoder does not have",
    ),
    "a method replaced": (
        _edited_state(lambda state: {**state, "transform": "oops"}),
        r"replace VariationalAutoencoder's own \['transform'\]",
    ),
    "fitted without its net": (
        _edited_state(lambda state: {k: v for k, v in state.items() if k != "module_"}),
        "fitted VariationalAutoencoder without its net",
    ),
    "metadata requests for a missing method": (
        _edited_state(
            lambda state: {**state, "_metadata_request": {"__metadata_request__": {"bogus": {}}}}
        ),
        "metadata requests for a method 'bogus'",
    ),
    # The net is rebuilt from the parameters it was built with: fitted
    # attributes edited apart from it must not load into a model whose
    # transform and get_feature_names_out disagree.
    "n_components_ apart from the net": (
        _edited_state(lambda state: {**state, "n_components_": 5}),
        "n_components_ says 5 codes, the net gives 3",
    ),
    "n_features_in_ apart from the net": (
        _edited_state(lambda state: {**state, "n_features_in_": 7}),
        "weights that do not fit the net",
    ),
    "metadata requests malformed": (
        _edited_state(lambda state: {**state, "_metadata_request": {"__metadata_request__": 5}}),
        "state skae cannot restore",
    ),
}


def test_a_state_without_a_parameter_loads_with_its_default(saved, data):
    # Files of an older skae lack newer parameters, and an editable install
    # or a source tree reports one version string for every commit: no
    # version test can tell them apart, so a missing parameter is no edit.
    _rewrite(saved, _edited_state(lambda state: {k: v for k, v in state.items() if k != "beta"}))
    restored = skae.load(saved)
    assert restored.beta == skae.VariationalAutoencoder().beta
    assert restored.transform(data[0]).shape == (len(data[0]), 3)


class _WithClassLevelDefault(skae.AutoencoderTransformer):
    _fits = 0  # a class-level default that fit shadows on the instance
    label = "plain"

    def fit(self, X, y=None, **fit_params):
        self._fits += 1
        return super().fit(X, y, **fit_params)


class _WithAnExtraColumn(skae.AutoencoderTransformer):
    def transform(self, X):
        codes = super().transform(X)
        return np.hstack([codes, np.zeros((len(codes), 1))])


def test_a_trusted_class_whose_transform_adds_a_column_loads(data, tmp_path):
    # load measures the code width through the net, not through a
    # transform that a subclass may override.
    path = tmp_path / "model.skae"
    fitted = _WithAnExtraColumn(2, max_iter=2, random_state=0).fit(data[0])
    skae.save(fitted, path)
    restored = skae.load(path, trusted=[_WithAnExtraColumn])
    np.testing.assert_array_equal(restored.transform(data[0]), fitted.transform(data[0]))


def test_a_trusted_class_with_class_level_defaults_loads(data, tmp_path):
    path = tmp_path / "model.skae"
    fitted = _WithClassLevelDefault(2, max_iter=2, random_state=0).fit(data[0])
    fitted.label = "mine"
    skae.save(fitted, path)
    restored = skae.load(path, trusted=[_WithClassLevelDefault])
    assert (restored._fits, restored.label) == (1, "mine")


@pytest.mark.parametrize("edit", list(EDITED_FILES))
def test_an_edited_file_is_refused_naming_it(saved, edit):
    change, message = EDITED_FILES[edit]
    _rewrite(saved, change)
    with pytest.raises(ValueError, match=re.escape(str(saved)) + ".*" + message):
        skae.load(saved)


def test_a_classifier_with_classes_apart_from_its_net_is_refused(data, tmp_path):
    # Its net is built from classes_: the weights no longer fit.
    path = tmp_path / "model.skae"
    skae.save(clone(ESTIMATORS["classifier"]).fit(*data), path)
    eleven = {"__array__": list(range(11)), "dtype": "<i8", "shape": [11]}
    _rewrite(path, _edited_state(lambda state: {**state, "classes_": eleven}))
    with pytest.raises(ValueError, match=r"(?s)weights that do not fit .*\[11, 8\]"):
        skae.load(path)


def test_another_major_format_version_is_refused(saved):
    _rewrite(saved, format_version="2.0")
    with pytest.raises(ValueError, match=re.escape(str(saved)) + ".*format version 2.0"):
        skae.load(saved)


def test_another_minor_format_version_loads_with_a_warning(saved, data):
    _rewrite(saved, format_version="1.7")
    with pytest.warns(skae.SkaeVersionWarning, match="format version 1.7") as record:
        restored = skae.load(saved)
    assert record[0].filename == __file__  # the user's line, not skae's
    assert restored.transform(data[0]).shape == (120, 3)


def test_another_skae_version_warns(data, saved):
    with safe_open(saved, framework="np") as file:
        state = json.loads(file.metadata()["state"])
    _rewrite(saved, state=json.dumps({**state, "_skae_version": "0.0.1"}), skae_version="0.0.1")
    with pytest.warns(skae.SkaeVersionWarning, match=re.escape(str(saved)) + ".*skae 0.0.1"):
        skae.load(saved)
    fitted = clone(ESTIMATORS["autoencoder"]).fit(*data)
    state = {**fitted.__getstate__(), "_skae_version": "0.0.1"}
    restored = type(fitted).__new__(type(fitted))
    with pytest.warns(skae.SkaeVersionWarning, match="pickled AutoencoderTransformer.*0.0.1"):
        restored.__setstate__(state)
    _assert_same_model(fitted, restored, data[0])


def test_a_class_outside_the_allow_list_is_refused(data, tmp_path):
    path = tmp_path / "model.skae"
    skae.save(clone(ESTIMATORS["test_variant"]).fit(*data), path)
    with pytest.raises(
        ValueError, match=re.escape(str(path)) + ".*mae_autoencoder.MAEAutoencoder"
    ):
        skae.load(path)
    assert isinstance(skae.load(path, trusted=[MAEAutoencoder]), MAEAutoencoder)
    # Any iterable of classes, a generator (read once) included.
    assert isinstance(skae.load(path, trusted=(c for c in [MAEAutoencoder])), MAEAutoencoder)


def test_trusted_must_be_a_list_of_classes(data, tmp_path):
    path = tmp_path / "model.skae"
    skae.save(clone(ESTIMATORS["autoencoder"]).fit(data[0]), path)
    for trusted in ("skae.AutoencoderTransformer", MAEAutoencoder, ["MAEAutoencoder"], None):
        with pytest.raises(TypeError, match="trusted=.*list of estimator classes"):
            skae.load(path, trusted=trusted)


def test_fitted_arrays_in_another_byte_order_round_trip(data, tmp_path):
    # Labels read from big-endian files (scipy.io.loadmat, FITS, np.fromfile)
    # keep their byte order in classes_; the file stores native order.
    X, y = data
    fitted = clone(ESTIMATORS["classifier"]).fit(X, y.astype(">i8"))
    assert fitted.classes_.dtype.str == ">i8"
    path = tmp_path / "model.skae"
    skae.save(fitted, path)
    restored = skae.load(path)
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_saving_to_a_folder_or_into_a_missing_folder_is_refused(data, tmp_path):
    fitted = clone(ESTIMATORS["autoencoder"]).fit(data[0])
    with pytest.raises(IsADirectoryError, match="names a folder.*model.skae"):
        skae.save(fitted, tmp_path)
    with pytest.raises(FileNotFoundError, match="folder .*missing does not exist"):
        skae.save(fitted, tmp_path / "missing" / "model.skae")


def test_not_a_skae_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    _write_file(str(path), {"format": "other"}, {"w": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*not a model saved by"):
        skae.load(path)
    with pytest.raises(FileNotFoundError, match="missing.skae"):
        skae.load(tmp_path / "missing.skae")
    with pytest.raises(IsADirectoryError, match="is a folder: pass the path of a file"):
        skae.load(tmp_path)


def test_paths_may_be_bytes(data, tmp_path):
    fitted = clone(ESTIMATORS["autoencoder"]).fit(data[0])
    path = os.fsencode(tmp_path / "model.skae")
    skae.save(fitted, path)
    np.testing.assert_array_equal(skae.load(path).transform(data[0]), fitted.transform(data[0]))


def test_what_save_cannot_store_is_refused_by_name(data, tmp_path):
    path = tmp_path / "model.skae"
    with pytest.raises(TypeError, match="saves skae estimators, got a PCA"):
        skae.save(PCA(), path)
    fitted = clone(ESTIMATORS["autoencoder"]).fit(data[0])
    fitted.extra_ = object()
    with pytest.raises(TypeError, match=re.escape(str(path)) + ".*'extra_' is a object.*pickle"):
        skae.save(fitted, path)
    assert not path.exists()


# ------------------------------------------------------------------ devices


def _on_a_cuda_machine(state):
    """``state`` as a machine with a GPU would have pickled it."""
    return {**state, "device_": "cuda:0"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_gpu_state_loads_on_the_cpu_with_its_optimizer_state(estimator, data, tmp_path):
    X, y = data
    fitted = estimator.fit(X, y)
    restored = type(fitted).__new__(type(fitted))
    with pytest.warns(UserWarning, match="trained on cuda:0, which is not available"):
        restored.__setstate__(_on_a_cuda_machine(fitted.__getstate__()))
    assert restored.device_ == "cpu"
    _assert_same_model(fitted, restored, X)
    _assert_same_model(_continue_training(fitted, X, y), _continue_training(restored, X, y), X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_gpu_file_loads_on_the_cpu(data, saved):
    with safe_open(saved, framework="np") as file:
        state = json.loads(file.metadata()["state"])
    _rewrite(saved, state=json.dumps({**state, "device_": "cuda:0"}))
    with pytest.warns(UserWarning, match="trained on cuda:0, which is not available"):
        assert skae.load(saved).device_ == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # device="cpu" asks for the move: no warning
        assert skae.load(saved, device="cpu").device_ == "cpu"
    with pytest.raises(ValueError, match="CUDA is not available"):
        skae.load(saved, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_model_moves_between_cpu_and_gpu_either_way(data, tmp_path):
    X, y = data
    on_gpu = clone(ESTIMATORS["autoencoder"]).set_params(device="cuda").fit(X, y)
    _assert_same_model(on_gpu, pickle.loads(pickle.dumps(on_gpu)), X)
    path = tmp_path / "model.skae"
    skae.save(on_gpu, path)
    on_cpu = skae.load(path, device="cpu")
    assert on_cpu.device_ == "cpu" and on_cpu._optimizer_state is not None
    _assert_same(on_gpu.module_.state_dict(), on_cpu.module_.state_dict(), "module_")
    np.testing.assert_allclose(on_cpu.transform(X), on_gpu.transform(X), rtol=1e-4, atol=1e-5)
    on_cpu.partial_fit(X)  # Adam's moments came along: no error, one more epoch
    skae.save(on_cpu, path)
    back_on_gpu = skae.load(path, device="cuda")
    assert next(back_on_gpu.module_.parameters()).is_cuda
    back_on_gpu.partial_fit(X)


# ---------------------------------------------------- callable architectures


def tiny_architecture(n_features, n_components):
    """A user's architecture: defined at the top of a module, so it pickles."""
    return nn.Sequential(nn.Linear(n_features, 5), nn.Tanh(), nn.Linear(5, n_components)), (
        nn.Linear(n_components, n_features)
    )


def test_a_callable_architecture_pickles_but_is_not_saved(data, tmp_path):
    X, y = data
    fitted = clone(ESTIMATORS["autoencoder"]).set_params(architecture=tiny_architecture)
    fitted.fit(X)
    with pytest.raises(TypeError, match="model.skae.*callable.*pickle"):
        skae.save(fitted, tmp_path / "model.skae")
    assert not (tmp_path / "model.skae").exists()
    restored = pickle.loads(pickle.dumps(fitted))  # the net is rebuilt by the callable
    _assert_same_model(fitted, restored, X)
    _assert_same_model(_continue_training(fitted, X, y), _continue_training(restored, X, y), X)


# ----------------------------------------------------------- model registry


def test_mlflow_log_and_load_at_default_settings(data, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    import mlflow.sklearn

    # mlflow 3 refuses a folder tracking store unless asked; no telemetry.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    X, y = data
    fitted = clone(ESTIMATORS["classifier"]).fit(X, y)
    trusted = ["skae._stacked.StackedAutoencoderClassifier"]
    with mlflow.start_run():
        # The default serialization format is skops; pip_requirements given
        # only to skip mlflow's slow inference of them.
        info = mlflow.sklearn.log_model(
            fitted, name="model", skops_trusted_types=trusted, pip_requirements=["skae"]
        )
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    restored = mlflow.sklearn.load_model(info.model_uri)
    _assert_same_model(fitted, restored, X)


def test_file_system_errors_name_the_path_and_the_call(tmp_path, monkeypatch):
    # safetensors' own error, for a folder the process may not write to,
    # is no OSError and names a temporary file; an unreadable file was
    # called "truncated or corrupted"; swapped or missing arguments met
    # os.fsdecode's bare TypeError.
    import safetensors

    from skae import _persistence

    model = skae.AutoencoderTransformer(2, max_iter=2, random_state=0)
    path = tmp_path / "model.skae"
    skae.save(model, path)

    def refuse(*args, **kwargs):
        raise safetensors.SafetensorError("I/O error: Permission denied (os error 13)")

    monkeypatch.setattr(_persistence, "save_file", refuse)
    with pytest.raises(OSError, match=f"skae.save cannot write {re.escape(str(path))}: .*denied"):
        skae.save(model, path)
    monkeypatch.setattr(os, "access", lambda *args: False)
    with pytest.raises(PermissionError, match="exists, but this process may not read it"):
        skae.load(path)
    with pytest.raises(TypeError, match=r"got a str: call skae.save\(estimator, path\)"):
        skae.save(str(path), model)
    for call in (lambda: skae.save(model, None), lambda: skae.load(None)):
        with pytest.raises(TypeError, match=r"takes a file path \(str or path-like\), got None"):
            call()


def test_path_and_argument_mistakes_are_named(tmp_path):
    model = skae.AutoencoderTransformer(2, max_iter=2, random_state=0)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=f"{re.escape(str(a_file))} is a file, not a"):
        skae.save(model, a_file / "sub" / "model.skae")
    with pytest.raises(IsADirectoryError, match="names a folder. Give a file name"):
        skae.save(model, str(tmp_path / "new_folder") + os.sep)
    with pytest.raises(TypeError, match=r"the class AutoencoderTransformer itself: save an inst"):
        skae.save(skae.AutoencoderTransformer, tmp_path / "model.skae")
    skae.save(model, tmp_path / "model.skae")
    with pytest.raises(ValueError, match="device"):  # unfitted: no net to move, still refused
        skae.load(tmp_path / "model.skae", device="bogus")
    for call in (lambda: skae.save(model, ""), lambda: skae.load("")):
        with pytest.raises(ValueError, match="takes a file path, got an empty one"):
            call()


def test_a_path_on_no_existing_folder_is_a_file_not_found_error(tmp_path, monkeypatch):
    # A missing drive or share: not even the path's root exists.
    model = skae.AutoencoderTransformer(2, max_iter=2, random_state=0)
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    with pytest.raises(FileNotFoundError, match="the folder .* does not exist"):
        skae.save(model, tmp_path / "model.skae")


@pytest.mark.parametrize("writer", ["pickle", "skops"])
def test_a_pickle_or_skops_file_passed_to_load_is_named(tmp_path, writer):
    model = skae.AutoencoderTransformer(2, max_iter=2, random_state=0)
    path = tmp_path / "model.skae"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(model))
    else:
        pytest.importorskip("skops.io").dump(model, path)
    with pytest.raises(ValueError, match=f"looks like .*{writer}.*load"):
        skae.load(path)
