"""Quality metrics and readers of the evaluation formats, without Beam.

The conventions are those of the shared evaluation data (its README), so figures compare
with the peers measured there:
- extraction: bag-of-words precision/recall/F1 over whitespace-split tokens, multiset
  overlap (the ScrapingHub benchmark's measure), mean over pages;
- NER: exact span + type, micro-averaged and per type.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def bag_of_words(expected: str, got: str) -> PRF:
    """Multiset token overlap. Two empty texts agree perfectly; one empty side scores 0."""
    want, have = Counter(expected.split()), Counter(got.split())
    if not want and not have:
        return PRF(1.0, 1.0, 1.0)
    overlap = sum((want & have).values())
    precision = overlap / sum(have.values()) if have else 0.0
    recall = overlap / sum(want.values()) if want else 0.0
    return PRF(precision, recall, _f1(precision, recall))


def set_f1(expected: Iterable[str], got: Iterable[str]) -> float:
    """F1 of two sets of names compared case- and spacing-insensitively; both empty is 1."""
    want = {_fold(x) for x in expected if x.strip()}
    have = {_fold(x) for x in got if x.strip()}
    if not want and not have:
        return 1.0
    overlap = len(want & have)
    return _f1(overlap / len(have) if have else 0.0, overlap / len(want) if want else 0.0)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# Typographic apostrophes and quotation marks and their ASCII forms: the same title
# whichever a page's og:title, <h1> or JSON-LD happens to use.
_QUOTES = str.maketrans("‘’‚‛“”„‟", "''''\"\"\"\"")


def _title_form(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    # Invisible format characters (soft hyphen, zero-width space) are hints to the
    # renderer, not text.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def same_title(expected: str, got: str | None) -> bool:
    """Exact match after Unicode normalisation and whitespace collapsing (case kept);
    curly and straight quotes count as the same, invisible format characters as none."""
    return got is not None and _title_form(expected) == _title_form(got)


def same_day(expected: str, got_utc: str | None, got_local: str | None = None) -> bool:
    """Whether our publish time falls on the expected calendar day.

    An expected time with an offset is compared in that offset (our UTC time converted);
    a naive one is taken as the publisher's local time (ours, else our UTC time).
    """
    try:
        want = datetime.fromisoformat(expected.replace("Z", "+00:00"))
        utc = datetime.fromisoformat(got_utc.replace("Z", "+00:00")) if got_utc else None
        local = datetime.fromisoformat(got_local) if got_local else None
    except ValueError:
        return False
    if want.tzinfo is not None and utc is not None:
        return utc.astimezone(want.tzinfo).date() == want.date()
    have = local or utc
    return have is not None and have.date() == want.date()


# --- NER -------------------------------------------------------------------------------

Span = tuple[int, int, str]  # character start, end, type


@dataclass(frozen=True)
class NerSentence:
    """One CoNLL sentence: its text (tokens joined by single spaces) and gold spans."""

    text: str
    spans: tuple[Span, ...]


def read_conll(path: Path, types: frozenset[str]) -> Iterator[NerSentence]:
    """Sentences of a CoNLL file (token, then IOB1 or IOB2 tag; last column is the tag).

    Entities of a type outside `types` (MISC, OTH) are left out of the gold spans.
    """
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if parts and parts[0] != "-DOCSTART-":
                tokens.append(parts[0])
                tags.append(parts[-1])
                continue
            if tokens:
                yield _sentence(tokens, tags, types)
            tokens, tags = [], []
    if tokens:
        yield _sentence(tokens, tags, types)


# CoNLL text is tokenised ("Tyrone Power 's", "Thomas L ."); the pipeline sees running
# text, so sentences are rebuilt with punctuation and clitics attached again.
_GLUE_LEFT = frozenset(",.;:!?)]}%") | {"'s", "'", "n't", "'re", "'ve", "'ll", "'d", "'m"}
_GLUE_RIGHT = frozenset({"(", "[", "{", "$"})
_QUOTE = '"'  # opens and closes: glued to the right when opening, to the left when closing


def _detokenized_starts(tokens: list[str]) -> tuple[str, list[int]]:
    """Running text of `tokens` and the start offset of each token in it."""
    text = ""
    starts: list[int] = []
    glue_next = True
    quote_open = False
    for token in tokens:
        glue = glue_next or token in _GLUE_LEFT
        glue_next = token in _GLUE_RIGHT
        if token == _QUOTE:
            glue, glue_next = (True, False) if quote_open else (glue, True)
            quote_open = not quote_open
        text += "" if glue else " "
        starts.append(len(text))
        text += token
    return text, starts


def _sentence(tokens: list[str], tags: list[str], types: frozenset[str]) -> NerSentence:
    spans: list[Span] = []
    text, starts = _detokenized_starts(tokens)
    current: list[int | str] | None = None  # [start, end, type]
    for token, tag, start in zip(tokens, tags, starts, strict=True):
        end = start + len(token)
        prefix, _, kind = tag.partition("-")
        continues = current is not None and prefix == "I" and kind == current[2] and kind != ""
        if continues and current is not None:
            current[1] = end
            continue
        if current is not None:
            spans.append((int(current[0]), int(current[1]), str(current[2])))
            current = None
        if prefix in ("B", "I") and kind:
            current = [start, end, kind]
    if current is not None:
        spans.append((int(current[0]), int(current[1]), str(current[2])))
    kept = tuple(s for s in spans if s[2] in types)
    return NerSentence(text, kept)


@dataclass
class SpanCounts:
    """True positives, predicted and gold counts, overall and per type."""

    tp: Counter[str]
    predicted: Counter[str]
    gold: Counter[str]

    @classmethod
    def empty(cls) -> SpanCounts:
        return cls(Counter(), Counter(), Counter())

    def add(self, gold: Iterable[Span], predicted: Iterable[Span]) -> None:
        want, have = set(gold), set(predicted)
        for span in want:
            self.gold[span[2]] += 1
        for span in have:
            self.predicted[span[2]] += 1
            if span in want:
                self.tp[span[2]] += 1

    def prf(self, kind: str | None = None) -> PRF:
        if kind is None:
            tp, pred, gold = (
                sum(self.tp.values()),
                sum(self.predicted.values()),
                sum(self.gold.values()),
            )
        else:
            tp, pred, gold = self.tp[kind], self.predicted[kind], self.gold[kind]
        precision = tp / pred if pred else 0.0
        recall = tp / gold if gold else 0.0
        return PRF(precision, recall, _f1(precision, recall))
