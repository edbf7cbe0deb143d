"""Parallel and distributed use: joblib workers, Dask, dask-ml and Optuna.

What docs/scaling.rst recommends, run small: GridSearchCV with n_jobs=2
(each fit in a worker uses one torch thread), the same search on a local
Dask cluster through joblib's "dask" backend, out-of-core training with
``dask_ml.wrappers.Incremental`` over ``partial_fit``, and
``OptunaSearchCV`` pruning trials through ``partial_fit``.
"""

import dask
import dask.array as da
import distributed
import joblib
import optuna
import pytest
import torch
from dask_ml.wrappers import Incremental
from numpy.testing import assert_array_equal
from optuna.distributions import CategoricalDistribution
from optuna_integration import OptunaSearchCV
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer, StackedAutoencoderClassifier

# Seconds the cluster may take to start, to gather its workers, and to close.
CLUSTER_TIMEOUT = 60
N_SAMPLES = 300
GRIDS = {
    AutoencoderTransformer: {"n_components": [2, 4], "alpha": [0.0, 1e-2]},
    StackedAutoencoderClassifier: {"hidden_layer_sizes": [(8,), (16,)], "alpha": [0.0, 1e-2]},
}
TINY = {"max_iter": 4, "random_state": 0}
# joblib's workers may use two torch threads each (joblib's default would
# give each 1 on 2 cores): skae's policy, not joblib's limit, must keep the
# small fits at one, and the results identical to n_jobs=1. All the n_jobs=2
# tests share this setting, hence one pool of worker processes.
WORKER_THREADS = 2


class ThreadRecordingAutoencoder(AutoencoderTransformer):
    """Notes the torch threads in use while its fit computes a batch's loss."""

    def _batch_loss(self, module, batch, noise_generator):
        self.threads_in_fit_ = max(getattr(self, "threads_in_fit_", 0), torch.get_num_threads())
        return super()._batch_loss(module, batch, noise_generator)


def threads_scorer(estimator, X, y=None):
    return {
        "score": estimator.score(X),
        "threads_in_fit": estimator.threads_in_fit_,
        "worker_threads": torch.get_num_threads(),  # what the worker allows torch
    }


def make_search(estimator_class, n_jobs=None):
    settings = {"hidden_layer_sizes": (16,)} if estimator_class is AutoencoderTransformer else {}
    estimator = estimator_class(**settings, **TINY)
    return GridSearchCV(estimator, GRIDS[estimator_class], cv=2, n_jobs=n_jobs)


def assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    for key in ("params", "split0_test_score", "split1_test_score", "mean_test_score"):
        assert_array_equal(search.cv_results_[key], reference.cv_results_[key], err_msg=key)


@pytest.fixture(scope="module")
def data(digits_raw):
    X, y = digits_raw
    return X[:N_SAMPLES] / 16, y[:N_SAMPLES]


@pytest.fixture(scope="module", params=list(GRIDS), ids=lambda cls: cls.__name__)
def sequential_search(request, data):
    """The search of ``request.param`` run in this process (n_jobs=1)."""
    return make_search(request.param).fit(*data)


@pytest.fixture(scope="module")
def dask_client():
    """A 2-process local Dask cluster on the loopback interface, closed afterwards."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        with distributed.Client(cluster, timeout=CLUSTER_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=CLUSTER_TIMEOUT)
            yield client
    finally:
        cluster.close(timeout=CLUSTER_TIMEOUT)


def test_grid_search_two_jobs_same_as_one(sequential_search, data):
    estimator_class = type(sequential_search.estimator)
    with joblib.parallel_config("loky", inner_max_num_threads=WORKER_THREADS):
        search = make_search(estimator_class, n_jobs=2).fit(*data)
    assert_same_search(search, sequential_search)


def test_grid_search_workers_fit_with_one_torch_thread(data):
    X, _ = data
    search = GridSearchCV(
        ThreadRecordingAutoencoder(hidden_layer_sizes=(16,), **TINY),
        GRIDS[AutoencoderTransformer],
        cv=2,
        n_jobs=2,
        scoring=threads_scorer,
        refit=False,
    )
    with joblib.parallel_config("loky", inner_max_num_threads=WORKER_THREADS):
        search.fit(X)
    for fold in ("split0", "split1"):
        assert_array_equal(search.cv_results_[f"{fold}_test_worker_threads"], WORKER_THREADS)
        assert_array_equal(search.cv_results_[f"{fold}_test_threads_in_fit"], 1)


def test_grid_search_on_dask_cluster_same_as_local(sequential_search, data, dask_client):
    estimator_class = type(sequential_search.estimator)
    with joblib.parallel_backend("dask"):
        search = make_search(estimator_class, n_jobs=-1).fit(*data)
    assert_same_search(search, sequential_search)
    # The fits ran in the cluster's worker processes, each set to one thread.
    assert len(dask_client.scheduler_info()["workers"]) == 2
    assert set(dask_client.run(torch.get_num_threads).values()) == {1}


def test_incremental_partial_fit_over_dask_blocks(data, dask_client):
    X, _ = data
    X_dask = da.from_array(X, chunks=100)  # 3 blocks, one partial_fit each
    estimator = AutoencoderTransformer(4, hidden_layer_sizes=(16,), random_state=0)
    assert dask.base.get_scheduler() == dask_client.get  # the blocks go to the cluster
    incremental = Incremental(estimator, shuffle_blocks=False).fit(X_dask)

    reference = AutoencoderTransformer(4, hidden_layer_sizes=(16,), random_state=0)
    for start in range(0, N_SAMPLES, 100):
        reference.partial_fit(X[start : start + 100])
    assert incremental.estimator_.n_iter_ == reference.n_iter_ == 3
    expected = reference.transform(X)
    assert_array_equal(incremental.transform(X_dask).compute(), expected)
    # The docs' recipe: a lazy transform that declares its output's shape.
    codes = X_dask.map_blocks(
        incremental.estimator_.transform, chunks=(X_dask.chunks[0], (4,)), dtype=X.dtype
    )
    assert codes.shape == (N_SAMPLES, 4)
    assert_array_equal(codes.compute(), expected)


def test_incremental_without_cluster(data):
    X, _ = data
    X_dask = da.from_array(X, chunks=150)
    with dask.config.set(scheduler="synchronous"):
        incremental = Incremental(
            AutoencoderTransformer(4, hidden_layer_sizes=(16,), random_state=0), random_state=0
        ).fit(X_dask)
    assert incremental.estimator_.n_iter_ == 2
    # Another pass over the blocks continues training (the docs' epochs loop).
    with dask.config.set(scheduler="synchronous"):
        incremental.partial_fit(X_dask)
    assert incremental.estimator_.n_iter_ == 4
    assert incremental.estimator_.transform(X).shape == (N_SAMPLES, 4)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("ignore:`optuna.terminator` module:FutureWarning")
def test_optuna_search_prunes_through_partial_fit(data):
    X, _ = data
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=1),
    )
    n_steps = 3  # partial_fit epochs per trial; the refit runs max_iter=4 epochs
    search = OptunaSearchCV(
        AutoencoderTransformer(4, hidden_layer_sizes=(16,), **TINY),
        {"learning_rate_init": CategoricalDistribution([1e-5, 1e-4, 1e-2])},
        cv=2,
        enable_pruning=True,
        max_iter=n_steps,
        n_trials=5,
        study=study,
        random_state=0,
    ).fit(X)
    states = [trial.state for trial in study.trials]
    assert optuna.trial.TrialState.PRUNED in states
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # One reported score per partial_fit epoch; pruned trials stop early.
    assert all(len(t.intermediate_values) == n_steps for t in complete)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(len(t.intermediate_values) < n_steps for t in pruned)
    assert search.best_params_ == {"learning_rate_init": 1e-2}
    # The best parameters are refit on all of X by fit, for the estimator's max_iter.
    assert search.best_estimator_.n_iter_ == TINY["max_iter"]
    assert search.best_estimator_.transform(X).shape == (N_SAMPLES, 4)
