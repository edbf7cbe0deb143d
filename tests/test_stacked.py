import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_classifiers_classes

from skae import StackedAutoencoderClassifier
from skae._classifier_net import StackedNet
from skae._layers import build_initialized, mask_noise

# Small and fast: the tests exercise behaviour, the benchmark the quality.
FAST = {
    "hidden_layer_sizes": (64, 32),
    "corruption_levels": (0.1, 0.2),
    "pretrain_max_iter": 2,
    "pretrain_learning_rate_init": 0.01,
    "max_iter": 20,
    "learning_rate_init": 0.01,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def fitted(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    return StackedAutoencoderClassifier(**FAST).fit(X_train, y_train)


def test_digits_accuracy(digits_unit_stratified_split, fitted):
    _, X_test, _, y_test = digits_unit_stratified_split
    assert fitted.score(X_test, y_test) >= 0.95


def test_fitted_attributes(digits_unit_stratified_split, fitted):
    X_train, X_test, _, _ = digits_unit_stratified_split
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    assert fitted.n_layers_ == 4
    assert [len(c) for c in fitted.pretrain_loss_curves_] == [2, 2]
    assert len(fitted.loss_curve_) == fitted.n_iter_ == 20
    assert fitted.validation_scores_ is None
    assert fitted.transform(X_test).shape == (X_test.shape[0], 32)
    assert fitted.get_feature_names_out().shape == (32,)
    # Pretraining reduces each layer's reconstruction loss.
    for curve in fitted.pretrain_loss_curves_:
        assert curve[-1] < curve[0]


def test_probabilities(digits_unit_stratified_split, fitted):
    _, X_test, _, _ = digits_unit_stratified_split
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (X_test.shape[0], 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(fitted.predict_log_proba(X_test)), proba, rtol=1e-10)
    np.testing.assert_array_equal(fitted.predict(X_test), proba.argmax(axis=1))
    np.testing.assert_array_equal(fitted.decision_function(X_test).argmax(axis=1), proba.argmax(1))
    assert fitted.predict_proba(X_test.astype(np.float32)).dtype == np.float32


def test_string_labels_round_trip(digits_unit_stratified_split):
    X_train, X_test, y_train, y_test = digits_unit_stratified_split
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "8", "9"])
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, names[y_train])
    np.testing.assert_array_equal(clf.classes_, np.sort(names))
    predicted = clf.predict(X_test)
    assert predicted.dtype == names.dtype
    assert set(predicted) <= set(names)
    assert clf.score(X_test, names[y_test]) >= 0.9


def test_binary_decision_function(digits_unit_stratified_split):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    keep = y_train < 2
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train[keep], y_train[keep])
    scores = clf.decision_function(X_test)
    assert scores.shape == (X_test.shape[0],)
    np.testing.assert_array_equal(clf.predict(X_test), (scores > 0).astype(int))


def test_unlabelled_samples_are_used_in_pretraining_only(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    y = y_train.copy()
    y[100:] = -1
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y_train[:100]))
    assert -1 not in clf.predict(X_train)
    # Fine-tuning saw only the 100 labelled samples: same as fitting them alone
    # with pretraining off (pretraining consumes no randomness then).
    baseline = dict(FAST, pretrain_max_iter=0)
    a = StackedAutoencoderClassifier(**baseline).fit(X_train, y)
    b = StackedAutoencoderClassifier(**baseline).fit(X_train[:100], y_train[:100])
    np.testing.assert_array_equal(a.predict_proba(X_train), b.predict_proba(X_train))
    # With pretraining, the unlabelled samples change the model.
    c = StackedAutoencoderClassifier(**FAST).fit(X_train[:100], y_train[:100])
    assert not np.array_equal(clf.predict_proba(X_train), c.predict_proba(X_train))


def test_object_labels_with_minus_one(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    y = np.array(["a" if v % 2 else "b" for v in y_train], dtype=object)
    y[::2] = -1
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, y)
    assert list(clf.classes_) == ["a", "b"]


def test_no_labelled_sample_is_an_error(digits_unit_stratified_split):
    X_train, _, _, _ = digits_unit_stratified_split
    with pytest.raises(ValueError, match="No labelled sample"):
        StackedAutoencoderClassifier(**FAST).fit(X_train, np.full(X_train.shape[0], -1))


def test_minus_one_plus_one_labels_explain_the_convention(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    y = np.where(y_train < 5, -1, 1)
    with pytest.raises(ValueError, match="unlabeled=None"):
        StackedAutoencoderClassifier(**FAST).fit(X_train, y)
    clf = StackedAutoencoderClassifier(**FAST, unlabeled=None).fit(X_train, y)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])


def test_minus_one_is_a_class_with_unlabeled_none():
    # The one common check listed as expected to fail passes with unlabeled=None.
    clf = StackedAutoencoderClassifier(**dict(FAST, hidden_layer_sizes=(16, 16)), unlabeled=None)
    check_classifiers_classes("StackedAutoencoderClassifier", clf)


def test_custom_unlabeled_marker(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    y = np.array([f"digit {v}" for v in y_train])
    y[200:] = "?"
    clf = StackedAutoencoderClassifier(**FAST, unlabeled="?").fit(X_train, y)
    assert "?" not in clf.classes_


def test_a_numeric_marker_turned_into_a_string_is_refused(digits_unit_stratified_split):
    # NumPy makes ["digit 3", -1] an array of strings: the marked rows would
    # silently have made a class "-1".
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    y = [f"digit {v}" if i < 200 else -1 for i, v in enumerate(y_train)]
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    as_text = np.asarray(y).astype(object)  # "-1" read from a file: a marker or a class?
    for method, labels in [(clf.fit, y), (clf.partial_fit, y), (clf.fit, as_text)]:
        with pytest.raises(ValueError, match=r"y holds the string '-1', but unlabeled=-1 is"):
            method(X_train, labels)
    classes = [*np.unique(y[:200]), -1]  # np.unique(y) of such a y has the same trap
    with pytest.raises(ValueError, match=r"classes holds the string '-1'.*unlabeled=None if"):
        clone(clf).partial_fit(X_train, np.asarray(y, dtype=object), classes=classes)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    as_objects = clone(clf).fit(X_train, np.asarray(y, dtype=object))
    as_strings = clone(clf).set_params(unlabeled="-1").fit(X_train, y)
    for fitted in (as_objects, as_strings):
        assert fitted.classes_.tolist() == sorted({f"digit {v}" for v in y_train[:200]})
    as_class = clone(clf).set_params(unlabeled=None).fit(X_train, y)
    assert "-1" in as_class.classes_.tolist()
    with pytest.raises(ValueError, match=r"y holds the string '-1', but unlabeled=-1.0 is"):
        clone(clf).set_params(unlabeled=-1.0).fit(X_train, y)


@pytest.mark.parametrize("labels_dtype", [int, float, object])
def test_a_string_marker_of_numeric_labels_is_refused(digits_unit_stratified_split, labels_dtype):
    # unlabeled="-1" (read from a configuration) matches no -1 of numeric
    # labels: the marked rows would silently have been trained as a class -1.
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    y = np.where(np.arange(len(y_train)) < 200, y_train, -1).astype(labels_dtype)
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    for marker in ("-1", "-1.0"):
        clf.set_params(unlabeled=marker)
        for method in (clf.fit, clf.partial_fit):
            with pytest.raises(
                ValueError, match=rf"y holds the number -1, but unlabeled='{marker}'"
            ):
                method(X_train, y)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    if labels_dtype is not object:  # object arrays of numbers are no labels to sklearn
        as_marker = clone(clf).set_params(unlabeled=-1).fit(X_train, y)
        assert -1 not in as_marker.classes_.tolist()


@pytest.mark.parametrize("classes", [set(range(10)), "0123456789", (c for c in range(10))])
def test_partial_fit_classes_must_be_an_array_like(digits_unit_stratified_split, classes):
    # NumPy makes a set, a string or a generator one object: it used to be
    # read as one class, and the error blamed y for holding a single class.
    X_train, _, y_train, _ = digits_unit_stratified_split
    with pytest.raises(ValueError, match="classes must be an array-like of labels"):
        StackedAutoencoderClassifier(**FAST).partial_fit(X_train, y_train, classes=classes)


def test_partial_fit_classes_must_be_1d(digits_unit_stratified_split):
    # Flattened, a 2-D array would hold classes no label has.
    X_train, _, y_train, _ = digits_unit_stratified_split
    with pytest.raises(ValueError, match=r"classes must be 1-D.*shape \(2, 5\)"):
        StackedAutoencoderClassifier(**FAST).partial_fit(
            X_train, y_train, classes=np.arange(10).reshape(2, 5)
        )
    # A single column holds no more classes than its rows: taken as MLPClassifier does.
    clf = StackedAutoencoderClassifier(**FAST).partial_fit(
        X_train, y_train, classes=np.arange(10).reshape(10, 1)
    )
    assert clf.classes_.tolist() == list(range(10))


def test_deterministic_with_random_state(digits_unit_stratified_split, fitted):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    again = clone(fitted).fit(X_train, y_train)
    np.testing.assert_array_equal(again.predict_proba(X_test), fitted.predict_proba(X_test))
    assert again.pretrain_loss_curves_ == fitted.pretrain_loss_curves_
    other = clone(fitted).set_params(random_state=1).fit(X_train, y_train)
    assert not np.array_equal(other.predict_proba(X_test), fitted.predict_proba(X_test))


def test_global_torch_rng_untouched(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    state = torch.get_rng_state()
    StackedAutoencoderClassifier(**FAST, dropout=0.2).fit(X_train[:300], y_train[:300])
    assert torch.equal(state, torch.get_rng_state())


def test_no_pretraining_baseline_shares_the_initialisation(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    params = dict(FAST, max_iter=1)
    pretrained = StackedAutoencoderClassifier(**params).fit(X_train, y_train)
    baseline = StackedAutoencoderClassifier(**dict(params, pretrain_max_iter=0))
    baseline.fit(X_train, y_train)
    assert baseline.pretrain_loss_curves_ == [[], []]
    untrained = build_initialized(
        lambda: StackedNet(64, (64, 32), 10, "relu"),
        torch.Generator().manual_seed(np.random.RandomState(0).randint(np.iinfo(np.int32).max)),
    )
    # One epoch of fine-tuning moves the weights a little; pretraining a lot.
    w0 = untrained.hidden[0].weight
    moved_baseline = (baseline.module_.hidden[0].weight - w0).abs().mean()
    moved_pretrained = (pretrained.module_.hidden[0].weight - w0).abs().mean()
    assert moved_baseline < moved_pretrained


def test_early_stopping_restores_best_validation_accuracy(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST, early_stopping=True, n_iter_no_change=3)
    clf.fit(X_train, y_train)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_sparse_input_matches_dense(digits_unit_stratified_split):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    params = dict(FAST, max_iter=3)
    dense = StackedAutoencoderClassifier(**params).fit(X_train, y_train)
    sparse = StackedAutoencoderClassifier(**params).fit(sp.csr_matrix(X_train), y_train)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X_test)), dense.predict_proba(X_test), atol=1e-6
    )


def test_corruption_levels_must_match_layers(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**dict(FAST, corruption_levels=(0.1, 0.2, 0.3)))
    with pytest.raises(ValueError, match="one level per hidden layer"):
        clf.fit(X_train, y_train)


def test_failed_fit_keeps_previous_model(digits_unit_stratified_split, fitted):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    clf = clone(fitted).fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError):
        clf.fit(X_train[:, :10], np.full(X_train.shape[0], -1))
    assert clf.n_features_in_ == X_train.shape[1]
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_verbose_prints_both_phases(digits_unit_stratified_split, capsys):
    X_train, _, y_train, _ = digits_unit_stratified_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        StackedAutoencoderClassifier(**dict(FAST, max_iter=1), verbose=True).fit(
            X_train[:200], y_train[:200]
        )
    out = capsys.readouterr().out
    assert "Pretraining layer 2: Epoch 2" in out
    assert "Fine-tuning: Epoch 1" in out


def test_mask_noise():
    generator = torch.Generator().manual_seed(0)
    X = torch.ones(200, 500)
    noisy = mask_noise(X, 0.3, generator)
    assert set(noisy.unique().tolist()) == {0.0, 1.0}
    assert abs((noisy == 0).float().mean().item() - 0.3) < 0.01
    assert mask_noise(X, 0.0, generator) is X


def test_tied_layer_shares_the_encoder():
    net = build_initialized(lambda: StackedNet(6, (4,), 2, "logistic"), torch.Generator())
    layer = net.layer_autoencoder(0)
    assert layer.encoder[0].weight is net.hidden[0].weight
    assert layer(torch.zeros(3, 6)).shape == (3, 6)
    assert sum(p.numel() for p in layer.parameters()) == 4 * 6 + 4 + 6


def test_learning_rate_schedule_applies_to_fine_tuning(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    # tol=10: no epoch improves enough, so a constant rate stops after
    # 1 + n_iter_no_change + 1 epochs, while "adaptive" lowers the rate and
    # goes on to max_iter.
    params = dict(FAST, pretrain_max_iter=1, max_iter=6, tol=10.0, n_iter_no_change=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        constant = StackedAutoencoderClassifier(**params, learning_rate="constant")
        constant.fit(X_train, y_train)
        adaptive = StackedAutoencoderClassifier(**params, learning_rate="adaptive").fit(
            X_train, y_train
        )
        cosine = StackedAutoencoderClassifier(**dict(FAST, learning_rate="cosine")).fit(
            X_train, y_train
        )
    assert constant.n_iter_ == 3 and adaptive.n_iter_ == 6
    assert cosine.score(*digits_unit_stratified_split[1::2]) >= 0.95


def test_input_dropout_masks_and_rescales_the_inputs():
    net = build_initialized(lambda: StackedNet(1000, (), 2, "relu"), torch.Generator())
    x = torch.ones(20, 1000)
    out = net.encode(x, input_dropout=0.2, generator=torch.Generator().manual_seed(0))
    assert abs((out == 0).float().mean().item() - 0.2) < 0.01
    torch.testing.assert_close(out[out != 0], torch.full_like(out[out != 0], 1 / 0.8))
    # No mask unless asked for (as at inference).
    assert torch.equal(net.encode(x), x)


def test_input_and_hidden_dropout_in_fine_tuning(digits_unit_stratified_split):
    X_train, X_test, y_train, y_test = digits_unit_stratified_split
    params = dict(FAST, dropout=0.2, input_dropout=0.2)
    clf = StackedAutoencoderClassifier(**params).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.93
    # The masks come from random_state: refitting repeats the model.
    again = StackedAutoencoderClassifier(**params).fit(X_train, y_train)
    np.testing.assert_array_equal(clf.predict_proba(X_test), again.predict_proba(X_test))
    plain = StackedAutoencoderClassifier(**FAST).fit(X_train, y_train)
    assert not np.array_equal(clf.predict_proba(X_test), plain.predict_proba(X_test))


def test_partial_fit_needs_classes_on_the_first_call(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X_train, y_train)
    assert not hasattr(clf, "classes_")


def test_partial_fit_continues_fine_tuning(digits_unit_stratified_split):
    X_train, X_test, y_train, y_test = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST)
    # The first chunk lacks class 9: classes= declares it.
    first = y_train != 9
    clf.partial_fit(X_train[first], y_train[first], classes=np.arange(10))
    assert clf.classes_.tolist() == list(range(10)) and clf.n_iter_ == 1
    pretrained = [layer.weight.detach().clone() for layer in clf.module_.hidden]
    for _ in range(10):
        clf.partial_fit(X_train, y_train)
    assert clf.n_iter_ == 11 and len(clf.loss_curve_) == 11
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X_test, y_test) >= 0.9
    # Later calls fine-tune the same network; they do not pretrain again.
    assert len(clf.pretrain_loss_curves_[0]) == FAST["pretrain_max_iter"]
    assert not torch.equal(pretrained[0], clf.module_.hidden[0].weight)


def test_partial_fit_rejects_unknown_labels_and_keeps_the_model(digits_unit_stratified_split):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST).partial_fit(X_train, y_train, classes=range(10))
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError, match=r"labels \[10\] that are not in classes"):
        clf.partial_fit(X_train[:20], np.full(20, 10))
    assert clf.n_iter_ == 1
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    # A first call: the advice is about classes, not about warm_start.
    with pytest.raises(ValueError, match="list every label of y in classes, of the same type"):
        clone(clf).partial_fit(X_train[:4], [1, "a", 1, "a"], classes=[1, "b"])


def test_later_partial_fit_refuses_other_classes_and_keeps_the_model(
    digits_unit_stratified_split,
):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST).partial_fit(X_train, y_train, classes=range(10))
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError, match=r"classes=\[0, 1, .*, 10\] differs from the fitted"):
        clf.partial_fit(X_train, y_train, classes=range(11))
    assert clf.n_iter_ == 1
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    clf.partial_fit(X_train, y_train, classes=list(reversed(range(10))))  # the same set
    assert clf.n_iter_ == 2


def test_partial_fit_skips_unlabelled_samples(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST).partial_fit(X_train, y_train, classes=range(10))
    y_partly = y_train.copy()
    y_partly[::2] = -1
    clf.partial_fit(X_train, y_partly)
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="No labelled sample"):
        clf.partial_fit(X_train[:10], np.full(10, -1))


def test_the_unlabelled_marker_in_classes_is_no_class(digits_unit_stratified_split):
    # classes=np.unique(y), the usual partial_fit call, holds -1 when y has
    # unlabelled rows: the classes are those fit would find.
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    y_partly = y_train.copy()
    y_partly[::3] = -1
    clf = StackedAutoencoderClassifier(**FAST)
    clf.partial_fit(X_train, y_partly, classes=np.unique(y_partly))
    assert clf.classes_.tolist() == list(range(10))
    assert clf.predict_proba(X_test).shape == (len(X_test), 10)
    clf.partial_fit(X_train, y_partly, classes=np.unique(y_partly))  # the same classes
    assert clf.n_iter_ == 2
    # With unlabeled=None, -1 is a class like any other.
    clf = StackedAutoencoderClassifier(**dict(FAST, unlabeled=None))
    clf.partial_fit(X_train, y_partly, classes=np.unique(y_partly))
    assert clf.classes_.tolist() == list(range(-1, 10))


def test_nan_as_the_unlabelled_marker_is_refused_by_name(digits_unit_stratified_split):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    clf.set_params(unlabeled=float("nan"))
    for y in (y_train, np.where(np.arange(len(y_train)) % 3, y_train, np.nan)):
        with pytest.raises(ValueError, match=r"unlabeled=nan cannot mark .*fillna\(-1\)"):
            clf.fit(X_train, y)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


@pytest.mark.parametrize("marker", [True, False])  # np.True_ fails the Real constraint
def test_a_bool_unlabelled_marker_is_refused_by_name(digits_unit_stratified_split, marker):
    # True passes the Real constraint and equals the label 1: the class 1
    # silently became "unlabelled".
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST).fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    clf.set_params(unlabeled=marker)
    with pytest.raises(ValueError, match=f"unlabeled={marker!r} would mark every sample labelled"):
        clf.fit(X_train, y_train)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_one_class_is_refused_naming_what_removed_the_others(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    X, y = X_train[:60], np.where(y_train[:60] == 3, 3, 5)
    clf = StackedAutoencoderClassifier(**FAST)
    with pytest.raises(ValueError, match=r"at least 2 classes, but got 1 class \(5\)\.$"):
        clf.fit(X[y == 5], y[y == 5])
    with pytest.raises(ValueError, match="unlabeled=-1 marks unlabelled samples"):
        clf.fit(X, np.where(y == 3, -1, y))
    with pytest.raises(ValueError, match="Samples of sample_weight 0 were left out first"):
        clf.fit(X, y, sample_weight=(y == 5).astype(float))


def test_labelled_rows_all_weighted_zero_are_named_in_the_error(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    y_partly = y_train[:60].copy()
    y_partly[:30] = -1
    weights = np.r_[np.ones(30), np.zeros(30)]
    clf = StackedAutoencoderClassifier(**FAST)
    with pytest.raises(ValueError, match="unlabeled=-1 or has sample_weight 0"):
        clf.fit(X_train[:60], y_partly, sample_weight=weights)


def test_no_hidden_layer_is_a_linear_softmax_classifier(digits_unit_stratified_split):
    X_train, X_test, y_train, y_test = digits_unit_stratified_split
    # A single float for corruption_levels fits any depth, none included.
    clf = StackedAutoencoderClassifier(
        hidden_layer_sizes=(),
        corruption_levels=0.1,
        learning_rate_init=0.01,
        max_iter=30,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.pretrain_loss_curves_ == [] and clf.n_layers_ == 2
    assert [name for name, _ in clf.module_.named_parameters()] == ["head.weight", "head.bias"]
    assert clf.score(X_test, y_test) > 0.9
    # Its features are the inputs themselves.
    np.testing.assert_array_equal(clf.transform(X_test), X_test)
    assert len(clf.get_feature_names_out()) == X_train.shape[1]


def test_warm_start_fine_tunes_again_without_pretraining(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**dict(FAST, max_iter=2)).fit(X_train, y_train)
    curves = clf.pretrain_loss_curves_
    weights = clf.module_.hidden[0].weight.detach().clone()
    clf.set_params(warm_start=True, pretrain_max_iter=50).fit(X_train, y_train)
    assert clf.n_iter_ == 4 and clf.pretrain_loss_curves_ is curves
    assert not torch.equal(weights, clf.module_.hidden[0].weight)


def test_warm_start_refuses_new_classes_and_keeps_the_model(digits_unit_stratified_split):
    X_train, X_test, y_train, _ = digits_unit_stratified_split
    keep = y_train < 5
    clf = StackedAutoencoderClassifier(**dict(FAST, max_iter=2, warm_start=True))
    clf.fit(X_train[keep], y_train[keep])
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError, match=r"labels \[5, 6, 7, 8, 9\] that are not in classes_"):
        clf.fit(X_train, y_train)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_default_corruption_levels_fit_any_depth(digits_unit_stratified_split):
    X_train, _, y_train, _ = digits_unit_stratified_split
    fast = dict(pretrain_max_iter=1, max_iter=2, random_state=0)
    for sizes, levels in [
        ((16,), (0.1,)),
        ((16, 12), (0.1, 0.3)),
        ((16, 12, 8), (0.1, 0.2, 0.3)),
        ((16, 12, 8, 4), (0.1, 0.1 + 0.2 / 3, 0.3 - 0.2 / 3, 0.3)),
    ]:
        auto = StackedAutoencoderClassifier(sizes, **fast).fit(X_train[:200], y_train[:200])
        explicit = StackedAutoencoderClassifier(sizes, corruption_levels=levels, **fast)
        explicit.fit(X_train[:200], y_train[:200])
        assert auto.pretrain_loss_curves_ == explicit.pretrain_loss_curves_
    search = GridSearchCV(
        StackedAutoencoderClassifier(**fast),
        {"hidden_layer_sizes": [(16,), (16, 12), (16, 12, 8)]},
        cv=2,
    ).fit(X_train[:200], y_train[:200])
    assert search.best_params_["hidden_layer_sizes"] in [(16,), (16, 12), (16, 12, 8)]


# ------------------------------------------------- batch_norm and noise_std


def test_batch_norm_normalises_every_layer_and_infers_from_running_statistics(
    digits_unit_stratified_split,
):
    X, X_test, y, _ = digits_unit_stratified_split
    clf = StackedAutoencoderClassifier(**FAST, batch_norm=True, noise_std=0.3).fit(X, y)
    norms = clf.module_.norms
    assert [norm.num_features for norm in norms] == [64, 32, 10]
    assert all(int(norm.num_batches_tracked) > 0 for norm in norms)
    # Inference uses the running statistics: a row's prediction does not
    # depend on the rows beside it, and the noise is training's only.
    together = clf.predict_proba(X_test[:20])
    alone = np.vstack([clf.predict_proba(X_test[i : i + 1]) for i in range(20)])
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(clf.predict_proba(X_test), clf.predict_proba(X_test))


def test_noise_std_changes_fine_tuning_only(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    plain = StackedAutoencoderClassifier(**FAST).fit(X, y)
    quiet = StackedAutoencoderClassifier(**FAST, noise_std=0.0).fit(X, y)
    noisy = StackedAutoencoderClassifier(**FAST, noise_std=0.3).fit(X, y)
    assert plain.pretrain_loss_curves_ == noisy.pretrain_loss_curves_
    assert plain.loss_curve_ == quiet.loss_curve_ != noisy.loss_curve_


def test_batch_norm_pretrains_each_layer_with_its_norm(digits_unit_stratified_split):
    X, _, y, _ = digits_unit_stratified_split
    net = StackedNet(64, (16, 8), 10, "relu", batch_norm=True)
    encoder = net.layer_autoencoder(1).encoder
    assert encoder[0] is net.hidden[1] and encoder[1] is net.norms[1]
    settings = dict(FAST, hidden_layer_sizes=(16, 8), max_iter=1)
    clf = StackedAutoencoderClassifier(**settings, batch_norm=True).fit(X, y)
    assert all(len(curve) == 2 for curve in clf.pretrain_loss_curves_)


def test_batch_norm_takes_a_training_batch_of_one_row(digits_unit_stratified_split):
    # 15 rows in batches of 7: the last batch holds one row, which
    # BatchNorm1d refuses in training; it takes the running statistics.
    X, _, y, _ = digits_unit_stratified_split
    settings = dict(FAST, batch_size=7, max_iter=2, batch_norm=True)
    clf = StackedAutoencoderClassifier(**settings).fit(X[:15], y[:15])
    assert np.isfinite(clf.predict_proba(X[:3])).all()
    # partial_fit on one row: a one-row batch from the first step.
    clf = StackedAutoencoderClassifier(**settings).partial_fit(X[:1], y[:1], classes=range(10))
    assert np.isfinite(clf.predict_proba(X[:3])).all()


def test_batch_norm_round_trips_and_is_deterministic(digits_unit_stratified_split, tmp_path):
    import pickle

    X, X_test, y, _ = digits_unit_stratified_split
    settings = dict(FAST, batch_norm=True, noise_std=0.2)
    first = StackedAutoencoderClassifier(**settings).fit(X, y)
    second = StackedAutoencoderClassifier(**settings).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))
    loaded = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), first.predict_proba(X_test))


@pytest.mark.parametrize("bad", [-0.1, float("inf"), "0.3"])
def test_bad_noise_std_is_refused_by_name(digits_unit_stratified_split, bad):
    X, _, y, _ = digits_unit_stratified_split
    with pytest.raises(ValueError, match="noise_std"):
        StackedAutoencoderClassifier(**FAST, noise_std=bad).fit(X, y)
