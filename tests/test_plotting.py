"""skae.plotting draws what it says, in one call each."""

import numpy as np
import pytest

from skae import AutoencoderTransformer

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from sklearn.decomposition import PCA  # noqa: E402

from skae.plotting import plot_embedding, plot_loss_curve, plot_reconstructions  # noqa: E402


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).uniform(size=(40, 16))


def test_plot_reconstructions_stacks_one_row_per_model(images):
    ae = AutoencoderTransformer(2, max_iter=2, random_state=0).fit(images)
    pca = PCA(2).fit(images)
    ax = plot_reconstructions({"PCA": pca, "AE": ae}, images, n_images=5)
    picture = ax.get_images()[0].get_array()
    assert picture.shape == (3 * 4, 5 * 4)  # 3 rows of 4x4 images, 5 columns
    np.testing.assert_allclose(picture[:4, :4], images[0].reshape(4, 4))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "PCA", "AE"]


def test_plot_reconstructions_needs_a_shape_for_non_square_images(images):
    pca = PCA(2).fit(images[:, :15])
    with pytest.raises(ValueError, match="pass image_shape"):
        plot_reconstructions(pca, images[:, :15])
    plot_reconstructions(pca, images[:, :15], image_shape=(3, 5))


def test_plot_embedding_one_series_per_class(images):
    codes = images[:, :2]
    y = np.arange(40) % 3
    ax = plot_embedding(codes, y, title="codes")
    assert len(ax.collections) == 3 and ax.get_title() == "codes"
    with pytest.raises(ValueError, match="2-D codes"):
        plot_embedding(images[:, :3])


def test_plot_loss_curve(images):
    ae = AutoencoderTransformer(2, max_iter=4, tol=0, early_stopping=True, random_state=0)
    ax = plot_loss_curve(ae.fit(images))
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [4, 4]
    with pytest.raises(ValueError, match="fit it first"):
        plot_loss_curve(AutoencoderTransformer())
