"""The message of a diverged fit: its likely causes, most likely first."""

import math

import numpy as np
import scipy.sparse as sp

# Scales above which a setting becomes a likely cause of divergence: data
# far from order 1, a weight penalty that dwarfs the loss, a step far
# above what Adam and SGD tolerate.
_TYPICAL_MAX_ABS_X = 1e3
_TYPICAL_MAX_ALPHA = 1e2
_TYPICAL_MAX_LEARNING_RATE = 1e-1
_TYPICAL_MAX_NOISE_TO_X = 1e3  # Gaussian noise_level over max |X|
_TYPICAL_MAX_TERM_WEIGHT = 1e2
# The weights of the loss's other terms (penalties, the VAE's KL term, the
# classifier's semi-supervised terms), where an estimator has them.
_TERM_WEIGHTS = (
    "activity_l1",
    "sparsity_weight",
    "contractive_weight",
    "beta",
    "consistency_weight",
    "reconstruction_weight",
)


def largest_magnitude(X):
    """The largest absolute value in ``X`` (dense or sparse), without a copy of X."""
    values = X.data if sp.issparse(X) else np.asarray(X)
    if not values.size:
        return 0.0
    return max(abs(float(values.min())), abs(float(values.max())))


def non_finite_input_message(largest):
    """What to say of X holding NaN or inf (``largest``: its largest magnitude); None if finite.

    scikit-learn refuses such X, unless ``assume_finite=True`` skipped the check.
    """
    if math.isfinite(largest):
        return None
    return (
        "X contains NaN or infinity, which scikit-learn's check would have refused, "
        "but sklearn.config_context(assume_finite=True) skipped it. Remove or impute "
        "them first (e.g. sklearn.impute.SimpleImputer)."
    )


def refuse_non_finite_input(largest):
    """Raise a ValueError saying so if X, of largest magnitude ``largest``, holds NaN or inf."""
    if message := non_finite_input_message(largest):
        raise ValueError(message)


def _excess(value, typical):
    """How many orders of magnitude ``value`` lies above ``typical``."""
    return math.log10(value / typical) if value > 0 else -math.inf


def _term_is_on(name, params):
    """Whether the loss has the term ``name`` weighs.

    ``sparsity_weight`` needs a target; ``consistency_weight`` compares
    clean and corrupted predictions, equal without any noise or dropout.
    """
    if name == "sparsity_weight":
        return params.get("sparsity_target") is not None
    if name == "consistency_weight":
        return any(params.get(noise) for noise in ("noise_std", "input_dropout", "dropout"))
    return True


def divergence_message(diverged, phase, X, params):
    """Explain a :class:`~skae._training.TrainingDiverged` in the user's terms.

    Names max |X|, ``alpha``, the weights of the loss's other terms, a
    Gaussian ``noise_level`` and the learning
    rate of the phase that diverged, as the user set it (``pretrain_learning_rate_init`` during
    pretraining) with the rate actually in use, ranked by how far each
    lies above its typical scale.
    """
    largest, alpha = largest_magnitude(X), params["alpha"]
    where = f" ({phase.name.lower()})" if phase.name else ""
    what = f"Training diverged{where} at epoch {diverged.epoch}: the {diverged.quantity} "
    what += f"became {diverged.value}."
    if non_finite := non_finite_input_message(largest):
        return f"{what} {non_finite}"
    causes = [
        (
            _excess(largest, _TYPICAL_MAX_ABS_X),
            f"X's largest magnitude is {largest:.3g}: scale X first "
            "(StandardScaler, MinMaxScaler); networks train on values of order 1.",
        ),
        (
            _excess(alpha, _TYPICAL_MAX_ALPHA),
            f"alpha={alpha!r} weighs the L2 penalty on the weights: lower it "
            "(typical values lie between 1e-5 and 1e-1).",
        ),
    ]
    causes += [
        (
            _excess(params[name], _TYPICAL_MAX_TERM_WEIGHT),
            f"{name}={params[name]!r} weighs a term of the training loss: lower it.",
        )
        for name in _TERM_WEIGHTS
        if params.get(name) and _term_is_on(name, params)
    ]
    if params.get("noise") == "gaussian":
        # The denoising autoencoder's noise is in X's units, and the net
        # scales its input by X's spread: noise far above X's values is
        # what the network sees, however small X is.
        noise_level = params["noise_level"]
        causes.append(
            (
                _excess(noise_level / largest if largest else math.inf, _TYPICAL_MAX_NOISE_TO_X),
                f"noise_level={noise_level!r} is the standard deviation of the Gaussian "
                f"noise, in X's units, where X's largest magnitude is {largest:.3g}: lower "
                "it (on standardised data, 0.1 to 1).",
            )
        )
    if params["solver"] != "lbfgs":  # L-BFGS's line search sets its own steps
        name = phase.learning_rate_param
        causes.append(
            (
                _excess(diverged.learning_rate, _TYPICAL_MAX_LEARNING_RATE),
                f"{name}={params[name]!r} (rate in use: {diverged.learning_rate:.3g}) "
                f"may be too high for this data: lower it, e.g. by 10x.",
            )
        )
    pretrain_rate = params.get("pretrain_learning_rate_init")
    pretrained = phase.after_pretraining and params.get("pretrain_max_iter", 0) > 0
    if pretrained and pretrain_rate is not None and params["solver"] != "lbfgs":
        # Pretraining ended with finite, perhaps huge, weights that the
        # main phase then starts from.
        causes.append(
            (
                _excess(pretrain_rate, _TYPICAL_MAX_LEARNING_RATE),
                f"pretrain_learning_rate_init={pretrain_rate!r} may have left weights too "
                "large to train from: lower it, e.g. by 10x.",
            )
        )
    causes.sort(key=lambda cause: cause[0], reverse=True)
    return f"{what} Likely causes, most likely first:\n" + "\n".join(
        f"- {text}" for _, text in causes
    )
