from __future__ import annotations

import pytest

from transforms.core.language import (
    LANGDETECT_ID,
    LINGUA_ID,
    PY3LANGID_ID,
    LanguageDetector,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "language", "detector_id"),
    [
        (
            "The foreign minister met his counterpart in Tbilisi to discuss trade.",
            "en",
            PY3LANGID_ID,
        ),
        (
            "Министр иностранных дел встретился с коллегой в Тбилиси во вторник.",
            "ru",
            LINGUA_ID,
        ),
        (
            "Dışişleri bakanı salı günü Tiflis'te mevkidaşıyla ticaret konusunu görüştü.",
            "tr",
            PY3LANGID_ID,
        ),
        ("თბილისში მტკვრის სანაპიროზე ახალი ველობილიკი გაიხსნა ოთხშაბათს.", "ka", "script"),
        ("Երևանում բացվեց նոր հեծանվային արահետ, որը ձգվում է գետի երկայնքով։", "hy", "script"),
        ("12345 67890", "und", PY3LANGID_ID),
        ("", "und", PY3LANGID_ID),
        (
            "Bu gün Bakıda xarici işlər nazirləri sərhəd məsələlərini müzakirə etdilər.",
            "az",
            PY3LANGID_ID,
        ),
        (
            "Ngā mihi ki a koutou katoa, he rā pai tēnei mō te hui nui o te iwi.",
            "mi",
            LINGUA_ID,
        ),
        # py3langid alone says Ukrainian.
        ("Жду тебя завтра.", "ru", LINGUA_ID),
        ("Vlada je u četvrtak objavila novi proračun za iduću godinu.", "hr", LINGUA_ID),
        # Long text: lingua's edge is on short text only.
        (
            "Gradsko vijeće u srijedu raspravlja o novom tjednom rasporedu autobusa. Tko je "
            "kriv za kašnjenja, pitaju putnici, a općina obećava odgovor do kraja mjeseca.",
            "hr",
            PY3LANGID_ID,
        ),
        # Latin-script Serbian: lingua's Serbian is Cyrillic only, so py3langid's answer stands.
        ("Deca su videla mleko na stolu.", "sr", PY3LANGID_ID),
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


def test_langdetect_backend_still_available() -> None:
    guess = LanguageDetector("langdetect").detect(
        "The foreign minister met his counterpart in Tbilisi to discuss trade."
    )
    assert (guess.language, guess.detector) == ("en", LANGDETECT_ID)


def test_unknown_backend_refused() -> None:
    with pytest.raises(ValueError, match="unknown language detector"):
        LanguageDetector("fasttext")  # type: ignore[arg-type]
