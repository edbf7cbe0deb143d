"""Bounded memory: growth of anonymous memory (RssAnon) during the calls that see big data.

Arrays of about 40 MB, wide enough that a copy of them stands far above
the allocator's noise and a batch (64 features: a batch of 4096 rows is
1-2 MB), so each bound holds with room to spare, and a whole copy of the
input would break it. ``benchmarks/memory.py`` measures the same at
hundreds of MB.
"""

import numpy as np
import pytest
from memory_sampler import available, peak_growth, random_memmap
from sklearn.base import clone
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer, StackedAutoencoderClassifier

pytestmark = pytest.mark.skipif(not available(), reason="RssAnon is Linux only")

N_FEATURES = 64
MB = 1 << 20
# Allocator noise and the batches of training or inference, whatever the
# size of the data. The sampler hands free pages back to the system before
# its baseline, so that a copy cannot hide in memory an earlier test freed:
# a fit's own working memory (batches, the validation split's scores) then
# counts, 7-9.4 MB in repeated early-stopping fits of 160,000 x 64.
SLACK = 12 * MB


def row_indices(X, n_arrays):
    """Bytes of ``n_arrays`` arrays of row indices (validation split, labelled rows)."""
    return n_arrays * X.shape[0] * np.dtype(np.intp).itemsize


@pytest.fixture(scope="module")
def float32_memmap(tmp_path_factory):
    """A read-only float32 memmap of 160,000 x 64 (41 MB)."""
    path = tmp_path_factory.mktemp("memory") / "float32.npy"
    return random_memmap(path, (160_000, N_FEATURES), np.float32)


@pytest.fixture(scope="module")
def uint8_memmap(tmp_path_factory):
    """A read-only uint8 memmap of 640,000 x 64 (41 MB)."""
    path = tmp_path_factory.mktemp("memory") / "uint8.npy"
    return random_memmap(path, (640_000, N_FEATURES), np.uint8)


def small_autoencoder(**params):
    return AutoencoderTransformer(
        4, hidden_layer_sizes=(16,), max_iter=1, random_state=0, **params
    )


@pytest.fixture(scope="module")
def fitted_autoencoder(float32_memmap):
    return small_autoencoder().fit(float32_memmap[:2000])


def labels(n_samples):
    y = np.arange(n_samples) % 3
    y[::4] = -1  # a quarter unlabelled: pretraining only
    return y


@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_inference_streams_a_read_only_memmap(fitted_autoencoder, float32_memmap, method):
    result, growth = peak_growth(getattr(fitted_autoencoder, method), float32_memmap)
    assert result.dtype == np.float32
    assert growth <= 0.25 * float32_memmap.nbytes + result.nbytes + SLACK


def test_inference_converts_uint8_batch_by_batch(fitted_autoencoder, uint8_memmap):
    codes, growth = peak_growth(fitted_autoencoder.transform, uint8_memmap)
    # Computed in float64, as for any non-float input, and the same as on a copy.
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(
        codes[:100], fitted_autoencoder.transform(np.asarray(uint8_memmap[:100], np.float64))
    )
    assert growth <= 0.25 * uint8_memmap.nbytes + codes.nbytes + SLACK


def test_inverse_transform_streams_codes(fitted_autoencoder, float32_memmap):
    codes = fitted_autoencoder.transform(float32_memmap)
    codes.flags.writeable = False
    reconstruction, growth = peak_growth(fitted_autoencoder.inverse_transform, codes)
    assert growth <= 0.25 * codes.nbytes + reconstruction.nbytes + SLACK


@pytest.mark.parametrize("read_only", [True, False], ids=["memmap", "array"])
def test_fit_with_validation_split_copies_the_data_once_at_most(float32_memmap, read_only):
    X = float32_memmap if read_only else np.array(float32_memmap)
    model, growth = peak_growth(small_autoencoder(early_stopping=True).fit, X)
    assert model.validation_scores_
    # A read-only memmap is copied once, into float32 tensors of the two
    # parts; a writeable float32 array is not copied at all.
    copies = 1.0 if read_only else 0.0
    assert growth <= copies * X.nbytes + row_indices(X, 2) + SLACK


def test_classifier_fit_copies_the_data_once_at_most(float32_memmap):
    classifier = StackedAutoencoderClassifier(
        hidden_layer_sizes=(16,), max_iter=1, pretrain_max_iter=1, early_stopping=True
    )
    y = labels(float32_memmap.shape[0])
    model, growth = peak_growth(classifier.fit, float32_memmap, y)
    assert model.validation_scores_
    assert growth <= 1.0 * float32_memmap.nbytes + row_indices(float32_memmap, 3) + SLACK


def test_classifier_predict_proba_streams(float32_memmap):
    classifier = StackedAutoencoderClassifier(hidden_layer_sizes=(16,), max_iter=1)
    classifier.fit(float32_memmap[:2000], labels(2000))
    proba, growth = peak_growth(classifier.predict_proba, float32_memmap)
    assert growth <= 0.25 * float32_memmap.nbytes + proba.nbytes + SLACK


def test_partial_fit_over_chunks_of_a_memmap(float32_memmap):
    model = small_autoencoder()
    chunks = np.array_split(np.arange(float32_memmap.shape[0]), 10)

    def train():
        for chunk in chunks:
            model.partial_fit(float32_memmap[chunk[0] : chunk[-1] + 1])

    _, growth = peak_growth(train)
    assert model.n_iter_ == len(chunks)
    assert growth <= 0.25 * float32_memmap.nbytes + SLACK


def test_sampler_sees_a_copy(float32_memmap):
    """The measure itself: a copy of the memmap counts, reading it does not."""
    _, reading = peak_growth(np.sum, float32_memmap)
    copy, copying = peak_growth(np.array, float32_memmap)
    assert reading < SLACK
    assert copying >= 0.9 * copy.nbytes


@pytest.mark.parametrize("name", ["autoencoder", "conv", "denoising", "variational", "classifier"])
def test_every_estimator_trains_on_a_read_only_memmap(tmp_path, name):
    # Training shares a float32 memmap's pages instead of copying them, so
    # nothing may write to a training batch: on a memmap opened "r", a
    # write would crash the process rather than fail a test.
    from test_invariants import ESTIMATORS

    digits = load_digits()
    path = tmp_path / "digits.npy"
    np.save(path, (digits.data[:120] / 16).astype(np.float32))
    X, y = np.load(path, mmap_mode="r"), digits.target[:120]
    estimator = clone(ESTIMATORS[name]).set_params(early_stopping=True)
    estimator.fit(X, y).partial_fit(X, y)
    assert np.array_equal(X, (digits.data[:120] / 16).astype(np.float32))
