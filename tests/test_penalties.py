import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from skae import AutoencoderTransformer
from skae._nets import EncoderDecoder
from skae._penalties import jacobian_frobenius_sq, kl_sparsity, l1_activity


def autograd_jacobian_sq(encode, x):
    jac = torch.autograd.functional.jacobian(lambda v: encode(v[None])[0], x)
    return jac.pow(2).sum()


@pytest.mark.parametrize("centred", [False, True])
def test_closed_form_jacobian_matches_autograd(centred):
    gen = torch.Generator().manual_seed(0)
    module = EncoderDecoder(
        nn.Sequential(nn.Linear(5, 3), nn.Sigmoid()), nn.Linear(3, 5), "identity"
    )
    if centred:
        # As fitted estimators' modules: input standardised by mean_ and a
        # scale far from 1, which the closed form must differentiate through.
        module.set_centre(torch.randn(5, generator=gen), torch.zeros(5), torch.tensor(0.27))
    x = torch.randn(4, 5, generator=gen)
    fast = jacobian_frobenius_sq(module, x)
    exact = torch.stack([autograd_jacobian_sq(module.encode, row) for row in x])
    torch.testing.assert_close(fast, exact)


def test_autograd_jacobian_for_deeper_encoders():
    encoder = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3), nn.Sigmoid())
    module = EncoderDecoder(encoder, nn.Linear(3, 5), "identity")
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    value = jacobian_frobenius_sq(module, x)
    exact = torch.stack([autograd_jacobian_sq(module.encode, row) for row in x])
    torch.testing.assert_close(value, exact)
    # Differentiable with respect to the weights (it is a training loss)...
    value.sum().backward()
    assert encoder[0].weight.grad is not None
    # ...and computable under no_grad, for evaluation.
    with torch.no_grad():
        torch.testing.assert_close(jacobian_frobenius_sq(module, x), value.detach())


def test_kl_and_l1_values():
    code = torch.tensor([[0.1, 0.5], [0.3, 0.5]])
    assert l1_activity(code).item() == pytest.approx(0.35)
    # Unit 1 has mean 0.2 = target (KL 0); unit 2 has mean 0.5.
    kl_unit2 = 0.2 * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.5)
    assert kl_sparsity(code, 0.2).item() == pytest.approx(kl_unit2 / 2, rel=1e-5)


def sparse_settings(**params):
    settings = dict(
        n_components=32,
        hidden_layer_sizes=(),
        output_activation="sigmoid",
        loss="bce",
        learning_rate_init=0.01,
        max_iter=60,
        random_state=0,
    )
    return {**settings, **params}


def test_contractive_lowers_the_jacobian_at_similar_error(digits_unit_split):
    X_train, X_test, _, _ = digits_unit_split
    one_layer = sparse_settings(code_activation="logistic", max_iter=150, tol=0)
    plain = AutoencoderTransformer(**one_layer).fit(X_train)
    cae = AutoencoderTransformer(contractive_weight=3e-4, **one_layer).fit(X_train)

    def jacobian_norm(model):
        x = torch.tensor(X_test, dtype=torch.float32)
        return jacobian_frobenius_sq(model.module_, x).sqrt().mean().item()

    assert jacobian_norm(cae) < 0.8 * jacobian_norm(plain)
    assert -cae.score(X_test) < 1.1 * -plain.score(X_test)


def test_sparse_overcomplete_code_meets_target(digits_unit_split):
    # The classic sparse autoencoder: an overcomplete sigmoid code (4x the
    # input), of which each unit is on ~10% of the time on average. It
    # reconstructs within 10% of the unregularised model with the largest
    # code that model may have (n_components = n_features).
    X_train, X_test, _, _ = digits_unit_split
    settings = sparse_settings(
        code_activation="logistic", max_iter=150, tol=0, alpha=0.0, batch_size=100
    )
    plain = AutoencoderTransformer(**dict(settings, n_components=64)).fit(X_train)
    sparse = AutoencoderTransformer(
        **dict(settings, n_components=256), sparsity_target=0.1, sparsity_weight=0.3
    ).fit(X_train)
    plain_activation = plain.transform(X_test).mean()
    sparse_activation = sparse.transform(X_test).mean()
    assert plain_activation > 0.3
    assert sparse_activation < 0.12
    assert -sparse.score(X_test) < 1.1 * -plain.score(X_test)


def test_l1_activity_zeroes_code_units(digits_unit_split):
    X_train, X_test, _, _ = digits_unit_split
    settings = sparse_settings(code_activation="relu", max_iter=100)
    plain = AutoencoderTransformer(**settings).fit(X_train)
    sparse = AutoencoderTransformer(activity_l1=0.03, **settings).fit(X_train)

    def fraction_zero(model):
        return np.mean(model.transform(X_test) < 1e-3)

    assert fraction_zero(sparse) > fraction_zero(plain) + 0.1
    assert np.abs(sparse.transform(X_test)).mean() < 0.7 * np.abs(plain.transform(X_test)).mean()
    # The trade-off that benchmarks/variants.py sweeps: a light penalty
    # adds zeros while the reconstruction stays within 10% (measured on
    # this centred model: 12.7% zeros vs 8.2%, 1.08x the error).
    light = AutoencoderTransformer(activity_l1=0.007, **settings).fit(X_train)
    assert fraction_zero(light) > fraction_zero(plain) + 0.03
    assert -light.score(X_test) < 1.1 * -plain.score(X_test)


def test_overcomplete_needs_a_regulariser():
    X = np.random.RandomState(0).rand(40, 4)
    with pytest.raises(ValueError, match="regularised autoencoder"):
        AutoencoderTransformer(n_components=6, max_iter=2).fit(X)
    for penalty in [
        dict(activity_l1=0.1),
        dict(sparsity_target=0.1, code_activation="logistic"),
        dict(contractive_weight=0.1),
    ]:
        ae = AutoencoderTransformer(n_components=6, max_iter=2, **penalty).fit(X)
        assert ae.transform(X).shape == (40, 6)


def test_kl_sparsity_needs_sigmoid_code():
    with pytest.raises(ValueError, match="code_activation='logistic'"):
        AutoencoderTransformer(sparsity_target=0.05).fit(np.random.RandomState(0).rand(10, 4))


@pytest.mark.parametrize(
    "param", ["activity_l1", "sparsity_weight", "contractive_weight", "sparsity_target"]
)
def test_negative_weights_are_rejected(param):
    with pytest.raises(InvalidParameterError, match=param):
        AutoencoderTransformer(**{param: -0.1}).fit(np.random.RandomState(0).rand(10, 4))
