"""skae.plotting draws what it says, in one call each."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from skae import AutoencoderTransformer, StackedAutoencoderClassifier

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skae.plotting import plot_embedding, plot_loss_curve, plot_reconstructions  # noqa: E402


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).uniform(size=(40, 16))


def test_plot_reconstructions_stacks_one_row_per_model(images):
    ae = AutoencoderTransformer(2, max_iter=2, random_state=0).fit(images)
    pca = PCA(2).fit(images)
    ax = plot_reconstructions({"PCA": pca, "AE": ae}, images, n_images=5)
    picture = np.ma.filled(ax.get_images()[0].get_array(), np.nan)
    # 3 rows of 4x4 images, 5 columns, one blank pixel between tiles.
    assert picture.shape == (3 * 4 + 2, 5 * 4 + 4)
    np.testing.assert_allclose(picture[:4, :4], images[0].reshape(4, 4))
    np.testing.assert_allclose(picture[:4, 5:9], images[1].reshape(4, 4))
    assert np.isnan(picture[4, :]).all() and np.isnan(picture[:, 4]).all()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "PCA", "AE"]
    # Each label sits at the middle of its row of tiles.
    np.testing.assert_allclose(ax.get_yticks(), [1.5, 6.5, 11.5])


def test_plot_reconstructions_needs_a_shape_for_non_square_images(images):
    pca = PCA(2).fit(images[:, :15])
    with pytest.raises(ValueError, match="pass image_shape"):
        plot_reconstructions(pca, images[:, :15])
    plot_reconstructions(pca, images[:, :15], image_shape=(3, 5))


def test_plot_reconstructions_refuses_shapes_it_cannot_draw_by_name(images):
    pca = PCA(2).fit(images)
    with pytest.raises(ValueError, match="one-channel images.*got \\(2, 2, 4\\)"):
        plot_reconstructions(pca, images, image_shape=(2, 2, 4))
    with pytest.raises(ValueError, match="holds 15 pixels, but X has 16 features"):
        plot_reconstructions(pca, images, image_shape=(3, 5))
    # Their products match the 16 features, but NumPy cannot draw them.
    for shape in [(-4, -4), (2.0, 8.0), (0.5, 32)]:
        with pytest.raises(ValueError, match="image_shape must hold positive integers"):
            plot_reconstructions(pca, images, image_shape=shape)
    plot_reconstructions(pca, images, image_shape=(1, 4, 4))


def test_plot_reconstructions_refuses_bad_counts_flat_input_and_a_clashing_name(images):
    pca = PCA(2).fit(images)
    for n_images in (0, -1, 2.0, True):
        with pytest.raises(
            ValueError, match=f"n_images must be an int of at least 1, got {n_images}"
        ):
            plot_reconstructions(pca, images, n_images=n_images)
    with pytest.raises(ValueError, match="X must be 2-D, one flat image per row"):
        plot_reconstructions(pca, images[0])
    with pytest.raises(ValueError, match="No model may be named 'original'"):
        plot_reconstructions({"original": pca}, images)


@pytest.mark.parametrize("sparse_format", ["csr", "coo", "dia", "bsr"])
def test_plot_reconstructions_draws_sparse_rows(images, sparse_format):
    sparse = pytest.importorskip("scipy.sparse")
    ae = AutoencoderTransformer(2, max_iter=2, random_state=0).fit(images)
    ax = plot_reconstructions(ae, sparse.csr_matrix(images).asformat(sparse_format), n_images=3)
    picture = np.ma.filled(ax.get_images()[0].get_array(), np.nan)
    np.testing.assert_allclose(picture[:4, :4], images[0].reshape(4, 4))


def test_plot_reconstructions_passes_a_data_frame_on_with_its_feature_names(images):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(images, columns=[f"pixel{i}" for i in range(16)])
    pca = PCA(2).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        ax = plot_reconstructions(pca, frame, n_images=3)
    assert ax.get_images()[0].get_array().shape == (2 * 4 + 1, 3 * 4 + 2)


def test_plot_embedding_refuses_nan_labels_and_labels_of_another_length(images):
    codes = images[:3, :2]
    missing = [[1.0, np.nan, np.nan], np.array(["cat", np.nan, None], dtype=object)]
    pd = pytest.importorskip("pandas")
    missing.append(pd.Series(["cat", None, "dog"], dtype="string"))  # pandas.NA
    for y in missing:
        with pytest.raises(ValueError, match=r"missing labels \(NaN, None or NA\)"):
            plot_embedding(codes, y)
    with pytest.raises(ValueError, match="one label per code, shape \\(3,\\); got \\(2,\\)"):
        plot_embedding(codes, [0, 1])


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
    lines = [line for axes in ax.figure.axes for line in axes.get_lines()]
    assert [len(line.get_xdata()) for line in lines] == [4, 4]
    pipeline = make_pipeline(PCA(2), AutoencoderTransformer(1, max_iter=2)).fit(images)
    for model in (AutoencoderTransformer(), pipeline, PCA(2).fit(images)):
        with pytest.raises(ValueError, match="no loss_curve_: pass a fitted estimator that"):
            plot_loss_curve(model)
    assert plot_loss_curve(pipeline[-1]).get_lines()


def _scatter_colours(ax):
    return [tuple(c.get_facecolor()[0]) for c in ax.collections]


@pytest.mark.parametrize("n_classes", [3, 10, 12, 25])
def test_plot_embedding_gives_each_class_its_own_colour(n_classes, close_figures):
    codes = np.random.RandomState(0).normal(size=(100, 2))
    ax = plot_embedding(codes, np.arange(100) % n_classes)
    assert len(set(_scatter_colours(ax))) == n_classes
    assert len(ax.get_legend().get_texts()) == n_classes


def test_plot_embedding_colours_from_qualitative_and_continuous_maps(close_figures):
    codes = np.random.RandomState(0).normal(size=(30, 2))
    y = np.arange(30) % 3
    tab10 = plt.get_cmap("tab10")
    assert _scatter_colours(plot_embedding(codes, y)) == [tab10(i) for i in range(3)]
    # A continuous map is sampled from one end to the other, not at its
    # first three (nearly identical) entries.
    viridis = plt.get_cmap("viridis")
    colours = _scatter_colours(plot_embedding(codes, y, cmap="viridis"))
    assert colours == [viridis(0.0), viridis(0.5), viridis(1.0)]
    with pytest.raises(ValueError, match="has 10 colours for 12 classes"):
        plot_embedding(np.zeros((12, 2)), np.arange(12), cmap="tab10")


def test_plot_embedding_legend_is_outside_the_axes(close_figures):
    codes = np.random.RandomState(0).normal(size=(30, 2))
    ax = plot_embedding(codes, np.arange(30) % 3)
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def _score_axes(ax):
    """The twin axes holding the validation score, next to the loss axes ``ax``."""
    (score_ax,) = [other for other in ax.figure.axes if other is not ax]
    return score_ax


def _legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_plot_loss_curve_puts_a_negative_score_on_a_linear_twin_axis(images, close_figures):
    ae = AutoencoderTransformer(
        2, hidden_layer_sizes=(4,), max_iter=3, tol=0, early_stopping=True, random_state=0
    ).fit(images)
    assert max(ae.validation_scores_) < 0  # minus the reconstruction MSE
    ax = plot_loss_curve(ae)
    assert len(ax.figure.axes) == 2
    score_ax = _score_axes(ax)
    assert ax.get_yscale() == "log" and score_ax.get_yscale() == "linear"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), ae.loss_curve_)
    np.testing.assert_allclose(score_ax.get_lines()[0].get_ydata(), ae.validation_scores_)
    assert score_ax.get_ylabel() == "validation score (higher is better)"
    assert ax.get_lines()[0].get_color() != score_ax.get_lines()[0].get_color()
    assert _legend_labels(ax) == ["training loss", "validation score (higher is better)"]


@pytest.mark.parametrize("log", [True, False])
def test_plot_loss_curve_puts_an_accuracy_on_a_log_axis_if_asked(
    digits_unit_split, log, close_figures
):
    X_train, _, y_train, _ = digits_unit_split
    clf = StackedAutoencoderClassifier(
        (8,),
        corruption_levels=(0.1,),
        pretrain_max_iter=1,
        max_iter=3,
        tol=0,
        early_stopping=True,
        validation_fraction=0.5,
        random_state=0,
    ).fit(X_train[:60], y_train[:60] % 2)
    assert 0 < min(clf.validation_scores_) and max(clf.validation_scores_) <= 1
    ax = plot_loss_curve(clf, log=log)
    scale = "log" if log else "linear"
    assert ax.get_yscale() == scale and _score_axes(ax).get_yscale() == scale
    assert len(_legend_labels(ax)) == 2


def test_plot_loss_curve_without_validation_draws_one_axis(images, close_figures):
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    ax = plot_loss_curve(ae.fit(images))
    assert ae.validation_scores_ is None
    assert ax.figure.axes == [ax] and ax.get_yscale() == "log"
    assert _legend_labels(ax) == ["training loss"]
    # An empty score list draws no score axis; a zero loss keeps a linear axis.
    model = SimpleNamespace(loss_curve_=[1.0, 0.0], validation_scores_=[])
    ax = plot_loss_curve(model)
    assert ax.figure.axes == [ax] and ax.get_yscale() == "linear"


def test_plot_loss_curve_draws_epochs_without_a_score_as_a_gap(close_figures):
    # A warm_start fit without early stopping leaves NaN scores: the scores
    # keep their epochs, and the NaN don't turn a positive score's axis linear.
    # A score alone between NaN has no segment: it gets a dot of its own.
    model = SimpleNamespace(
        loss_curve_=[3.0, 2.0, 1.5, 1.0, 0.9], validation_scores_=[0.5, np.nan, 0.7, 0.8, np.nan]
    )
    score_ax = _score_axes(plot_loss_curve(model))
    assert score_ax.get_yscale() == "log"
    line, dots = score_ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(dots.get_xdata(), [1])
    np.testing.assert_array_equal(dots.get_ydata(), [0.5])


def test_plot_reconstructions_names_a_model_that_cannot_reconstruct(images, close_figures):
    # A classifier, or a list in place of a dict, met a raw AttributeError.
    classifier = StackedAutoencoderClassifier((4,), pretrain_max_iter=0, max_iter=2)
    classifier.fit(images, np.arange(len(images)) % 2)
    ae = AutoencoderTransformer(2, max_iter=2).fit(images)
    for models, culprit in [(classifier, "StackedAutoencoderClassifier"), ([ae], "list")]:
        with pytest.raises(TypeError, match=f"models must be a fitted estimator.*is a {culprit}"):
            plot_reconstructions(models, images)


def test_plot_arguments_of_the_wrong_kind_are_named(images, close_figures):
    # An int image_shape, X=None and labels of two types used to meet raw
    # TypeErrors from tuple(), slicing and sorting.
    ae = AutoencoderTransformer(2, max_iter=2).fit(images)
    with pytest.raises(ValueError, match="image_shape must be .* got 64"):
        plot_reconstructions(ae, images, image_shape=64)
    with pytest.raises(TypeError, match="X must be the images.*got NoneType"):
        plot_reconstructions(ae, None)
    labels = np.array([0, "a", 1, 1], dtype=object)
    ax = plot_embedding(np.random.RandomState(0).rand(4, 2), labels)
    assert _legend_labels(ax) == ["0", "a", "1"]  # in order of appearance
