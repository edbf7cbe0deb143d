"""Docstring sections shared by the estimators, written once."""

# The fitted attributes of the training loop, defined once: every class's
# docstring holds the marker below, filled by document_fitted_attributes.
FITTED_ATTRIBUTES_MARKER = "    <fitted attributes of training>\n"
_FITTED_ATTRIBUTES_DOC = """\
    loss_curve_ : list of float
        Training loss after each epoch: the mean over the epoch's batches of
        {loss}, with the L2 penalty ``alpha``.
    validation_scores_ : list of float or None
        With ``early_stopping``: after each epoch, the score on the
        held-out validation split, {validation_score}; one entry per epoch
        of ``loss_curve_``, NaN for the epochs of ``warm_start`` fits or
        ``partial_fit`` calls that held out none. None otherwise.
    best_validation_score_ : float or None
        Best of the last fit's ``validation_scores_``: the weights of its
        epoch are kept. A ``warm_start`` fit holds out another validation
        split, so it compares only its own scores; a ``partial_fit`` holds
        out none and keeps it. None without ``early_stopping``, or before a
        fit that held out a split.
    best_loss_ : float or None
        Lowest value of ``loss_curve_``; None with ``early_stopping`` (as in
        ``MLPRegressor``).
    n_iter_ : int
        Number of {epochs} run, accumulated over ``warm_start`` fits and
        ``partial_fit`` calls.
    t_ : int
        Number of training samples the optimizer has seen{samples_seen},
        accumulated like ``n_iter_``.
    device_ : str
        Device the module lives on.
"""


_CENTRING_ATTRIBUTES_DOC = """\
    mean_ : ndarray of shape (n_features,)
        Mean of the training data. As in PCA, the encoder sees
        ``(X - mean_) / scale_``, and the reconstruction starts at the mean:
        the decoder's output is multiplied by ``scale_`` and ``mean_`` is
        added (for a sigmoid output, its logit, clipped to [1e-3, 1 - 1e-3],
        before the sigmoid).
    scale_ : float
        Root mean variance of the training data's features (1 for a sigmoid
        output): the network works on data of unit scale, so the fit does
        not depend on the units of X. The residuals in the training loss
        are measured on that scale (divided by ``scale_``), squared or
        Huber.
"""


def document_fitted_attributes(
    loss, score, epochs="epochs", samples_seen="", centred=True, validation_score=None
):
    """Class decorator: put the shared fitted attributes into the docstring.

    ``centred`` adds ``mean_`` and ``scale_``, which every autoencoder has.
    ``validation_score`` says what the validation score is, where it is not
    ``score``'s.
    """
    validation_score = validation_score or f"as ``score`` defines it ({score})"
    text = _FITTED_ATTRIBUTES_DOC.format(
        loss=loss, validation_score=validation_score, epochs=epochs, samples_seen=samples_seen
    )
    if centred:
        text = _CENTRING_ATTRIBUTES_DOC + text

    def decorate(cls):
        if FITTED_ATTRIBUTES_MARKER not in cls.__doc__:
            raise AssertionError(f"{cls.__name__}'s docstring lacks the attributes marker.")
        cls.__doc__ = cls.__doc__.replace(FITTED_ATTRIBUTES_MARKER, text)
        return cls

    return decorate
