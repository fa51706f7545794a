"""Tests for pipeline/scoring.py's title comparison (the fundus metadata figures)."""

from __future__ import annotations

from pipeline.scoring import same_title


def test_same_title_ignores_representation_only() -> None:
    assert same_title("Doing What’s Right", "Doing What's Right")
    assert same_title("„Extreme Gefahr“", '"Extreme Gefahr"')
    assert same_title("Helikopter\xadlandeplatz", "Helikopterlandeplatz")
    assert same_title("Israel’s aid in Gaza\xa0", " Israel’s aid  in Gaza")


def test_same_title_keeps_real_differences() -> None:
    assert not same_title("Doing What’s Right", "Doing what's right")
    assert not same_title("Helikopter-landeplatz", "Helikopterlandeplatz")
    assert not same_title("Who is Rebecca Cooke?...", "Who is Rebecca Cooke?")
    assert not same_title("A title", None)
