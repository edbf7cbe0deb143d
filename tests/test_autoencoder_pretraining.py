"""Greedy layer-wise pretraining of the MLP autoencoders (``pretrain_max_iter``)."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch.nn import functional as F

import skae
import skae._autoencoder
from skae import AutoencoderTransformer, DenoisingAutoencoder
from skae._estimator import TorchEstimator
from skae._nets import MLPAutoencoder
from skae._pretraining import LayerStack, _layer_phase

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DEEP = dict(hidden_layer_sizes=(32, 16), max_iter=2, tol=0, batch_size=100, random_state=0)
PRETRAINED = dict(DEEP, pretrain_max_iter=3)


@pytest.fixture
def X(digits_unit):
    return digits_unit[:400]


def _outputs(estimator, X):
    return estimator.transform(X), estimator.score_samples(X)


def _assert_same_fit(a, b, X):
    for left, right in zip(_outputs(a, X), _outputs(b, X), strict=True):
        np.testing.assert_array_equal(left, right)
    assert a.loss_curve_ == b.loss_curve_


def _spy_on_pretraining(monkeypatch):
    """Record the net's state before and after each call of ``_pretrain``."""
    calls, original = [], AutoencoderTransformer._pretrain

    def spy(self, net, *args):
        before = copy.deepcopy(net.state_dict())
        attributes = original(self, net, *args)
        calls.append((before, copy.deepcopy(net.state_dict())))
        return attributes

    monkeypatch.setattr(AutoencoderTransformer, "_pretrain", spy)
    return calls


# ---------------------------------------------------------------- default


@pytest.mark.parametrize("cls", [AutoencoderTransformer, DenoisingAutoencoder])
def test_zero_epochs_is_the_fit_without_pretraining(cls, X, monkeypatch):
    settings = dict(DEEP, pretrain_learning_rate_init=0.5)  # unused at 0 epochs
    default = cls(4, **settings).fit(X)
    assert default.pretrain_max_iter == 0
    assert default.pretrain_loss_curves_ == [[], [], []]
    # The fit sequence with no pretraining hook at all.
    monkeypatch.setattr(cls, "_pretrain", TorchEstimator._pretrain)
    _assert_same_fit(default, cls(4, **settings).fit(X), X)


# ------------------------------------------------------------ what it does


@pytest.mark.parametrize("tied_weights", [False, True])
def test_pretraining_trains_every_layer_of_encoder_and_decoder(tied_weights, X, monkeypatch):
    calls = _spy_on_pretraining(monkeypatch)
    ae = AutoencoderTransformer(4, tied_weights=tied_weights, **PRETRAINED).fit(X)
    (before, after), *_ = calls
    assert before.keys() == after.keys()
    for name in before:
        changed = not torch.equal(before[name], after[name])
        # The standardisation buffers are data, not weights.
        assert changed == (name not in ("input_mean", "output_offset", "data_scale")), name
    n_decoder_weights = sum(
        1 for name in after if name.startswith("decoder.") and "weight" in name
    )
    assert n_decoder_weights == (0 if tied_weights else 3)
    assert [len(curve) for curve in ae.pretrain_loss_curves_] == [3, 3, 3]
    for curve in ae.pretrain_loss_curves_:
        assert all(np.isfinite(curve)) and curve[-1] < curve[0]


def test_pretraining_lowers_the_initial_loss_of_fine_tuning(X):
    settings = dict(DEEP, hidden_layer_sizes=(48, 32, 16), max_iter=1)
    plain = AutoencoderTransformer(4, **settings).fit(X)
    pretrained = AutoencoderTransformer(4, pretrain_max_iter=10, **settings).fit(X)
    assert pretrained.loss_curve_[0] < 0.9 * plain.loss_curve_[0]


def test_first_layer_uses_the_reconstruction_loss_and_the_centring(X):
    # BCE of the sigmoid output of the first layer: its reconstruction
    # starts at the mean pixel (as the whole net's), so its first epoch is
    # near the cross-entropy of the mean (0.41), not log(2) = 0.69 per pixel.
    ae = AutoencoderTransformer(
        4, output_activation="sigmoid", loss="bce", pretrain_max_iter=1, **DEEP
    ).fit(X)
    mean = np.clip(X.mean(axis=0), 1e-3, 1 - 1e-3)
    mean_bce = -np.mean(X * np.log(mean) + (1 - X) * np.log(1 - mean))
    assert abs(ae.pretrain_loss_curves_[0][0] - mean_bce) < 0.05 * mean_bce


def test_denoising_pretraining_corrupts_each_layer(X):
    settings = dict(PRETRAINED, hidden_layer_sizes=(16,))
    plain = AutoencoderTransformer(4, loss="mse", **settings).fit(X)  # DAE's default loss
    # No noise: exactly the plain autoencoder's pretraining and training.
    _assert_same_fit(plain, DenoisingAutoencoder(4, noise_level=0.0, **settings).fit(X), X)
    noisy = DenoisingAutoencoder(4, noise_level=0.5, **settings).fit(X)
    for clean_curve, noisy_curve in zip(
        plain.pretrain_loss_curves_, noisy.pretrain_loss_curves_, strict=True
    ):
        assert noisy_curve[-1] > clean_curve[-1]


def test_early_stopping_keeps_the_validation_split_out_of_pretraining(X, monkeypatch):
    seen = []
    original = skae._autoencoder.pretrain_stack

    def recording(estimator, stack, X_pretrain, *args):
        seen.append(X_pretrain.shape[0])
        return original(estimator, stack, X_pretrain, *args)

    monkeypatch.setattr(skae._autoencoder, "pretrain_stack", recording)
    AutoencoderTransformer(4, early_stopping=True, validation_fraction=0.25, **PRETRAINED).fit(X)
    assert seen == [300]


def test_sample_weight_weighs_pretraining_as_a_weighted_mean(X):
    weights = np.random.RandomState(0).uniform(0.5, 1.5, len(X))
    # No L2 penalty: it is divided by the batch's total weight.
    settings = dict(PRETRAINED, alpha=0.0)
    once = AutoencoderTransformer(4, **settings).fit(X, sample_weight=weights)
    # Doubling every weight is exact in binary: the same means, bit for bit.
    twice = AutoencoderTransformer(4, **settings).fit(X, sample_weight=2 * weights)
    _assert_same_fit(once, twice, X)
    assert once.pretrain_loss_curves_ == twice.pretrain_loss_curves_
    unweighted = AutoencoderTransformer(4, **settings).fit(X)
    assert unweighted.pretrain_loss_curves_ != once.pretrain_loss_curves_


def test_lbfgs_and_cosine_schedules_pretrain_too(X):
    for settings in (dict(solver="lbfgs"), dict(learning_rate="cosine")):
        ae = AutoencoderTransformer(4, **dict(PRETRAINED, **settings)).fit(X)
        assert [len(curve) for curve in ae.pretrain_loss_curves_] == [3, 3, 3]


# ----------------------------------------------------- determinism, state


def test_same_random_state_gives_identical_pretraining(X):
    first = AutoencoderTransformer(4, **PRETRAINED).fit(X)
    second = clone(first).fit(X)
    _assert_same_fit(first, second, X)
    assert first.pretrain_loss_curves_ == second.pretrain_loss_curves_
    other = AutoencoderTransformer(4, **dict(PRETRAINED, random_state=1)).fit(X)
    assert other.pretrain_loss_curves_ != first.pretrain_loss_curves_


@pytest.mark.parametrize("tied_weights", [False, True])
def test_pickle_and_save_load_keep_the_pretrained_model(tied_weights, X, tmp_path):
    ae = DenoisingAutoencoder(4, tied_weights=tied_weights, **PRETRAINED).fit(X)
    assert clone(ae).get_params() == ae.get_params()
    skae.save(ae, tmp_path / "ae.skae")
    for copy_ in (pickle.loads(pickle.dumps(ae)), skae.load(tmp_path / "ae.skae")):
        _assert_same_fit(ae, copy_, X)
        assert copy_.pretrain_loss_curves_ == ae.pretrain_loss_curves_
        assert copy_.get_params() == ae.get_params()


def test_warm_start_and_partial_fit_pretrain_only_a_fresh_net(X, monkeypatch):
    calls = _spy_on_pretraining(monkeypatch)
    ae = AutoencoderTransformer(4, warm_start=True, **PRETRAINED).fit(X)
    curves = ae.pretrain_loss_curves_
    ae.fit(X)  # continues: no pretraining, the first fit's curves kept
    assert len(calls) == 1 and ae.pretrain_loss_curves_ is curves and ae.n_iter_ == 4

    calls.clear()
    online = AutoencoderTransformer(4, **PRETRAINED)
    online.partial_fit(X)
    online.partial_fit(X)
    assert len(calls) == 1  # the first call builds and pretrains the net
    assert [len(curve) for curve in online.pretrain_loss_curves_] == [3, 3, 3]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "name, value",
    [
        ("pretrain_max_iter", -1),
        ("pretrain_max_iter", 1.5),
        ("pretrain_max_iter", "10"),
        ("pretrain_learning_rate_init", 0.0),
        ("pretrain_learning_rate_init", -1e-3),
        ("pretrain_learning_rate_init", "auto"),
    ],
)
def test_bad_values_are_refused_by_name(name, value, X):
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        AutoencoderTransformer(4, **{**PRETRAINED, name: value}).fit(X)


def _two_linear_maps(n_features, n_components):
    return torch.nn.Linear(n_features, n_components), torch.nn.Linear(n_components, n_features)


@pytest.mark.parametrize(
    "architecture",
    [dict(architecture="conv", image_shape=(8, 8), conv_channels=(4,)),
     dict(architecture=_two_linear_maps)],
)  # fmt: skip
def test_other_architectures_refuse_pretraining_by_name(architecture, X):
    settings = dict(DEEP, hidden_layer_sizes=(), **architecture)
    with pytest.raises(ValueError, match="pretrain_max_iter=2 pretrains the layers of"):
        AutoencoderTransformer(4, pretrain_max_iter=2, **settings).fit(X)
    ae = AutoencoderTransformer(4, **settings).fit(X)  # 0: nothing to pretrain
    assert ae.pretrain_loss_curves_ == []


def test_divergence_in_pretraining_names_the_rate_in_use(X):
    with pytest.raises(FloatingPointError, match="pretraining layer 1") as error:
        AutoencoderTransformer(4, learning_rate_init=1e30, **PRETRAINED).fit(X * 1e3)
    assert "learning_rate_init=1e+30" in str(error.value)
    with pytest.raises(FloatingPointError) as error:
        AutoencoderTransformer(4, pretrain_learning_rate_init=1e30, **PRETRAINED).fit(X * 1e3)
    assert "pretrain_learning_rate_init=1e+30" in str(error.value)


def test_vae_takes_no_pretraining():
    assert "pretrain_max_iter" not in skae.VariationalAutoencoder().get_params()


# -------------------------------------------------- scikit-learn's checks

_SAMPLE_WEIGHT_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data": "float32 minibatches: equal in expectation",
    "check_sample_weight_equivalence_on_sparse_data": "float32 minibatches: equal in expectation",
}


@parametrize_with_checks(
    [
        AutoencoderTransformer(
            hidden_layer_sizes=(8,), pretrain_max_iter=2, max_iter=10, random_state=0
        ),
        DenoisingAutoencoder(
            hidden_layer_sizes=(8,),
            tied_weights=True,
            pretrain_max_iter=2,
            max_iter=10,
            random_state=0,
        ),
    ],  # fmt: skip
    expected_failed_checks=lambda estimator: _SAMPLE_WEIGHT_EQUIVALENCE,
)
def test_sklearn_compatible_with_pretraining(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize("activation, expected", [("relu", "mse"), ("logistic", "bce")])
def test_codes_are_reconstructed_as_what_their_units_give(activation, expected):
    # ReLU codes that happen to lie in [0, 1] are no probabilities: their
    # layer's decoder must learn the output the whole net gives it, by the
    # squared error. Sigmoid codes get the cross-entropy (Vincent et al.).
    torch.manual_seed(0)
    net = MLPAutoencoder(6, (5, 4), 2, activation, "identity")
    stack = LayerStack(net.layer_autoencoder, net.n_layers, lambda k, x, g: x)
    estimator = AutoencoderTransformer(2, hidden_layer_sizes=(5, 4), activation=activation)
    codes = torch.rand(10, 5)  # in [0, 1], as either unit can give
    layer = net.layer_autoencoder(1)
    phase = _layer_phase(estimator, stack, 1, layer, codes.numpy(), None, None)
    logits = layer(codes)
    losses = {
        "mse": (logits - codes).pow(2).mean(),
        "bce": F.binary_cross_entropy_with_logits(logits, codes),
    }
    torch.testing.assert_close(phase.loss_fn(layer, (codes,)), losses[expected])
