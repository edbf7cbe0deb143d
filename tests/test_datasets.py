"""skae.datasets: the IDX parser on files the test writes, and sine mixtures."""

import gzip
import struct
import urllib.error
import warnings

import numpy as np
import pytest

from skae import datasets
from skae.datasets import load_mnist, make_sine_mixtures, read_idx, sine_basis


def _write_idx(path, array, compress=False):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as file:
            file.write(content)
    else:
        path.write_bytes(content)
    return path


def _fake_mnist(rng, n_train=5, n_test=3):
    return {
        "X_train": rng.randint(0, 256, size=(n_train, 28, 28)),
        "y_train": rng.randint(0, 10, size=n_train),
        "X_test": rng.randint(0, 256, size=(n_test, 28, 28)),
        "y_test": rng.randint(0, 10, size=n_test),
    }


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_idx_files(tmp_path, compress):
    arrays = _fake_mnist(np.random.RandomState(0))
    for key, stem in datasets.MNIST_FILES.items():
        _write_idx(tmp_path / stem, arrays[key], compress=compress)
    data = load_mnist(tmp_path)
    assert data.X_train.shape == (5, 784) and data.X_test.shape == (3, 784)
    assert data.X_train.dtype == np.float32
    np.testing.assert_allclose(data.X_train * 255, arrays["X_train"].reshape(5, -1), atol=1e-4)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.image_shape == (1, 28, 28)
    raw = load_mnist(tmp_path, scale=False)
    np.testing.assert_array_equal(raw.X_train, arrays["X_train"].reshape(5, -1))


def test_load_mnist_reads_npz(tmp_path):
    arrays = _fake_mnist(np.random.RandomState(1))
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k.lower(): v.astype(np.uint8) for k, v in arrays.items()})
    data = load_mnist(path, scale=False)
    np.testing.assert_array_equal(data.X_test, arrays["X_test"].reshape(3, -1))
    np.testing.assert_array_equal(data.y_train, arrays["y_train"])


def test_read_idx_rejects_bad_files(tmp_path):
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(bad_magic)
    truncated = _write_idx(tmp_path / "short", np.zeros((4, 2)))
    truncated.write_bytes(truncated.read_bytes()[:-1])
    with pytest.raises(ValueError, match="needs 8"):
        read_idx(truncated)


def test_load_mnist_reports_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="four standard IDX files"):
        load_mnist(tmp_path)


def test_load_mnist_offline_gives_a_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    with pytest.raises(OSError, match="offline, pass path="):
        load_mnist(cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.part"))


def test_a_cache_holding_the_files_under_dotted_names_is_not_downloaded_again(
    tmp_path, monkeypatch
):
    # load_mnist(folder) reads train-images.idx3-ubyte and the like: so does
    # load_mnist(cache_dir=folder), without a download.
    arrays = _fake_mnist(np.random.RandomState(2))
    for key, stem in datasets.MNIST_FILES.items():
        _write_idx(tmp_path / stem.replace("-idx", ".idx"), arrays[key])

    def no_download(folder):
        raise AssertionError(f"downloaded into {folder}")

    monkeypatch.setattr(datasets, "_download", no_download)
    data = load_mnist(cache_dir=tmp_path, scale=False)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])


def test_load_mnist_names_a_file_that_is_no_npz_and_mismatched_counts(tmp_path):
    idx = _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28)), compress=True)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not an .npz archive"):
        load_mnist(idx)
    arrays = _fake_mnist(np.random.RandomState(3))
    arrays["y_train"] = arrays["y_train"][:-1]
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k.lower(): v.astype(np.uint8) for k, v in arrays.items()})
    with pytest.raises(ValueError, match="mnist.npz holds 5 train images but 4 labels"):
        load_mnist(path)


def test_load_mnist_scales_0_255_pixels_once_and_refuses_other_ranges(tmp_path):
    rng = np.random.RandomState(4)
    pixels = rng.randint(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = np.arange(5)
    path = tmp_path / "mnist.npz"
    for stored in (pixels, pixels.astype(np.float64), pixels / 255.0):
        np.savez(path, x_train=stored, y_train=labels, x_test=stored, y_test=labels)
        data = load_mnist(path)
        assert data.X_train.dtype == np.float32
        np.testing.assert_allclose(data.X_train, pixels.reshape(5, -1) / 255, rtol=1e-6)
    np.savez(path, x_train=pixels - 1.0, y_train=labels, x_test=pixels, y_test=labels)
    with pytest.raises(ValueError, match="mnist.npz holds train pixel values from -1 to 254"):
        load_mnist(path)
    assert load_mnist(path, scale=False).X_train.min() == -1
    with_nan = pixels / 255.0
    with_nan[0, 0, 0] = np.nan
    np.savez(path, x_train=pixels / 255.0, y_train=labels, x_test=with_nan, y_test=labels)
    with pytest.raises(ValueError, match="mnist.npz holds test pixel values from nan"):
        load_mnist(path)
    # Each split by its own values: splits stored differently both come out right.
    np.savez(path, x_train=pixels / 255.0, y_train=labels, x_test=pixels, y_test=labels)
    data = load_mnist(path)
    for split in (data.X_train, data.X_test):
        np.testing.assert_allclose(split, pixels.reshape(5, -1) / 255, rtol=1e-6)


def test_sine_mixtures_span_the_sine_basis():
    X, coef = make_sine_mixtures(50, n_points=30, random_state=0)
    assert X.shape == (50, 30) and coef.shape == (50, 2)
    np.testing.assert_allclose(X, coef @ sine_basis(30))
    assert np.linalg.matrix_rank(X) == 2
    noisy, _ = make_sine_mixtures(50, noise=0.1, random_state=0)
    assert np.linalg.matrix_rank(noisy) > 2


def test_load_mnist_takes_the_image_shape_from_the_arrays(tmp_path):
    rng = np.random.RandomState(2)
    arrays = {key: rng.randint(0, 10, size=(4, 28, 20)) for key in ("x_train", "x_test")}
    arrays.update(y_train=np.arange(4), y_test=np.arange(4))
    np.savez(tmp_path / "wide.npz", **arrays)
    data = load_mnist(tmp_path / "wide.npz")
    assert data.image_shape == (1, 28, 20) and data.X_train.shape == (4, 560)
    arrays.update(x_train=arrays["x_train"].reshape(4, -1), x_test=arrays["x_test"].reshape(4, -1))
    np.savez(tmp_path / "flat.npz", **arrays)
    with pytest.raises(ValueError, match="flat.npz holds images of shape \\(560,\\)"):
        load_mnist(tmp_path / "flat.npz")
    # Both splits must share the shape, and the labels be one per image.
    arrays.update(
        x_train=rng.randint(0, 10, size=(4, 28, 28)), x_test=rng.randint(0, 10, (4, 14, 14))
    )
    np.savez(tmp_path / "mixed.npz", **arrays)
    with pytest.raises(ValueError, match="train images of shape \\(28, 28\\) but test images"):
        load_mnist(tmp_path / "mixed.npz")
    arrays.update(x_test=arrays["x_train"], y_test=np.arange(4).reshape(4, 1))
    np.savez(tmp_path / "column.npz", **arrays)
    with pytest.raises(ValueError, match="test labels of shape \\(4, 1\\)"):
        load_mnist(tmp_path / "column.npz")


@pytest.mark.parametrize(
    "settings, name",
    [
        ({"n_points": 4}, "n_points"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 3.5}, "n_samples"),
        ({"coef_range": -1.0}, "coef_range"),
        ({"coef_range": 1e308}, "coef_range"),
        ({"noise": -1.0}, "noise"),
        ({"noise": 1e308}, "noise"),  # its draws would overflow to inf
    ],
)
def test_sine_mixtures_refuse_bad_settings_by_name(settings, name):
    with pytest.raises(ValueError, match=f"'{name}' parameter of make_sine_mixtures"):
        make_sine_mixtures(**settings)


def test_the_sine_basis_has_rank_2_from_5_points():
    assert np.linalg.matrix_rank(sine_basis(5)) == 2
    with pytest.raises(ValueError, match="'n_points' parameter of sine_basis"):
        sine_basis(4)


def test_read_idx_names_a_damaged_gzip_file(tmp_path):
    # gzip's own EOFError / BadGzipFile named neither the file nor the cure.
    whole = gzip.compress(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3) + bytes(3))
    for name, content in [("cut-idx1-ubyte.gz", whole[:-6]), ("page-idx1-ubyte.gz", b"<html>")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=f"{name} is not a valid gzip file.*again"):
            read_idx(path)


def test_load_mnist_names_bad_labels_arrays_and_settings(tmp_path):
    # String labels, object arrays, a cache_dir that is a file and a
    # non-bool scale met raw int(), np.load and mkdir errors, or none at all.
    arrays = {
        k.lower(): v.astype(np.uint8) for k, v in _fake_mnist(np.random.RandomState(4)).items()
    }
    path = tmp_path / "labels.npz"
    np.savez(path, **{**arrays, "y_test": np.array(["a", "b", "c"])})
    with pytest.raises(ValueError, match="labels.npz holds test labels of dtype <U1"):
        load_mnist(path)
    path = tmp_path / "objects.npz"
    np.savez(path, **{**arrays, "x_test": np.array([None, 1], dtype=object)})
    with pytest.raises(ValueError, match="objects.npz holds arrays load_mnist cannot read"):
        load_mnist(path)
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    with pytest.raises(NotADirectoryError, match="cache_dir .*not-a-folder is a file"):
        load_mnist(cache_dir=a_file)
    with pytest.raises(TypeError, match="scale must be True or False, got 'no'"):
        load_mnist(tmp_path / "labels.npz", scale="no")


@pytest.mark.parametrize(
    "labels",
    [np.array([1.0, np.inf, 3.0]), np.array([1.0, 1e30, 3.0]), np.array([1.0, 2.0**63, 3.0]),
     np.array([1, 2**63 + 5, 3], dtype=np.uint64)],
    ids=["inf", "1e30", "2**63", "uint64 beyond int64"],
)  # fmt: skip
def test_load_mnist_refuses_labels_int64_cannot_hold(tmp_path, labels):
    # Each used to wrap around in the cast to int64, silently.
    images = np.zeros((3, 28, 28), np.uint8)
    path = tmp_path / "labels.npz"
    np.savez(path, x_train=images, y_train=labels, x_test=images[:1], y_test=np.array([4]))
    with pytest.raises(ValueError, match="labels.npz holds train labels from 1.* to "):
        load_mnist(path)


def test_load_mnist_takes_float16_labels_silently(tmp_path):
    # 2**63, the bound of the int64 check, overflows float16.
    images = np.zeros((3, 28, 28), np.uint8)
    path = tmp_path / "half.npz"
    np.savez(path, x_train=images, y_train=np.array([1, 2, 3], np.float16),
             x_test=images[:1], y_test=np.array([4], np.float16))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_mnist(path).y_train.tolist() == [1, 2, 3]


def test_load_mnist_loads_an_empty_split(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    path = tmp_path / "empty.npz"
    np.savez(path, x_train=images, y_train=np.array([1, 2, 3]), x_test=images[:0],
             y_test=np.array([], dtype=np.int64))  # fmt: skip
    data = load_mnist(path)
    assert data.X_test.shape == (0, 784) and data.y_test.shape == (0,)


def test_make_sine_mixtures_takes_true_as_one_sample_as_make_blobs_does():
    X, coef = make_sine_mixtures(n_samples=True, random_state=0)
    assert X.shape == (1, 30) and coef.shape == (1, 2)
