"""Language identification: py3langid by default, with a lingua second opinion and a script
rule; langdetect on request. Every detector here is deterministic.

Why this combination (figures from `newsbeam eval language`, docs/QUALITY.md):
- py3langid 0.4.0 (naive Bayes over byte n-grams, 140 languages) beat langdetect on the
  lingua test sentences and runs in about 1 ms per article. Its output is restricted to
  ISO 639-1 codes (records carry those), and its macro-language "no" is written "nb"
  (Bokmål; Nynorsk has its own "nn").
- py3langid has no Maori, Tswana or Tsonga and mixes up the Southern Bantu languages.
  When it answers one of those (or Latvian, its usual guess for Maori), lingua decides
  among just that group: lingua loads only the n-gram models of the languages it is
  built with, so this costs a few MB, not the 1.3 GB of its full model.
- On text under 120 characters lingua tells Croatian from Bosnian, and the Cyrillic
  South and East Slavic languages apart, better than py3langid: when py3langid answers
  one of those, lingua decides among that group. (From about 120 letters lingua's
  high-accuracy mode uses trigrams only, and there it did worse than py3langid.)
  Lingua's Serbian is Cyrillic only: Latin text in the Cyrillic group gets no lingua
  answer and py3langid's stands. These models add about 145 MB, loaded on first use.
- Malay, Nynorsk and Catalan get no second opinion: lingua restricted to ms/id, nb/nn or
  ca/es did no better, or worse, than py3langid on the lingua test sentences.
- Georgian and Armenian are each the one major language of their alphabet: the script
  decides for them without any statistics.
- langdetect (seeded, so deterministic) stays selectable (`backend="langdetect"`); it has
  no Armenian, Azerbaijani or Georgian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Final, Literal

UNDETERMINED: Final = "und"
SCRIPT_DETECTOR_ID: Final = "script"
LANGDETECT_ID: Final = f"langdetect-{version('langdetect')}"
PY3LANGID_ID: Final = f"py3langid-{version('py3langid')}"
LINGUA_ID: Final = f"lingua-{version('lingua-language-detector')}"

Backend = Literal["py3langid", "langdetect"]
BACKENDS: Final = ("py3langid", "langdetect")

# langdetect has no profile for Georgian or Armenian (it answers Estonian), yet each is
# the one major language written in its own alphabet: the script decides for them.
_SCRIPT_LANGUAGES: Final = (
    ("ka", 0x10A0, 0x10FF),
    ("ka", 0x1C90, 0x1CBF),
    ("hy", 0x0530, 0x058F),
)
_SCRIPT_SHARE: Final = 0.5
# Fewer letters than this make "und". py3langid was still right on 91% of the lingua test
# sentences with 5-19 letters (many are Chinese or Japanese), so the bar is low.
MIN_CHARS: Final = 5
MAX_CHARS: Final = 10_000


@dataclass(frozen=True)
class _SecondOpinion:
    """py3langid answers one of `languages` -> lingua re-decides among just them."""

    languages: tuple[str, ...]
    # Only for texts shorter than this many characters.
    max_chars: float = math.inf


# Below this many characters lingua's high-accuracy mode uses all its n-gram models (it
# switches to trigrams only at about 120 letters).
_LINGUA_SHORT_TEXT: Final = 120
_SECOND_OPINIONS: Final = (
    _SecondOpinion(("st", "tn", "ts", "xh", "zu", "sn", "sw", "lg", "mi", "lv")),
    _SecondOpinion(("bs", "hr"), max_chars=_LINGUA_SHORT_TEXT),
    _SecondOpinion(("sr", "mk", "bg", "ru", "uk"), max_chars=_LINGUA_SHORT_TEXT),
)
_RENAMED: Final = {"no": "nb"}


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    score: float
    detector: str


class LanguageDetector:
    """Loads the chosen detector's models once (do it once per worker, in `setup()`)."""

    def __init__(self, backend: Backend = "py3langid") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown language detector {backend!r}; one of {BACKENDS}")
        self.backend = backend
        self._langid: Any = None
        self._lingua: dict[str, tuple[float, Any]] = {}
        self._langdetect: Any = None
        if backend == "py3langid":
            self._load_py3langid()
        else:
            self._load_langdetect()

    def _load_py3langid(self) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages([code for code in identifier.labels if len(code) == 2])
        self._langid = identifier
        for opinion in _SECOND_OPINIONS:
            group = [
                Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
                for code in opinion.languages
            ]
            lingua = LanguageDetectorBuilder.from_languages(*group).build()
            self._lingua.update((code, (opinion.max_chars, lingua)) for code in opinion.languages)

    def _load_langdetect(self) -> None:
        from langdetect import DetectorFactory
        from langdetect.detector_factory import PROFILES_DIRECTORY

        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        factory.set_seed(0)
        self._langdetect = factory

    @property
    def detector_id(self) -> str:
        return PY3LANGID_ID if self.backend == "py3langid" else LANGDETECT_ID

    def detect(self, text: str) -> LanguageGuess:
        sample = text[:MAX_CHARS]
        letters = [ch for ch in sample if ch.isalpha()]
        if len(letters) < MIN_CHARS:
            return LanguageGuess(UNDETERMINED, 0.0, self.detector_id)
        by_script = _by_script(letters)
        if by_script is not None:
            return by_script
        if self.backend == "py3langid":
            return self._detect_py3langid(sample)
        return self._detect_langdetect(sample)

    def _detect_py3langid(self, sample: str) -> LanguageGuess:
        code, score = self._langid.classify(sample)
        code = _RENAMED.get(code, code)
        max_chars, lingua = self._lingua.get(code, (0, None))
        if len(sample) < max_chars:
            confidence = lingua.compute_language_confidence_values(sample)
            # All zero: none of the group's languages is written in the text's script.
            if confidence and confidence[0].value > 0:
                best = confidence[0]
                return LanguageGuess(
                    best.language.iso_code_639_1.name.lower(), round(best.value, 4), LINGUA_ID
                )
        return LanguageGuess(code, round(float(score), 4), PY3LANGID_ID)

    def _detect_langdetect(self, sample: str) -> LanguageGuess:
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._langdetect.create()
        detector.append(sample)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return LanguageGuess(UNDETERMINED, 0.0, LANGDETECT_ID)
        # langdetect names Chinese variants zh-cn/zh-tw; records use BCP 47 style.
        code = best.lang.replace("zh-cn", "zh-Hans").replace("zh-tw", "zh-Hant")
        code = _RENAMED.get(code, code)
        return LanguageGuess(code, round(float(best.prob), 4), LANGDETECT_ID)


def _by_script(letters: list[str]) -> LanguageGuess | None:
    counts: dict[str, int] = {}
    for ch in letters:
        point = ord(ch)
        for language, low, high in _SCRIPT_LANGUAGES:
            if low <= point <= high:
                counts[language] = counts.get(language, 0) + 1
    if not counts:
        return None
    language, count = max(counts.items(), key=lambda kv: kv[1])
    share = count / len(letters)
    if share < _SCRIPT_SHARE:
        return None
    return LanguageGuess(language, round(share, 4), SCRIPT_DETECTOR_ID)
