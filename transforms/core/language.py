"""Language identification with langdetect, made deterministic.

langdetect samples n-grams at random; a fixed seed per call makes the result depend on
the text alone, so a retried bundle yields the same record. Its regexes run over the
whole input before it truncates, so it is given a bounded prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

UNDETERMINED = "und"
DETECTOR_ID = "langdetect-1.0.9"
SCRIPT_DETECTOR_ID = "script"
# langdetect has no profile for Georgian or Armenian (it answers Estonian), yet each is
# the one major language written in its own alphabet: the script decides for them.
_SCRIPT_LANGUAGES = (("ka", 0x10A0, 0x10FF), ("ka", 0x1C90, 0x1CBF), ("hy", 0x0530, 0x058F))
_SCRIPT_SHARE = 0.5
MIN_CHARS = 20
MAX_CHARS = 10_000


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    score: float
    detector: str


class LanguageDetector:
    """Holds langdetect's loaded profiles (about 1 s to load; do it once per worker)."""

    def __init__(self) -> None:
        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.set_seed(0)

    def detect(self, text: str) -> LanguageGuess:
        sample = text[:MAX_CHARS]
        letters = [ch for ch in sample if ch.isalpha()]
        if len(letters) < MIN_CHARS:
            return LanguageGuess(UNDETERMINED, 0.0, DETECTOR_ID)
        by_script = _by_script(letters)
        if by_script is not None:
            return by_script
        detector = self._factory.create()
        detector.append(sample)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return LanguageGuess(UNDETERMINED, 0.0, DETECTOR_ID)
        # langdetect names Chinese variants zh-cn/zh-tw; records use BCP 47 style.
        code = best.lang.replace("zh-cn", "zh-Hans").replace("zh-tw", "zh-Hant")
        return LanguageGuess(code, round(float(best.prob), 4), DETECTOR_ID)


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
