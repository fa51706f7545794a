"""DetectLanguage: language and probability of each article's text."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from schemas.records import Article
from transforms.common import DEAD_LETTER, MAIN, article_dead_letter, counter
from transforms.core.language import LanguageDetector

STAGE = "language"


class DetectLanguageFn(beam.DoFn):
    def __init__(self) -> None:
        super().__init__()
        self._detector: LanguageDetector | None = None

    def setup(self) -> None:
        self._detector = LanguageDetector()

    def process(self, article: Article) -> Iterator[Any]:
        assert self._detector is not None
        try:
            # The title helps short texts (feed-summary fallbacks) more than it misleads.
            guess = self._detector.detect(f"{article.title or ''}\n{article.text}")
        except Exception as err:  # noqa: BLE001 - a bad text must not stop the stream
            yield article_dead_letter(STAGE, "language_error", err, article)
            return
        counter(f"language.{guess.language}").inc()
        yield dataclasses.replace(
            article,
            language=guess.language,
            language_score=guess.score,
            language_detector=guess.detector,
        )


class DetectLanguage(beam.PTransform):
    """Article -> Article with language fields (main) and dead letters."""

    def expand(self, articles: beam.PCollection) -> dict[str, beam.PCollection]:
        results = articles | "Detect" >> beam.ParDo(DetectLanguageFn()).with_outputs(
            DEAD_LETTER, main=MAIN
        )
        return {MAIN: results[MAIN], DEAD_LETTER: results[DEAD_LETTER]}
