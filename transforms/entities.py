"""TagEntities: spaCy NER through Beam's RunInference, merged per article.

RunInference loads the model once per worker process (shared across threads), batches
articles for `nlp.pipe`, and records inference metrics. The model itself lives in a child
process with a single thread (see `SpacyNerModelHandler`). Only English articles are
tagged: the installed model is English, and on other languages it mostly invents
entities. Those records say so with `ner_model = null`.
"""

from __future__ import annotations

import dataclasses
import os
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
from transforms.core.isolate import IsolatedWorker, IsolationError

STAGE = "entities"
TAGGED_LANGUAGES = frozenset({"en"})
# A batch of 32 average articles takes ~1.2 s, a 100k-character text ~1 s; only a hung
# child comes near this.
NER_TIMEOUT_S = 600.0

_Tagged = tuple[str, list[list[Entity]]]


class SpacyNerModelHandler(ModelHandler):
    """texts -> list[Entity] per text, or the exception that text raised.

    The "model" is a child process that holds spaCy (`entities.tag_entities_here`). Why:
    spaCy's NER loop takes the GIL back for every look at a parser state, and in a process
    with more than one thread (every Beam worker) each of those is an atomic lock
    operation; a spawned child with one thread, and one BLAS thread, tags the same
    entities for ~30 % less CPU (docs/PERFORMANCE.md).
    """

    def __init__(self, batch_size: int = 32) -> None:
        super().__init__()
        self._batch_size = batch_size

    def load_model(self) -> Any:
        # Read by the child's libraries as they load, so that it keeps one thread: no BLAS
        # thread pool in numpy, no jemalloc background thread in pyarrow (Beam imports it).
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("JE_ARROW_MALLOC_CONF", "background_thread:false")
        worker: IsolatedWorker[_Tagged] = IsolatedWorker(
            entities.tag_entities_here, timeout_s=NER_TIMEOUT_S, name="ner"
        )
        worker.call([], 1)  # start the child and load the model now, not in the first batch
        return worker

    def run_inference(
        self,
        batch: Sequence[str],
        model: Any,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        worker: IsolatedWorker[_Tagged] = model
        model_name = ""
        try:
            model_name, found = worker.call(list(batch), self._batch_size)
            tagged: list[Any] = list(found)
        except IsolationError:  # isolate the text that fails, below
            tagged = []
            for text in batch:
                try:
                    model_name, (one,) = worker.call([text], 1)
                    tagged.append(one)
                except IsolationError as err:  # becomes this article's dead letter
                    tagged.append(err)
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
        if isinstance(result.inference, IsolationError):  # ner_error, ner_timeout, ner_crashed
            yield article_dead_letter(STAGE, result.inference.reason, result.inference, article)
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
