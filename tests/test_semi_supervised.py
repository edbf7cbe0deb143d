"""Semi-supervised fine-tuning: reconstruction_weight and consistency_weight."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skae
from skae import StackedAutoencoderClassifier
from skae._classifier_net import StackedNet
from skae._semi_supervised import paired_arrays
from skae._tensors import Rows

FAST = {
    "hidden_layer_sizes": (64, 32),
    "corruption_levels": (0.1, 0.2),
    "pretrain_max_iter": 2,
    "pretrain_learning_rate_init": 0.01,
    "max_iter": 5,
    "learning_rate_init": 0.01,
    "random_state": 0,
}
SEMI = dict(FAST, reconstruction_weight=1.0, consistency_weight=0.5, input_dropout=0.2)


@pytest.fixture(autouse=True)
def _capped_budgets():
    # Fixed small epoch budgets on purpose: no ConvergenceWarning noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def few_labels(y, per_class, seed=0):
    """``y`` with all but ``per_class`` labels of each class replaced by -1."""
    rng = np.random.RandomState(seed)
    kept = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    )
    y_semi = np.full_like(y, -1)
    y_semi[kept] = y[kept]
    return y_semi


def weights_of(clf):
    return {name: value.clone() for name, value in clf.module_.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_zero_weights_are_todays_fine_tuning(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    y_semi = few_labels(y, 20)
    today = StackedAutoencoderClassifier(**FAST).fit(X, y_semi)
    zero = StackedAutoencoderClassifier(
        **FAST, reconstruction_weight=0.0, consistency_weight=0.0
    ).fit(X, y_semi)
    assert_same_weights(weights_of(today), weights_of(zero))
    assert today.loss_curve_ == zero.loss_curve_ and not hasattr(zero.module_, "decoder")


def test_unlabelled_rows_change_the_fit(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    y_semi = few_labels(y, 20)
    labelled = y_semi != -1
    # Same labelled rows; with the unlabelled rows too, the fit differs, and
    # an epoch is a pass over every row.
    with_unlabelled = StackedAutoencoderClassifier(**dict(SEMI, pretrain_max_iter=0))
    with_unlabelled.fit(X, y_semi)
    without = StackedAutoencoderClassifier(**dict(SEMI, pretrain_max_iter=0)).fit(
        X[labelled], y_semi[labelled]
    )
    assert with_unlabelled.t_ == 5 * X.shape[0] and without.t_ == 5 * labelled.sum()
    after, alone = weights_of(with_unlabelled), weights_of(without)
    assert not torch.equal(after["hidden.0.weight"], alone["hidden.0.weight"])
    # The decoder's biases were trained by pretraining and fine-tuning.
    assert "decoder.biases.0" in after


def test_each_term_works_without_unlabelled_rows(digits_unit_stratified_split):
    X, X_test, y, y_test = digits_unit_stratified_split
    supervised = StackedAutoencoderClassifier(**FAST).fit(X, y)
    for extra in ({"reconstruction_weight": 1.0}, {"consistency_weight": 1.0}):
        clf = StackedAutoencoderClassifier(**FAST, input_dropout=0.2, **extra).fit(X, y)
        assert clf.t_ == supervised.t_ and np.isfinite(clf.loss_curve_).all()
        assert clf.score(X_test, y_test) >= 0.85


@pytest.mark.parametrize("labels", ["all", "few"])
def test_rows_go_through_the_noisy_net_once_when_all_are_labelled(
    digits_unit_stratified_split, monkeypatch, labels
):
    X, _, y, _ = digits_unit_stratified_split
    y_fit = y if labels == "all" else few_labels(y, 20)
    encoded = []
    encode = StackedNet.encode

    def counting_encode(self, x, n_layers=None, *args):
        if n_layers is None:  # the whole stack: fine-tuning, not pretraining
            encoded.append(x.shape[0])
        return encode(self, x, n_layers, *args)

    monkeypatch.setattr(StackedNet, "encode", counting_encode)
    clf = StackedAutoencoderClassifier(**FAST, input_dropout=0.2, reconstruction_weight=1.0)
    clf.fit(X, y_fit)
    # All labelled: one pass serves both terms. Else a labelled batch and a
    # batch of all rows, each through the net.
    passes = 1 if labels == "all" else 2
    assert sum(encoded) == passes * clf.max_iter * X.shape[0]
    if labels == "all":
        supervised = StackedAutoencoderClassifier(**FAST, input_dropout=0.2).fit(X, y)
        assert clf.t_ == supervised.t_


def test_held_out_rows_enter_the_unsupervised_terms(digits_unit_stratified_split, monkeypatch):
    # Documented: with early_stopping, the rows held out for validation feed
    # the label-free terms (inputs only) while their labels stay out.
    import skae._semi_supervised as semi

    X, _, y, _ = digits_unit_stratified_split
    seen = {}
    pair = semi.paired_arrays

    def recording_pair(X_all, sample_weight, labelled_arrays):
        seen["all"], seen["labelled"] = X_all.shape[0], labelled_arrays[0].shape[0]
        return pair(X_all, sample_weight, labelled_arrays)

    monkeypatch.setattr(semi, "paired_arrays", recording_pair)
    clf = StackedAutoencoderClassifier(
        **FAST, reconstruction_weight=1.0, early_stopping=True, validation_fraction=0.2
    ).fit(X, y)
    n_held_out = len(y) - seen["labelled"]
    assert seen["all"] == len(y) and n_held_out == pytest.approx(0.2 * len(y), abs=1)
    assert len(clf.validation_scores_) == clf.n_iter_


def test_paired_arrays_oversample_the_labelled_rows():
    X = np.arange(14, dtype=np.float32).reshape(7, 2)
    labelled = (Rows(X, [1, 4, 6]), np.array([0, 1, 0]), np.array([1.0, 2.0, 3.0]))
    X_labelled, y_index, X_all, weight, labelled_weight = paired_arrays(
        X, np.arange(7.0), labelled
    )
    # Row i of X beside labelled row i mod 3: each labelled row 2 or 3 times.
    assert X_labelled.index.tolist() == [1, 4, 6, 1, 4, 6, 1]
    assert y_index.index.tolist() == [0, 1, 2, 0, 1, 2, 0] and X_all is X
    assert labelled_weight.array.tolist() == [1.0, 2.0, 3.0] and weight.shape == (7,)


def test_beats_supervised_fine_tuning_with_few_labels(digits_unit_stratified_split):
    X, X_test, y, y_test = digits_unit_stratified_split
    settings = dict(FAST, learning_rate="cosine", tol=0.0, dropout=0.2, input_dropout=0.2)
    errors = {"supervised": [], "semi-supervised": []}
    for seed in range(3):  # 5 labels a class, 1,297 unlabelled digits
        y_semi = few_labels(y, 5, seed)
        # Supervised: one step an epoch (50 labels), so 150 epochs, to converge.
        supervised = StackedAutoencoderClassifier(**dict(settings, max_iter=150))
        semi = StackedAutoencoderClassifier(
            **dict(settings, max_iter=20, reconstruction_weight=1.0)
        )
        for name, clf in (("supervised", supervised), ("semi-supervised", semi)):
            clf.set_params(random_state=seed).fit(X, y_semi)
            errors[name].append(1 - clf.score(X_test, y_test))
    print(errors)
    assert np.mean(errors["semi-supervised"]) < np.mean(errors["supervised"]) - 0.01


def test_deterministic_and_round_trips(digits_unit_stratified_split, tmp_path):
    X, X_test, y, _ = digits_unit_stratified_split
    y_semi = few_labels(y, 20)
    first = StackedAutoencoderClassifier(**SEMI, dropout=0.1).fit(X, y_semi)
    second = clone(first).fit(X, y_semi)
    assert_same_weights(weights_of(first), weights_of(second))
    assert first.loss_curve_ == second.loss_curve_
    expected = first.predict_proba(X_test)
    unpickled = pickle.loads(pickle.dumps(first))
    skae.save(first, tmp_path / "semi.skae")
    loaded = skae.load(tmp_path / "semi.skae")
    for model in (unpickled, loaded):
        np.testing.assert_array_equal(model.predict_proba(X_test), expected)
        assert_same_weights(weights_of(model), weights_of(first))
    # Still round-trips after the setting changed: the net's shape is fitted state.
    first.set_params(reconstruction_weight=0.0)
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(X_test), expected)


def test_partial_fit_and_warm_start_keep_the_mode(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    y_semi = few_labels(y, 20)
    clf = StackedAutoencoderClassifier(**SEMI)
    clf.partial_fit(X, y_semi, classes=np.arange(10))
    clf.partial_fit(X, y_semi)
    assert clf.n_iter_ == 2 and clf.t_ == 2 * X.shape[0]
    clf.set_params(warm_start=True, max_iter=2).fit(X, y_semi)
    assert clf.n_iter_ == 4
    # Back to labels only: the decoder stays, unused.
    clf.set_params(reconstruction_weight=0.0, consistency_weight=0.0).fit(X, y_semi)
    assert clf.n_iter_ == 6 and hasattr(clf.module_, "decoder")


def test_decoder_cannot_be_added_to_a_fitted_net(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST, warm_start=True).fit(X, y)
    n_iter = clf.n_iter_
    with pytest.raises(ValueError, match="reconstruction_weight=1.0 needs the decoder"):
        clf.set_params(reconstruction_weight=1.0).fit(X, y)
    assert clf.n_iter_ == n_iter
    with pytest.raises(ValueError, match="reconstruction_weight=1.0 needs the decoder"):
        clf.partial_fit(X, y)


@pytest.mark.parametrize("name", ["reconstruction_weight", "consistency_weight"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "1"])
def test_bad_weights_name_the_setting(digits_unit_stratified_split, name, value):
    X, _, y, _ = digits_unit_stratified_split
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        StackedAutoencoderClassifier(**FAST, **{name: value}).fit(X[:50], y[:50])


def test_reconstruction_needs_a_hidden_layer(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(
        hidden_layer_sizes=(), corruption_levels=0.1, reconstruction_weight=1.0
    )
    with pytest.raises(ValueError, match="reconstruction_weight=1.0 needs at least one hidden"):
        clf.fit(X[:50], y[:50])
    # The consistency term needs none: a linear softmax classifier, input dropout.
    clf.set_params(reconstruction_weight=0.0, consistency_weight=1.0, input_dropout=0.2)
    clf.set_params(max_iter=2).fit(X[:50], y[:50])


def test_sample_weight_weighs_both_terms(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    y_semi = few_labels(y, 20)
    # Each term is a weighted mean: weights of 2 everywhere train as none.
    plain = StackedAutoencoderClassifier(**SEMI, alpha=0.0).fit(X, y_semi)
    doubled = StackedAutoencoderClassifier(**SEMI, alpha=0.0)
    doubled.fit(X, y_semi, sample_weight=np.full(len(y), 2))
    for name, value in weights_of(plain).items():
        torch.testing.assert_close(weights_of(doubled)[name], value, atol=1e-4, rtol=1e-4)
    # A weight of 0 drops an unlabelled row from the reconstruction too.
    weight = np.ones(X.shape[0])
    weight[np.flatnonzero(y_semi == -1)[::2]] = 0
    kept = weight > 0
    zeros = StackedAutoencoderClassifier(**SEMI).fit(X, y_semi, sample_weight=weight)
    dropped = StackedAutoencoderClassifier(**SEMI).fit(
        X[kept], y_semi[kept], sample_weight=weight[kept]
    )
    assert_same_weights(weights_of(zeros), weights_of(dropped))
    assert zeros.t_ == 5 * kept.sum()
    # Early stopping with weights (a validation split of the labelled rows).
    clf = StackedAutoencoderClassifier(**SEMI, early_stopping=True)
    clf.fit(X, y_semi, sample_weight=np.linspace(0.5, 2, X.shape[0]))
    assert len(clf.validation_scores_) == clf.n_iter_


@pytest.mark.parametrize("labels", ["all", "few"])
def test_consistency_target_leaves_the_running_statistics_alone(
    digits_unit_stratified_split, labels
):
    # The clean pass behind the consistency term's target is no training
    # step: only the noisy passes (one a step when all rows are labelled,
    # else the labelled batch and the batch of all rows) update the norms.
    X, _, y, _ = digits_unit_stratified_split
    y_fit = y if labels == "all" else few_labels(y, 20)
    settings = dict(FAST, batch_norm=True, noise_std=0.1, consistency_weight=1.0, batch_size=64)
    clf = StackedAutoencoderClassifier(**settings).fit(X, y_fit)
    steps = clf.n_iter_ * -(-X.shape[0] // 64)
    passes = 1 if labels == "all" else 2
    # The logits' norm, which greedy pretraining never runs.
    assert int(clf.module_.norms[-1].num_batches_tracked) == passes * steps


def test_target_logits_are_the_clean_training_pass():
    torch.manual_seed(0)
    net = StackedNet(6, (5,), 3, "relu", batch_norm=True).train()
    x = torch.randn(8, 6)
    before = {name: buffer.clone() for name, buffer in net.named_buffers()}
    target = net.target_logits(x)
    assert_same_weights({name: b for name, b in net.named_buffers()}, before)
    torch.testing.assert_close(target, net(x), rtol=0, atol=0)
