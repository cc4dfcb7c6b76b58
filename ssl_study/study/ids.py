"""A method's id in the results, made by one function: ``supervised``; ``<use>`` for a semi-supervised method from
random weights (``fixmatch``); ``<encoder>_<use>`` otherwise (``siamese_recipe``, ``random_finetune``). The ids are
read back through `ssl_study.study.methods.catalogue`, never split."""

from __future__ import annotations


def method_id(encoder: str, use: str) -> str:
    """The id of the method that trains ``encoder`` (``none``: the CNN's own random initialisation) by ``use``."""
    return use if encoder == "none" else f"{encoder}_{use}"
