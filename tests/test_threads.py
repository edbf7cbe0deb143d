"""Thread budget: one thread for small work, the caller's setting restored."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from threadpoolctl import threadpool_limits
from torch import nn

from skae import AutoencoderTransformer, StackedAutoencoderClassifier
from skae._threads import ONE_THREAD_BELOW, work_per_batch

X_SMALL = np.random.RandomState(0).rand(100, 8)
X_WIDE = np.random.RandomState(0).rand(512, 256)  # 256-256-8: above the one-thread work


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class _ThreadRecorder(nn.Module):
    """Identity layer that records how many threads torch uses in forward."""

    seen = []
    seen_training = []  # in training mode only (not the build's shape check)

    def forward(self, x):
        _ThreadRecorder.seen.append(torch.get_num_threads())
        if self.training:
            _ThreadRecorder.seen_training.append(torch.get_num_threads())
        return x


def recording_architecture(n_features, n_components):
    encoder = nn.Sequential(_ThreadRecorder(), nn.Linear(n_features, n_components))
    return encoder, nn.Linear(n_components, n_features)


def test_small_work_runs_on_one_thread_and_the_setting_comes_back(two_threads):
    _ThreadRecorder.seen.clear()
    ae = AutoencoderTransformer(2, architecture=recording_architecture, max_iter=2)
    ae.fit(X_SMALL)
    assert work_per_batch(ae.module_, 100) < ONE_THREAD_BELOW
    ae.transform(X_SMALL)
    assert set(_ThreadRecorder.seen) == {1}
    assert torch.get_num_threads() == 2


def test_the_setting_comes_back_after_an_error(two_threads):
    ae = AutoencoderTransformer(2, max_iter=2).fit(X_SMALL)
    with pytest.raises(ValueError):
        ae.fit(np.full_like(X_SMALL, np.nan))
    with pytest.raises(ValueError):
        ae.transform(np.full((3, 8), 1e308))
    assert torch.get_num_threads() == 2


def test_threadpool_limits_are_honoured(two_threads):
    _ThreadRecorder.seen.clear()
    wide = AutoencoderTransformer(
        8, architecture=lambda n, k: (nn.Sequential(_ThreadRecorder(), nn.Linear(n, 4096),
                                                    nn.Linear(4096, k)), nn.Linear(k, n)),
        max_iter=1,
    )  # fmt: skip
    _ThreadRecorder.seen_training.clear()
    wide.fit(X_WIDE)  # above the one-thread work: all the threads torch has
    assert set(_ThreadRecorder.seen_training) == {2}
    _ThreadRecorder.seen.clear()
    with threadpool_limits(1):
        wide.fit(X_WIDE)
    assert set(_ThreadRecorder.seen) == {1}
    assert torch.get_num_threads() == 2


def test_fits_do_not_depend_on_the_thread_count():
    # The fitted weights are bit-identical at 1 and 2 threads. Reported
    # losses (float32) and float64 predictions of a net above the one-thread
    # work may differ in the last bits: torch splits each sum differently
    # across threads. 3 classes and 8 components: MKL splits the weight
    # gradient of a layer of 5-7 or 9-11 units over the batch (next test).
    y = np.arange(X_WIDE.shape[0]) % 3
    before, fits = torch.get_num_threads(), []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            # Batches of 200: at "auto"'s 64 (Huber), the net would train on one thread.
            ae = AutoencoderTransformer(8, hidden_layer_sizes=(256,), batch_size=200, max_iter=2,
                                        random_state=0)  # fmt: skip
            clf = StackedAutoencoderClassifier((256, 64), pretrain_max_iter=1, max_iter=2,
                                               random_state=0)  # fmt: skip
            noisy = clone(clf).set_params(noise_std=0.3)
            fits.append((ae.fit(X_WIDE), clf.fit(X_WIDE, y), noisy.fit(X_WIDE, y)))
    finally:
        torch.set_num_threads(before)
    for one, two in zip(*fits, strict=True):
        for p, q in zip(one.module_.parameters(), two.module_.parameters(), strict=True):
            assert torch.equal(p, q)
        np.testing.assert_allclose(one.loss_curve_, two.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(
        fits[0][1].predict_proba(X_WIDE), fits[1][1].predict_proba(X_WIDE), rtol=1e-12, atol=0
    )


_FITS_AT_1_AND_2_THREADS = """
import numpy as np, torch
from skae import AutoencoderTransformer, StackedAutoencoderClassifier
X = np.random.RandomState(0).rand(512, 256)
y = np.arange(512) % 10
weights = []
for threads in (1, 2):
    torch.set_num_threads(threads)
    ae = AutoencoderTransformer(10, hidden_layer_sizes=(256,), batch_size=200, max_iter=2,
                                random_state=0)
    clf = StackedAutoencoderClassifier((256, 64), pretrain_max_iter=1, max_iter=2, random_state=0)
    fitted = [ae.fit(X), clf.fit(X, y)]
    weights.append([p.detach() for model in fitted for p in model.module_.parameters()])
print(all(torch.equal(p, q) for p, q in zip(*weights, strict=True)))
"""


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch without MKL")
def test_mkl_strict_reproducibility_makes_layers_of_10_units_thread_independent():
    # The documented remedy for 10 classes or 10 components (training
    # guide): MKL's conditional numerical reproducibility, set before MKL
    # starts, hence a new process.
    env = {**os.environ, "MKL_CBWR": "AUTO,STRICT"}
    run = subprocess.run(
        [sys.executable, "-c", _FITS_AT_1_AND_2_THREADS],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert run.stdout.strip() == "True", run.stderr


def test_batch_norm_fits_differ_across_thread_counts_by_rounding_only():
    # Documented exception: batch norm's batch statistics are sums that
    # torch splits across threads, so the weights differ in their last bits
    # between thread counts (and the difference grows a little with
    # training); at one thread count, fits are bit-identical.
    y = np.arange(X_WIDE.shape[0]) % 3
    settings = dict(pretrain_max_iter=1, max_iter=2, random_state=0, batch_norm=True)
    before, weights = torch.get_num_threads(), []
    try:
        for threads in (1, 2, 2):
            torch.set_num_threads(threads)
            clf = StackedAutoencoderClassifier((256, 64), **settings).fit(X_WIDE, y)
            weights.append([p.detach().clone() for p in clf.module_.parameters()])
    finally:
        torch.set_num_threads(before)
    one, two, two_again = weights
    assert all(torch.equal(p, q) for p, q in zip(two, two_again, strict=True))
    assert max(float((p - q).abs().max()) for p, q in zip(one, two, strict=True)) < 0.05


class _RecordsMatmul(np.ndarray):
    """An array that records the ufuncs (such as BLAS's matmul) called on it."""

    calls = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        type(self).calls.append(ufunc.__name__)
        plain = [np.asarray(value) if isinstance(value, np.ndarray) else value for value in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fit_statistics_stay_off_blas(dtype):
    # OpenBLAS's worker threads keep spinning after a call, on the cores
    # torch trains on next: with mean_ and scale_ from BLAS products, the
    # first epoch of an MNIST fit lost 94 ms, 12 ms without
    # (benchmarks/fit_start.py).
    from skae._blocks import weighted_moments

    X = np.arange(24, dtype=dtype).reshape(6, 4).view(_RecordsMatmul)
    weights = np.full(6, 1 / 6).view(_RecordsMatmul)
    _RecordsMatmul.calls = []
    first, sum_of_squares = weighted_moments(X, weights)
    assert "matmul" not in _RecordsMatmul.calls
    plain = np.asarray(X, dtype=np.float64)
    np.testing.assert_allclose(first, plain.mean(axis=0), rtol=1e-15)
    assert sum_of_squares == pytest.approx((plain**2).sum(axis=1).mean(), rel=1e-15)
