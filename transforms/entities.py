"""TagEntities: spaCy NER through Beam's RunInference, merged per article.

RunInference loads the model once per worker process (shared across threads), batches
articles for `nlp.pipe`, and records inference metrics. Only English articles are
tagged: the installed model is English, and on other languages it mostly invents
entities. Those records say so with `ner_model = null`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.ml.inference.base import (
    KeyedModelHandler,
    ModelHandler,
    PredictionResult,
    RunInference,
)

from schemas.records import Article, Entity
from transforms.common import DEAD_LETTER, MAIN, article_dead_letter, counter
from transforms.core import entities

STAGE = "entities"
TAGGED_LANGUAGES = frozenset({"en"})


class SpacyNerModelHandler(ModelHandler):
    """texts -> list[Entity] per text, or the exception that text raised."""

    def __init__(self, batch_size: int = 32) -> None:
        super().__init__()
        self._batch_size = batch_size

    def load_model(self) -> Any:
        return entities.load_ner_model()

    def run_inference(
        self,
        batch: Sequence[str],
        model: Any,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        try:
            tagged: list[Any] = list(entities.tag_entities(model, batch, self._batch_size))
        except Exception:  # noqa: BLE001 - isolate the text that fails, below
            tagged = []
            for text in batch:
                try:
                    tagged.append(entities.tag_entities(model, [text], 1)[0])
                except Exception as err:  # noqa: BLE001 - becomes this article's dead letter
                    tagged.append(err)
        model_name = entities.model_id(model)
        return [
            PredictionResult(example=text, inference=result, model_id=model_name)
            for text, result in zip(batch, tagged, strict=True)
        ]

    def batch_elements_kwargs(self) -> dict[str, int]:
        return {"min_batch_size": 1, "max_batch_size": self._batch_size}

    def get_metrics_namespace(self) -> str:
        return "newsbeam.entities"


class _AttachEntitiesFn(beam.DoFn):
    def process(self, element: tuple[Article, PredictionResult]) -> Iterator[Any]:
        article, result = element
        if isinstance(result.inference, Exception):
            yield article_dead_letter(STAGE, "ner_error", result.inference, article)
            return
        found: list[Entity] = result.inference
        counter("entities.tagged_articles").inc()
        yield dataclasses.replace(article, entities=tuple(found), ner_model=result.model_id)


class TagEntities(beam.PTransform):
    """Article -> Article with entities (main) and dead letters."""

    def __init__(self, batch_size: int = 32) -> None:
        super().__init__()
        self._batch_size = batch_size

    def expand(self, articles: beam.PCollection) -> dict[str, beam.PCollection]:
        english, other = articles | "ByModelLanguage" >> beam.Partition(
            lambda a, _: 0 if a.language in TAGGED_LANGUAGES else 1, 2
        )
        tagged = (
            english
            | "KeyByArticle" >> beam.Map(lambda a: (a, a.text))
            | "RunNer" >> RunInference(KeyedModelHandler(SpacyNerModelHandler(self._batch_size)))
            | "AttachEntities"
            >> beam.ParDo(_AttachEntitiesFn()).with_outputs(DEAD_LETTER, main=MAIN)
        )
        merged = (tagged[MAIN], other) | "MergeTagged" >> beam.Flatten()
        return {MAIN: merged, DEAD_LETTER: tagged[DEAD_LETTER]}
