"""The plan of a method's fits: at which label amounts, under which seeds, from which encoders -- as the profile's
design asks (`ssl_study.study.design.Profile.seeds_of`)."""

from __future__ import annotations

from dataclasses import replace

from ..compute.fits import FIT_KINDS
from ..config import Recipe
from .design import Profile, epochs_for
from .tasks import Fit


def plan_fits(kind: str, profile: Profile, n_labelled: int, data_fp: str, split_fp: str, recipe: Recipe = Recipe(),
              pretext: str | None = None, encoders: dict[int, str] | None = None,
              amounts: tuple[str, ...] | None = None, seeds: tuple[int, ...] | None = None) -> list[Fit]:
    """The fits of one method (``kind`` from the encoder of ``pretext``; ``supervised``: none) at every label amount
    (or those named in ``amounts``) under the seeds the profile's design asks for there (`Profile.seeds_of`), or under
    ``seeds`` where given (notebook 4's sweep); ``encoders``: seed -> identity of that seed's encoder, for every kind
    but ``supervised``."""
    fits = []
    unit = FIT_KINDS[kind]()
    encoder = pretext if unit.encoder else "none"
    for amount, n in profile.amounts(n_labelled):
        if amounts is not None and amount not in amounts:
            continue
        own, budget = unit.settings_for(encoder, n, recipe)  # the shared recipe, or the kind's own (`FitKind`)
        scaled = replace(profile, min_fit_images=budget * profile.min_fit_images,
                         max_epochs=budget * profile.max_epochs)
        epochs = 0 if unit.frozen else epochs_for(n, scaled, own)[1]
        for seed in seeds if seeds is not None else profile.seeds_of(encoder, kind, amount):
            fits.append(Fit(kind, amount, n, seed, epochs, profile.batch_size, own, data_fp, split_fp, pretext,
                            encoders[seed] if encoders else None))
    return sorted(fits, key=lambda fit: (fit.seed, fit.n_labels))
