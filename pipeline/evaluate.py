"""`newsbeam eval`: the project's own stage code scored on evaluation data.

    newsbeam eval extraction|language|entities|dedup --data DIR [--json] [--limit N]
    newsbeam eval all --data ROOT [--markdown FILE]

Each evaluator runs the functions the pipeline runs (`extract_article`,
`LanguageDetector`, `tag_entities`, `fingerprints`/`judge`, `canonicalize`) over a folder
in the format of the shared evaluation data (see its README) and returns a `Report`: one
row per item and the aggregate figures. `all` finds every known set under ROOT and writes
one markdown table (what `make eval` runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

from pipeline import dedup_cases, scoring
from transforms.core.language import LanguageGuess

KINDS = ("extraction", "language", "entities", "dedup")
NER_TYPES = frozenset({"PER", "ORG", "LOC"})
# Article-length language test: consecutive sentences of one language joined to at least
# this many characters (about a short news article).
ARTICLE_CHARS = 1_500
ARTICLE_LANGUAGES = ("hy", "az", "ka", "ru", "tr")
MIN_DEDUP_WORDS = 80


@dataclass
class Report:
    name: str
    summary: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "items": self.items}

    def render(self) -> str:
        lines = [json.dumps(item, ensure_ascii=False) for item in self.items]
        lines.append(f"== {self.name}")
        lines.extend(f"{key:<32} {_fmt(value)}" for key, value in self.summary.items())
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)


def _rows(data: Path) -> Iterator[dict[str, Any]]:
    with (data / "index.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _page(data: Path, row: dict[str, Any]) -> str:
    from transforms.core.http import decode_body

    raw = (data / row["html"]).read_bytes()
    body = gzip.decompress(raw) if row["html"].endswith(".gz") else raw
    # Decoded as the fetcher does: the page's own charset, no HTTP header here.
    return decode_body(body, None)[0]


# --- extraction ------------------------------------------------------------------------


def evaluate_extraction(data: Path, limit: int | None = None) -> Report:
    from transforms.core.extract import ExtractionError, extract_article

    items: list[dict[str, Any]] = []
    for row in itertools.islice(_rows(data), limit):
        html = _page(data, row)
        started = time.process_time()
        try:
            got = extract_article(html, row["url"])
            text, error = got.text, None
        except ExtractionError as exc:
            got, text, error = None, "", exc.reason
        cpu_ms = (time.process_time() - started) * 1000
        prf = scoring.bag_of_words(row["expected_text"], text)
        item: dict[str, Any] = {
            "id": row["id"],
            "f1": round(prf.f1, 4),
            "precision": round(prf.precision, 4),
            "recall": round(prf.recall, 4),
            "empty": not text.strip() and bool(row["expected_text"].strip()),
            "cpu_ms": round(cpu_ms, 1),
        }
        if error:
            item["error"] = error
        if "title" in row:  # fundus rows carry metadata
            item["title_ok"] = scoring.same_title(row["title"], got.title if got else None)
            if row.get("published"):
                item["date_ok"] = got is not None and scoring.same_day(
                    row["published"], got.published_at, got.published_at_local
                )
            item["authors_f1"] = round(
                scoring.set_f1(row.get("authors") or [], got.authors if got else ()), 4
            )
            if row.get("topics"):  # fundus' topics: the publisher's tags, as its parser read them
                item["tags_f1"] = round(scoring.set_f1(row["topics"], got.tags if got else ()), 4)
            item["has_image"] = got is not None and got.image_url is not None
            item["has_modified"] = got is not None and got.modified_at is not None
        items.append(item)
    summary: dict[str, Any] = {
        "pages": len(items),
        "f1_mean": mean(i["f1"] for i in items),
        "precision_mean": mean(i["precision"] for i in items),
        "recall_mean": mean(i["recall"] for i in items),
        "empty_texts": sum(i["empty"] for i in items),
        "cpu_ms_mean": mean(i["cpu_ms"] for i in items),
    }
    if any("title_ok" in i for i in items):
        dated = [i for i in items if "date_ok" in i]
        summary["title_exact"] = mean(float(i["title_ok"]) for i in items)
        summary["date_same_day"] = mean(float(i["date_ok"]) for i in dated) if dated else 0.0
        summary["authors_f1"] = mean(i["authors_f1"] for i in items)
        tagged = [i["tags_f1"] for i in items if "tags_f1" in i]
        summary["tags_f1"] = mean(tagged) if tagged else 0.0
        summary["with_image"] = mean(float(i["has_image"]) for i in items)
        summary["with_modified"] = mean(float(i["has_modified"]) for i in items)
    return Report(f"extraction {data.name}", summary, items)


# --- language --------------------------------------------------------------------------


def _sentences(data: Path) -> dict[str, list[str]]:
    return {
        path.stem: [s for s in (line.strip() for line in path.open(encoding="utf-8")) if s]
        for path in sorted(data.glob("*.txt"))
    }


def _articles(sentences: list[str]) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        current.append(sentence)
        if sum(len(s) + 1 for s in current) >= ARTICLE_CHARS:
            out.append(" ".join(current))
            current = []
    if current:  # the rest: a shorter article
        out.append(" ".join(current))
    return out


def _langdetect_languages() -> frozenset[str]:
    from langdetect.detector_factory import PROFILES_DIRECTORY

    # Its "no" profile is Bokmål ("nb" in the test data); "zh-cn"/"zh-tw" are "zh".
    names = {p.name.split("-")[0] for p in Path(PROFILES_DIRECTORY).iterdir()}
    return frozenset("nb" if name == "no" else name for name in names)


def _primary(guess: LanguageGuess) -> LanguageGuess:
    return dataclasses.replace(guess, language=guess.language.split("-")[0])


def evaluate_language(
    data: Path, limit: int | None = None, detector_name: str = "py3langid"
) -> Report:
    from transforms.core.language import BACKENDS, LanguageDetector

    if detector_name not in BACKENDS:
        raise ValueError(f"--detector must be one of {BACKENDS}")
    detector = LanguageDetector(detector_name)  # type: ignore[arg-type]
    by_language = _sentences(data)
    items: list[dict[str, Any]] = []
    correct: dict[str, int] = {}
    totals: dict[str, int] = {}
    deciders: Counter[str] = Counter()
    for language, sentences in by_language.items():
        sentences = sentences[:limit]
        # Scored on the primary subtag: langdetect writes Chinese as zh-Hans/zh-Hant.
        guesses = [_primary(detector.detect(s)) for s in sentences]
        deciders.update(g.detector for g in guesses)
        confusions = Counter(g.language for g in guesses if g.language != language)
        correct[language] = sum(g.language == language for g in guesses)
        totals[language] = len(sentences)
        items.append(
            {
                "language": language,
                "sentences": len(sentences),
                "accuracy": round(correct[language] / max(1, len(sentences)), 4),
                "confused_with": dict(confusions.most_common(3)),
            }
        )
    known = _langdetect_languages() & by_language.keys()

    def accuracy(languages: set[str] | frozenset[str]) -> float:
        return sum(correct[x] for x in languages) / max(1, sum(totals[x] for x in languages))

    article_acc: dict[str, float] = {}
    cpu: list[float] = []
    chars: list[int] = []
    for language in by_language:
        articles = _articles(by_language[language])
        hits = 0
        for article in articles:
            started = time.process_time()
            hits += _primary(detector.detect(article)).language == language
            cpu.append(time.process_time() - started)
            chars.append(len(article))
        if articles:
            article_acc[language] = hits / len(articles)
    summary: dict[str, Any] = {
        "detector": detector_name,
        "languages": len(by_language),
        "accuracy_all": accuracy(set(by_language)),
        "langdetect_languages": len(known),
        "accuracy_langdetect_languages": accuracy(known),
        "never_right": sorted(x for x in by_language if correct[x] == 0),
        "article_chars_mean": round(mean(chars)) if chars else 0,
        "article_accuracy_all": mean(article_acc.values()) if article_acc else 0.0,
        "cpu_ms_per_article": 1000 * mean(cpu) if cpu else 0.0,
        "decided_by": dict(deciders),
    }
    for language in ARTICLE_LANGUAGES:
        if language in article_acc:
            summary[f"article_accuracy_{language}"] = article_acc[language]
    return Report(f"language {data.name} ({detector_name})", summary, items)


# --- entities --------------------------------------------------------------------------


def evaluate_entities(data: Path, limit: int | None = None) -> Report:
    from transforms.core.entities import load_ner_model, tag_entities

    files = sorted(data.glob("*.conll*"))
    if not files:
        raise FileNotFoundError(f"no *.conll* file in {data}")
    sentences = [s for path in files for s in scoring.read_conll(path, NER_TYPES)][:limit]
    nlp = load_ner_model()
    counts = scoring.SpanCounts.empty()
    items: list[dict[str, Any]] = []
    started = time.process_time()
    tagged = tag_entities(nlp, [s.text for s in sentences])
    cpu_s = time.process_time() - started
    for number, (sentence, entities) in enumerate(zip(sentences, tagged, strict=True)):
        predicted = {
            (start, end, e.label)
            for e in entities
            if e.label in NER_TYPES
            for start, end in e.spans
        }
        counts.add(sentence.spans, predicted)
        missed = set(sentence.spans) - predicted
        wrong = predicted - set(sentence.spans)
        if missed or wrong:
            items.append(
                {
                    "sentence": number,
                    "missed": [f"{sentence.text[s:e]}/{t}" for s, e, t in sorted(missed)],
                    "wrong": [f"{sentence.text[s:e]}/{t}" for s, e, t in sorted(wrong)],
                }
            )
    overall = counts.prf()
    summary: dict[str, Any] = {
        "sentences": len(sentences),
        "gold_entities": sum(counts.gold.values()),
        "label_mapping": "spaCy PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC; gold MISC ignored",
        "f1_micro": overall.f1,
        "precision_micro": overall.precision,
        "recall_micro": overall.recall,
    }
    for kind in sorted(NER_TYPES):
        summary[f"f1_{kind}"] = counts.prf(kind).f1
    summary["sentences_per_s"] = len(sentences) / cpu_s if cpu_s else 0.0
    return Report(f"entities {data.name}", summary, items)


# --- dedup -----------------------------------------------------------------------------


def _outlet(row: dict[str, Any]) -> str:
    from urllib.parse import urlsplit

    return str(row.get("publisher") or urlsplit(row["url"]).hostname or "unknown")


def evaluate_dedup(data: Path, limit: int | None = None) -> Report:
    from transforms.core.dedup import NEAR_DUPLICATE_DISTANCE, Probe, fingerprints, judge
    from transforms.core.extract import ExtractionError, extract_article
    from transforms.core.urls import canonicalize

    articles: list[tuple[dedup_cases.Article, str]] = []
    for row in itertools.islice(_rows(data), limit):
        paragraphs = tuple(p for p in row["expected_text"].split("\n") if p.strip())
        if sum(len(p.split()) for p in paragraphs) < MIN_DEDUP_WORDS or len(paragraphs) < 3:
            continue
        title = row.get("title") or " ".join(paragraphs[0].split()[:8])
        articles.append(
            (dedup_cases.Article(row["id"], _outlet(row), title, paragraphs), row["url"])
        )

    def probe(key: str, title: str, paragraphs: list[str], outlet: str, template: int) -> Any:
        page = dedup_cases.render(title, paragraphs, outlet, template)
        try:
            text = extract_article(page, f"https://{outlet.lower()}.example/{key}").text
        except ExtractionError:
            text = ""
        fp = fingerprints(text)
        return Probe(key, key, None, fp.simhash, fp.content_hash), frozenset(fp.band_keys)

    def duplicate(a: Any, b: Any) -> str | None:
        (pa, ka), (pb, kb) = a, b
        if pa.content_hash != pb.content_hash and not ka & kb:
            return None  # never meet in a bucket
        return judge(pb, [pa], NEAR_DUPLICATE_DISTANCE).kind

    originals = {a.key: probe(a.key, a.title, list(a.paragraphs), a.outlet, 0) for a, _ in articles}
    by_outlet: dict[str, list[dedup_cases.Article]] = defaultdict(list)
    for a, _ in articles:
        by_outlet[a.outlet].append(a)
    outcomes: Counter[str] = Counter()
    items: list[dict[str, Any]] = []
    for number, (a, url) in enumerate(articles):
        title, paras = dedup_cases.syndicated(a, number)
        copy = probe(f"{a.key}#syndicated", title, paras, "Wire Desk", 1)
        near = duplicate(originals[a.key], copy)
        outcomes["near_found" if near else "near_missed"] += 1
        exact = duplicate(
            originals[a.key],
            probe(f"{a.key}#exact", a.title.lower(), dedup_cases.exact_copy(a), a.outlet, 0),
        )
        outcomes["exact_found" if exact == "exact" else "exact_missed"] += 1
        canonical = canonicalize(url)
        same = sum(canonicalize(v) == canonical for v in dedup_cases.url_variants(url))
        outcomes["url_found"] += same
        outcomes["url_missed"] += len(dedup_cases.url_variants(url)) - same
        others = [o for o in by_outlet[a.outlet] if o.key != a.key]
        if others:
            other = others[number % len(others)]
            follow = probe(f"{a.key}#follow", a.title, dedup_cases.follow_up(a, other), a.outlet, 0)
            false_follow = duplicate(originals[a.key], follow)
            outcomes["follow_up_flagged" if false_follow else "follow_up_kept"] += 1
        else:
            false_follow = None
        if not near or exact != "exact" or false_follow:
            items.append(
                {"id": a.key, "near": near, "exact": exact, "follow_up_flagged": false_follow}
            )
    # Every pair of different originals is a hard negative (same template; many share an
    # outlet).
    false_pairs = 0
    pairs = 0
    for (ka, a), (kb, b) in itertools.combinations(originals.items(), 2):
        pairs += 1
        if duplicate(a, b):
            false_pairs += 1
            items.append({"false_pair": [ka, kb]})
    true_pos = outcomes["near_found"]
    false_pos = false_pairs + outcomes["follow_up_flagged"]
    summary: dict[str, Any] = {
        "articles": len(articles),
        "near_recall": true_pos / max(1, true_pos + outcomes["near_missed"]),
        "near_precision": true_pos / max(1, true_pos + false_pos),
        "negative_pairs": pairs + outcomes["follow_up_flagged"] + outcomes["follow_up_kept"],
        "false_positive_pairs": false_pos,
        "follow_ups_flagged": outcomes["follow_up_flagged"],
        "exact_recall": outcomes["exact_found"] / max(1, len(articles)),
        "url_variant_recall": outcomes["url_found"]
        / max(1, outcomes["url_found"] + outcomes["url_missed"]),
        "near_distance": NEAR_DUPLICATE_DISTANCE,
    }
    return Report(f"dedup {data.name}", summary, items)


# --- all sets + CLI --------------------------------------------------------------------

Evaluator = Callable[[Path], Report]


def discover(root: Path) -> list[tuple[str, Path]]:
    """(kind, folder) of every known evaluation set under `root`."""
    found: list[tuple[str, Path]] = []
    extraction = sorted(p.parent for p in root.glob("extraction/*/index.jsonl"))
    found += [("extraction", p) for p in extraction]
    found += [("language", p) for p in sorted(root.glob("langid/*")) if any(p.glob("*.txt"))]
    found += [("entities", p) for p in sorted(root.glob("ner/*_en")) if any(p.glob("*.conll*"))]
    found += [("dedup", p) for p in extraction]
    return found


def run_one(kind: str, data: Path, limit: int | None, detector: str) -> Report:
    if kind == "extraction":
        return evaluate_extraction(data, limit)
    if kind == "language":
        return evaluate_language(data, limit, detector)
    if kind == "entities":
        return evaluate_entities(data, limit)
    return evaluate_dedup(data, limit)


def markdown(reports: list[Report]) -> str:
    lines = ["| set | metric | value |", "|---|---|---|"]
    for report in reports:
        for key, value in report.summary.items():
            if isinstance(value, dict | list):
                continue
            lines.append(f"| {report.name} | {key} | {_fmt(value)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="newsbeam eval", description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=(*KINDS, "all"))
    parser.add_argument("--data", type=Path, required=True, help="a set's folder (all: root)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items")
    parser.add_argument("--detector", default="py3langid", help="language: py3langid|langdetect")
    parser.add_argument("--markdown", type=Path, help="all: write the summary table here")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"newsbeam eval: {args.data} is not a folder", file=sys.stderr)
        return 2
    sets = discover(args.data) if args.kind == "all" else [(args.kind, args.data)]
    reports = []
    for kind, folder in sets:
        report = run_one(kind, folder, args.limit, args.detector)
        reports.append(report)
        if not args.json:
            print(report.render() if args.kind != "all" else f"{report.name}: done", flush=True)
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(reports), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0
