from __future__ import annotations

from transforms.core import dedup
from transforms.core.dedup import Probe, Verdict

STORY = " ".join(
    f"Sentence {i} about the parliament vote on the new budget in Tbilisi, which the "
    f"opposition called rushed while ministers defended the timetable number {i}."
    for i in range(12)
)
OTHER = " ".join(
    f"Line {i}: the football club signed a young striker from Baku after a long summer "
    f"of talks and the coach praised his speed in training session {i}."
    for i in range(12)
)


def probe(article_id: str, text: str, published: str | None) -> Probe:
    prints = dedup.fingerprints(text)
    return Probe(
        article_id,
        f"https://x.example/{article_id}",
        published,
        prints.simhash,
        prints.content_hash,
    )


def test_fingerprints_are_deterministic_and_case_insensitive() -> None:
    a = dedup.fingerprints(STORY)
    b = dedup.fingerprints(STORY.upper().replace(",", " ,"))
    assert a == b
    assert len(dedup.fingerprint_hex(a.simhash)) == 16
    assert len(a.band_keys) == dedup.NUM_BANDS


def test_syndicated_copy_is_near_and_shares_a_band() -> None:
    copy = STORY.rsplit("Sentence 11", 1)[0] + " This article was originally published by Wire."
    a, b = dedup.fingerprints(STORY), dedup.fingerprints(copy)
    assert dedup.hamming(a.simhash, b.simhash) <= dedup.NEAR_DUPLICATE_DISTANCE
    assert set(a.band_keys) & set(b.band_keys)


def test_different_story_is_far() -> None:
    a, b = dedup.fingerprints(STORY), dedup.fingerprints(OTHER)
    assert dedup.hamming(a.simhash, b.simhash) > dedup.NEAR_DUPLICATE_DISTANCE
    assert not set(a.band_keys) & set(b.band_keys)


def test_short_texts_get_no_bands() -> None:
    assert dedup.fingerprints("Too short to say anything.").band_keys == ()


def test_judge_prefers_exact_and_skips_itself() -> None:
    original = probe("a", STORY, "2026-01-01T00:00:00Z")
    exact = probe("b", STORY, "2026-01-02T00:00:00Z")
    near = probe("c", STORY + " Extra closing line from the wire.", "2026-01-03T00:00:00Z")
    assert dedup.judge(original, [original], 12) == Verdict("a")
    verdict = dedup.judge(exact, [near, original], 12)
    assert (verdict.duplicate_of_id, verdict.kind, verdict.similarity) == ("a", "exact", 1.0)
    verdict = dedup.judge(near, [original], 12)
    assert verdict.kind == "near" and verdict.duplicate_of_id == "a" and verdict.similarity > 0.8
    assert dedup.judge(probe("d", OTHER, None), [original], 12).duplicate_of_id is None


def test_resolve_picks_best_verdict() -> None:
    verdicts = [
        Verdict("x"),
        Verdict("x", "n", "u1", "near", 0.9),
        Verdict("x", "e", "u2", "exact", 1.0),
    ]
    assert dedup.resolve(verdicts).duplicate_of_id == "e"
    assert dedup.resolve([Verdict("x"), Verdict("x")]).duplicate_of_id is None


def test_order_puts_unknown_dates_last() -> None:
    dated = probe("z", STORY, "2026-01-01T00:00:00Z")
    undated = probe("a", STORY, None)
    assert sorted([undated, dated], key=Probe.order_key) == [dated, undated]
