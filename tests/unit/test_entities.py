"""Tests of transforms/core/entities.py (cleaning, merging, tagging) and the NER handler."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from schemas.records import Entity
from transforms.core import entities
from transforms.core.entities import (
    LABEL_MAP,
    MAX_NER_CHARS,
    Mention,
    load_ner_model,
    mentions_from_doc,
    merge_mentions,
    model_id,
    tag_entities,
)
from transforms.core.isolate import IsolationError
from transforms.entities import SpacyNerModelHandler


def mentions_in(text: str, *marked: tuple[str, str]) -> list[Mention]:
    """Mentions of each (surface, label), given in text order: each is found after the last."""
    out: list[Mention] = []
    cursor = 0
    for surface, label in marked:
        start = text.index(surface, cursor)
        cursor = start + len(surface)
        out.append(Mention(surface, label, start, cursor))
    return out


def by_canonical(ents: list[Entity]) -> dict[str, Entity]:
    out = {e.canonical: e for e in ents}
    assert len(out) == len(ents), ents
    return out


# --- merging (no model) ---------------------------------------------------------------------

LAVROV_TEXT = (
    "Lavrov arrived late. Foreign Minister Sergei Lavrov then met Nikol Pashinyan. "
    "Mr Lavrov said little; Lavrov's aides said more. Pashinyan left."
)


def test_surname_and_title_forms_merge_into_the_only_full_name() -> None:
    ms = mentions_in(
        LAVROV_TEXT,
        ("Lavrov", "PER"),
        ("Sergei Lavrov", "PER"),
        ("Nikol Pashinyan", "PER"),
        ("Mr Lavrov", "PER"),
        ("Lavrov", "PER"),
        ("Pashinyan", "PER"),
    )
    ents = merge_mentions(ms)
    assert len(ents) == 2
    lavrov, pashinyan = ents  # ordered by first mention
    assert lavrov.canonical == "Sergei Lavrov"  # full name beats the more frequent surname
    assert lavrov.text == "Lavrov"  # the first surface form in the article
    assert lavrov.label == "PER"
    assert lavrov.count == 4
    assert [LAVROV_TEXT[s:e] for s, e in lavrov.spans] == [
        "Lavrov",
        "Sergei Lavrov",
        "Mr Lavrov",
        "Lavrov",
    ]
    assert pashinyan.canonical == "Nikol Pashinyan"
    assert pashinyan.count == 2


def test_surname_shared_by_two_full_names_stays_apart() -> None:
    text = "Bill Clinton and Hillary Clinton spoke. Clinton said Hillary would run."
    ms = mentions_in(
        text,
        ("Bill Clinton", "PER"),
        ("Hillary Clinton", "PER"),
        ("Clinton", "PER"),
        ("Hillary", "PER"),
    )
    ents = by_canonical(merge_mentions(ms))
    assert set(ents) == {"Bill Clinton", "Hillary Clinton", "Clinton"}
    assert ents["Clinton"].count == 1
    assert ents["Bill Clinton"].count == 1
    assert ents["Hillary Clinton"].count == 2  # "Hillary" fits only one full name


def test_generation_suffix_keeps_father_and_son_apart() -> None:
    text = "Donald Trump Jr. defended Donald Trump. Trump Jr. then left."
    ms = mentions_in(
        text, ("Donald Trump Jr.", "PER"), ("Donald Trump", "PER"), ("Trump Jr.", "PER")
    )
    ents = by_canonical(merge_mentions(ms))
    assert ents["Donald Trump Jr."].count == 2
    assert ents["Donald Trump"].count == 1


def test_nested_full_names_chain_into_the_longest() -> None:
    text = "Sergei Viktorovich Lavrov, or Sergei Lavrov, or just Lavrov."
    ms = mentions_in(
        text, ("Sergei Viktorovich Lavrov", "PER"), ("Sergei Lavrov", "PER"), ("Lavrov", "PER")
    )
    (ent,) = merge_mentions(ms)
    assert ent.count == 3
    assert ent.canonical == "Sergei Viktorovich Lavrov"  # all once: the longest full name


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("Sergei Lavrov", "Sergey Lavrov", "PER"),
        ("Kommersant", "Komersant", "ORG"),
        ("Volodymyr Zelenskyy", "Volodymyr Zelensky", "PER"),
        ("Zürich", "Zurich", "LOC"),
        ("Abdel Fattah el-Sisi", "Abdel Fattah al-Sisi", "PER"),  # difflib fallback
    ],
)
def test_spelling_variants_merge(a: str, b: str, label: str) -> None:
    text = f"{a} first, then {b}, then {a} again."
    ms = mentions_in(text, (a, label), (b, label), (a, label))
    (ent,) = merge_mentions(ms)
    assert ent.count == 3
    assert ent.canonical == a  # the most frequent form
    assert ent.text == a
    assert {text[s:e] for s, e in ent.spans} == {a, b}


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("Niger", "Nigeria", "LOC"),
        ("Ivanov", "Ivanova", "PER"),
        ("Austria", "Australia", "LOC"),
        ("Iran", "Iraq", "LOC"),
        ("Tom Hanks", "Tim Hanks", "PER"),
        ("Patrick W. Carlineo", "Patrick Carlineo Jr.", "PER"),
    ],
)
def test_different_names_do_not_merge(a: str, b: str, label: str) -> None:
    text = f"{a} and {b}."
    ents = merge_mentions(mentions_in(text, (a, label), (b, label)))
    assert [e.canonical for e in ents] == [a, b]


def test_majority_label_wins_for_one_name() -> None:
    text = "In Georgia, protests. Georgia said. Tbilisi and Georgia agreed."
    ms = mentions_in(text, ("Georgia", "LOC"), ("Georgia", "PER"), ("Georgia", "LOC"))
    (ent,) = merge_mentions(ms)
    assert (ent.label, ent.count) == ("LOC", 3)


def test_label_tie_prefers_a_non_person_label() -> None:
    text = "Gazprom said. Later Gazprom denied. Georgia voted; Georgia won."
    ms = mentions_in(
        text, ("Gazprom", "PER"), ("Gazprom", "ORG"), ("Georgia", "PER"), ("Georgia", "LOC")
    )
    assert [(e.canonical, e.label) for e in merge_mentions(ms)] == [
        ("Gazprom", "ORG"),
        ("Georgia", "LOC"),
    ]


def test_lone_surname_tagged_org_joins_the_person_only_as_surname() -> None:
    text = "Sergei Lavrov spoke. Lavrov said no. Ilham Aliyev listened; Ilham left."
    ms = mentions_in(
        text,
        ("Sergei Lavrov", "PER"),
        ("Lavrov", "ORG"),  # the small model's common error
        ("Ilham Aliyev", "PER"),
        ("Ilham", "ORG"),  # a first name tagged ORG is not merged
    )
    ents = by_canonical(merge_mentions(ms))
    assert (ents["Sergei Lavrov"].label, ents["Sergei Lavrov"].count) == ("PER", 2)
    assert ents["Ilham Aliyev"].count == 1
    assert ents["Ilham"].label == "ORG"


def test_mostly_location_name_is_not_taken_by_a_person() -> None:
    text = "Michael Jordan visited Jordan. Jordan welcomed him; Jordan is hot."
    ms = mentions_in(
        text,
        ("Michael Jordan", "PER"),
        ("Jordan", "PER"),
        ("Jordan", "LOC"),
        ("Jordan", "LOC"),
    )
    ents = by_canonical(merge_mentions(ms))
    assert ents["Michael Jordan"].count == 1
    assert (ents["Jordan"].label, ents["Jordan"].count) == ("LOC", 3)


def test_offsets_counts_order_and_determinism() -> None:
    text = "Moscow and Kyiv. Sergey Lavrov in Moscow. NATO met. Lavrov, Sergei Lavrov, NATO."
    ms = mentions_in(
        text,
        ("Moscow", "LOC"),
        ("Kyiv", "LOC"),
        ("Sergey Lavrov", "PER"),
        ("Moscow", "LOC"),
        ("NATO", "ORG"),
        ("Lavrov", "PER"),
        ("Sergei Lavrov", "PER"),
        ("NATO", "ORG"),
    )
    expected = merge_mentions(ms)
    assert [e.canonical for e in expected] == ["Moscow", "Kyiv", "Sergey Lavrov", "NATO"]
    for e in expected:
        assert list(e.spans) == sorted(e.spans)
        assert e.count == len(e.spans)
        assert all(text[s:e_] for s, e_ in e.spans)
    assert sum(e.count for e in expected) == len(ms)
    # Sergey and Sergei once each: the first one is canonical
    assert expected[2].text == "Sergey Lavrov"
    rng = random.Random(7)
    for _ in range(20):
        shuffled = list(ms)
        rng.shuffle(shuffled)
        assert merge_mentions(shuffled) == expected
    assert merge_mentions(ms + ms) == expected  # repeated mentions count once
    assert merge_mentions([]) == []


def test_all_caps_form_is_not_canonical() -> None:
    text = "KOMMERSANT REPORTS: Kommersant said. KOMMERSANT again."
    ms = mentions_in(text, ("KOMMERSANT", "ORG"), ("Kommersant", "ORG"), ("KOMMERSANT", "ORG"))
    (ent,) = merge_mentions(ms)
    assert (ent.canonical, ent.text, ent.count) == ("Kommersant", "KOMMERSANT", 3)


# --- mention cleaning (blank pipeline, no model) ---------------------------------------------


def blank_doc(text: str, *marked: tuple[str, str]) -> Doc:
    nlp = spacy.blank("en")
    doc = nlp(text)
    spans = []
    for surface, label in marked:
        start = text.index(surface)
        span = doc.char_span(start, start + len(surface), label=label)
        assert span is not None, surface
        spans.append(span)
    doc.ents = spans
    return doc


def test_mentions_are_cleaned_mapped_and_filtered() -> None:
    text = (
        "We saw the White House's lawn, then (Moscow. U.S. troops and Acme Inc. left "
        "“Kremlin” behind in 2024 with 5,000 people on\nMonday near The Hague. "
        "Nicolas Jarry 6-4 beat a Samsung team."
    )
    doc = blank_doc(
        text,
        ("the White House's", "FAC"),
        ("(Moscow.", "GPE"),
        ("U.S.", "GPE"),
        ("Acme Inc.", "ORG"),
        ("“Kremlin”", "ORG"),
        ("2024", "DATE"),
        ("5,000", "PERSON"),  # no letters: dropped whatever the label
        ("on\nMonday", "PERSON"),  # crosses a line break: dropped
        ("The Hague", "GPE"),
        ("Nicolas Jarry 6-4", "PERSON"),
        ("a Samsung", "ORG"),
    )
    got = mentions_from_doc(doc)
    assert [(m.text, m.label) for m in got] == [
        ("White House", "LOC"),
        ("Moscow", "LOC"),
        ("U.S.", "LOC"),
        ("Acme Inc.", "ORG"),
        ("Kremlin", "ORG"),
        ("The Hague", "LOC"),
        ("Nicolas Jarry", "PER"),
        ("Samsung", "ORG"),
    ]
    for m in got:
        assert text[m.start : m.end] == m.text


def test_overlong_mention_is_dropped() -> None:
    name = " ".join(["Very"] * 30) + " Long Organisation"
    doc = blank_doc(f"The {name} said.", (name, "ORG"))
    assert mentions_from_doc(doc) == []


def test_label_map_is_the_stable_set() -> None:
    assert set(LABEL_MAP.values()) == {"PER", "ORG", "LOC", "NORP", "EVENT"}
    assert "DATE" not in LABEL_MAP
    assert "MONEY" not in LABEL_MAP


# --- rules after the model (no model) --------------------------------------------------------


def test_rules_relabel_persons_by_name() -> None:
    text = (
        "Azerbaijan Railways and Anatolia Wire met at Lake Sevan and Cal Anderson Park in "
        "Yerevan. Michael Jordan spoke; Jordan smiled. Nikol Pashinyan left."
    )
    doc = blank_doc(
        text,
        ("Azerbaijan Railways", "PERSON"),
        ("Anatolia Wire", "PERSON"),
        ("Lake Sevan", "PERSON"),
        ("Cal Anderson Park", "PERSON"),
        ("Yerevan", "PERSON"),
        ("Michael Jordan", "PERSON"),
        ("Jordan smiled", "PERSON"),
        ("Nikol Pashinyan", "PERSON"),
    )
    # "jordan smiled" is not a place: only the whole name is looked up
    rules = entities.EntityRules(frozenset({"yerevan", "jordan", "nikol pashinyan x"}))
    got = [(e.text, e.label_) for e in rules(doc).ents]
    assert got == [
        ("Azerbaijan Railways", "ORG"),
        ("Anatolia Wire", "ORG"),
        ("Lake Sevan", "LOC"),
        ("Cal Anderson Park", "LOC"),
        ("Yerevan", "GPE"),
        ("Michael Jordan", "PERSON"),
        ("Jordan smiled", "PERSON"),
        ("Nikol Pashinyan", "PERSON"),
    ]


def test_rules_keep_a_place_name_that_is_a_surname_here() -> None:
    text = "Jordan left early. Michael Jordan had scored 40."
    doc = blank_doc(text, ("Jordan", "PERSON"), ("Michael Jordan", "PERSON"))
    rules = entities.EntityRules(frozenset({"jordan"}))
    assert [e.label_ for e in rules(doc).ents] == ["PERSON", "PERSON"]


def test_rules_leave_other_labels_alone() -> None:
    doc = blank_doc("The West Bank and Linkin Park.", ("West Bank", "GPE"), ("Linkin Park", "ORG"))
    rules = entities.EntityRules(frozenset({"linkin park"}))
    assert [e.label_ for e in rules(doc).ents] == ["GPE", "ORG"]


def test_place_names_come_from_the_pinned_packages() -> None:
    places = entities.load_place_names()
    # countries (pycountry, GeoNames), regions (ISO 3166-2), cities and their alternate names
    for name in ("Armenia", "Russian Federation", "Russia", "Lori", "Yerevan", "Tiflis"):
        assert entities._place_key(name) in places, name
    assert entities._place_key("São Paulo") == entities._place_key("SAO  PAULO")
    assert "sergei lavrov" not in places


# --- the real model --------------------------------------------------------------------------

NEWS = (
    "Foreign Minister Sergei Lavrov met Armenian Prime Minister Nikol Pashinyan in Moscow on "
    "Tuesday, the Kremlin said. The two men discussed the conflict with Azerbaijan and the "
    "role of the Collective Security Treaty Organization.\n\n"
    'Lavrov said the talks had been "frank and useful" and that Russia remained committed to '
    "security in the South Caucasus. Pashinyan, who has criticised Moscow in recent months, "
    "did not comment.\n\n"
    "Speaking to reporters in Moscow later, Sergey Lavrov said Georgia was not discussed. "
    "The newspaper Kommersant reported that a second meeting could take place in Yerevan "
    "in March."
)


@pytest.fixture(scope="module")
def nlp() -> Iterator[spacy.language.Language]:
    yield load_ner_model()


def test_model_is_ner_only(nlp: spacy.language.Language) -> None:
    assert nlp.pipe_names == ["ner", entities.ENTITY_RULES]
    assert model_id(nlp).startswith("en_core_web_sm")
    assert model_id(nlp).endswith("-3.8.0")


def test_missing_models_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entities, "MODEL_NAMES", ("no_such_spacy_model_xyz",))
    with pytest.raises(OSError, match="no spaCy NER model"):
        load_ner_model()


def test_tagging_a_news_paragraph(nlp: spacy.language.Language) -> None:
    (ents,) = tag_entities(nlp, [NEWS])
    by_name = by_canonical(ents)

    lavrov = by_name["Sergei Lavrov"]
    assert lavrov.label == "PER"
    assert lavrov.count == 3
    assert [NEWS[s:e] for s, e in lavrov.spans] == ["Sergei Lavrov", "Lavrov", "Sergey Lavrov"]
    assert lavrov.spans[0] == (NEWS.index("Sergei Lavrov"), NEWS.index(" met"))

    moscow = by_name["Moscow"]
    assert moscow.label == "LOC"
    assert moscow.count == 3
    assert {NEWS[s:e] for s, e in moscow.spans} == {"Moscow"}

    assert by_name["Nikol Pashinyan"].label == "PER"
    assert by_name["Yerevan"].label == "LOC"
    assert "Tuesday" not in by_name  # dates are dropped
    assert "March" not in by_name

    for e in ents:
        assert e.label in {"PER", "ORG", "LOC", "NORP", "EVENT"}
        assert list(e.spans) == sorted(e.spans)
        assert e.count == len(e.spans)
        assert NEWS[slice(*e.spans[0])] == e.text
        surfaces = {NEWS[s:x] for s, x in e.spans}
        assert e.canonical in surfaces
        for surface in surfaces:  # a clean name, not a run-on span
            assert surface == surface.strip(" .,;:\"'")
            assert "\n" not in surface
    assert [e.spans[0] for e in ents] == sorted(e.spans[0] for e in ents)


def test_demo_names_are_not_persons(nlp: spacy.language.Language) -> None:
    # The small model alone tags all three PERSON (seen on the demo site).
    text = (
        "Anatolia Wire reported that Azerbaijan Railways will run freight trains from Baku. "
        "The talks in Yerevan ended on Tuesday. Yerevan said the line would reopen."
    )
    (ents,) = tag_entities(nlp, [text])
    labels = {e.canonical: e.label for e in ents}
    assert labels["Anatolia Wire"] == "ORG"
    assert labels["Azerbaijan Railways"] == "ORG"
    assert labels["Yerevan"] == "LOC"


def test_batches_keep_order_and_truncate(
    nlp: spacy.language.Language, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MAX_NER_CHARS == 100_000
    texts = ["", "Angela Merkel visited Paris.", NEWS, "Nothing to see here."]
    got = tag_entities(nlp, texts, batch_size=2)
    assert len(got) == 4
    assert got[0] == []
    assert {e.canonical for e in got[1]} >= {"Angela Merkel", "Paris"}
    assert got[2] == tag_entities(nlp, [NEWS])[0]

    monkeypatch.setattr(entities, "MAX_NER_CHARS", NEWS.index(" met"))
    (cut,) = tag_entities(nlp, [NEWS])
    assert all(e <= NEWS.index(" met") for ent in cut for _, e in ent.spans)
    assert "Moscow" not in {e.canonical for e in cut}


def test_model_multiplies_with_numpy_not_blis(nlp: spacy.language.Language) -> None:
    # The speed-up of docs/PERFORMANCE.md: tok2vec and the parser's lower layer use numpy.
    ops = {
        type(node.ops).__name__ + str(node.ops.use_blis)
        for node in nlp.get_pipe("ner").model.walk()
        if node.name in ("maxout", "precomputable_affine")
    }
    assert ops == {"NumpyOpsFalse"}


# --- the Beam model handler: spaCy in a single-threaded child process ----------------------


class _StubWorker:
    """Stands in for the child: fails any call whose texts include "boom"."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def call(self, texts: list[str], batch_size: int) -> tuple[str, list[list[Entity]]]:
        self.calls.append(texts)
        if "boom" in texts:
            raise IsolationError("ner_timeout", "no result within 600 s")
        return "stub-1.0", [[Entity(t, "PER", t, 1, ((0, len(t)),))] for t in texts]


def test_handler_isolates_the_text_that_fails() -> None:
    worker = _StubWorker()
    results = list(SpacyNerModelHandler(4).run_inference(["Ann", "boom", "Bo"], worker))
    assert worker.calls == [["Ann", "boom", "Bo"], ["Ann"], ["boom"], ["Bo"]]
    assert [r.inference[0].text for r in (results[0], results[2])] == ["Ann", "Bo"]
    assert isinstance(results[1].inference, IsolationError)
    assert results[1].inference.reason == "ner_timeout"
    assert {r.model_id for r in results} == {"stub-1.0"}


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_child_tags_like_this_process_with_one_thread(nlp: spacy.language.Language) -> None:
    worker = SpacyNerModelHandler(2).load_model()
    try:
        # One thread is the point of the child (see SpacyNerModelHandler).
        assert len(list(Path(f"/proc/{worker.pid}/task").iterdir())) == 1
        name, got = worker.call([NEWS, "Angela Merkel visited Paris."], 2)
    finally:
        worker.close()
    assert name == model_id(nlp)
    assert got == tag_entities(nlp, [NEWS, "Angela Merkel visited Paris."])
