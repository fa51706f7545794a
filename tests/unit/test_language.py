from __future__ import annotations

import pytest

from transforms.core.language import LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "language", "detector_id"),
    [
        (
            "The foreign minister met his counterpart in Tbilisi to discuss trade.",
            "en",
            "langdetect-1.0.9",
        ),
        (
            "Министр иностранных дел встретился с коллегой в Тбилиси во вторник.",
            "ru",
            "langdetect-1.0.9",
        ),
        (
            "Dışişleri bakanı salı günü Tiflis'te mevkidaşıyla ticaret konusunu görüştü.",
            "tr",
            "langdetect-1.0.9",
        ),
        ("თბილისში მტკვრის სანაპიროზე ახალი ველობილიკი გაიხსნა ოთხშაბათს.", "ka", "script"),
        ("Երևանում բացվեց նոր հեծանվային արահետ, որը ձգվում է գետի երկայնքով։", "hy", "script"),
        ("12345 67890", "und", "langdetect-1.0.9"),
        ("", "und", "langdetect-1.0.9"),
    ],
)
def test_detects(detector: LanguageDetector, text: str, language: str, detector_id: str) -> None:
    guess = detector.detect(text)
    assert (guess.language, guess.detector) == (language, detector_id)
    assert 0.0 <= guess.score <= 1.0


def test_deterministic(detector: LanguageDetector) -> None:
    text = "Ein kurzer Satz, der vielleicht Deutsch oder Niederländisch sein könnte."
    assert len({detector.detect(text) for _ in range(20)}) == 1
    assert detector.detect(text) == LanguageDetector().detect(text)
