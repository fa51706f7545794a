"""Content fingerprints and the near-duplicate decision, without Beam.

Signals, from cheapest to broadest:
- `content_hash`: SHA-256 of the normalised text: exact copies.
- `simhash`: 64-bit SimHash over word 3-gram shingles (the record's `fingerprint`).
  Measured on the 299 shared evaluation pages with >= 80 words (script in
  docs/QUALITY.md): syndicated copies (a paragraph trimmed, a wire-credit line added)
  lie at Hamming distance p50 5 / p95 12, while the closest pair of *different* articles
  lies at 15. Unigram SimHash (trafilatura's) separates worse (different articles at 4).
  Hence `NEAR_DUPLICATE_DISTANCE = 12`.
- MinHash LSH bands over the same shingles find the candidates to compare: two copies
  share a band key with probability 1 - (1 - J^4)^16 (J = shingle Jaccard), above 0.98
  for J >= 0.7, so a keyed stateful DoFn per band sees every likely pair, and each band
  bucket stays small. (Pigeonhole bands of the SimHash itself would need 13 bands of
  5 bits for distance 12: buckets far too coarse.)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

NEAR_DUPLICATE_DISTANCE = 12
# Too few shingles make SimHash and MinHash unreliable; such texts only get exact matching.
MIN_WORDS_FOR_NEAR = 50
MIN_WORDS_FOR_EXACT = 15
SHINGLE_SIZE = 3
NUM_PERMUTATIONS = 64
BAND_ROWS = 4
NUM_BANDS = NUM_PERMUTATIONS // BAND_ROWS

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_rng = np.random.default_rng(20260101)  # fixed: band keys must be stable across runs
_PERM_A = (_rng.integers(1, 2**63, NUM_PERMUTATIONS, dtype=np.uint64) * 2 + 1).astype(np.uint64)
_PERM_B = _rng.integers(0, 2**63, NUM_PERMUTATIONS, dtype=np.uint64)


@dataclass(frozen=True)
class Fingerprints:
    content_hash: str
    simhash: int
    band_keys: tuple[str, ...]


def normalize_for_hash(text: str) -> str:
    """Text reduced to its words: case, punctuation and spacing do not make a new article."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD_RE.findall(folded))


def _shingle_hashes(words: list[str]) -> np.ndarray:
    if len(words) < SHINGLE_SIZE:
        grams = [" ".join(words)] if words else []
    else:
        grams = [
            " ".join(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1)
        ]
    digests = b"".join(
        hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest() for g in dict.fromkeys(grams)
    )
    return np.frombuffer(digests, dtype="<u8")


def simhash(hashes: np.ndarray) -> int:
    if hashes.size == 0:
        return 0
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - hashes.size
    return int(sum(1 << i for i in range(64) if votes[i] > 0))


def minhash_band_keys(hashes: np.ndarray) -> tuple[str, ...]:
    if hashes.size == 0:
        return ()
    with np.errstate(over="ignore"):  # multiply-shift hashing relies on uint64 wrap-around
        permuted = np.outer(hashes, _PERM_A) + _PERM_B
    signature = (permuted.min(axis=0) >> np.uint64(32)).astype("<u4")
    keys = []
    for band in range(NUM_BANDS):
        rows = signature[band * BAND_ROWS : (band + 1) * BAND_ROWS].tobytes()
        keys.append(f"b{band:02d}:{hashlib.blake2b(rows, digest_size=8).hexdigest()}")
    return tuple(keys)


def fingerprints(text: str) -> Fingerprints:
    normalized = normalize_for_hash(text)
    words = normalized.split()
    hashes = _shingle_hashes(words)
    return Fingerprints(
        content_hash=hashlib.sha256(normalized.encode("utf-8")).hexdigest(),
        simhash=simhash(hashes),
        band_keys=minhash_band_keys(hashes) if len(words) >= MIN_WORDS_FOR_NEAR else (),
    )


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def fingerprint_hex(value: int) -> str:
    return f"{value:016x}"


# --- the decision inside one bucket -----------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What one article tells a dedup bucket about itself (small: no text)."""

    article_id: str
    url: str
    published_at: str | None
    simhash: int
    content_hash: str

    def order_key(self) -> tuple[str, str]:
        # Earliest-published first; unknown dates sort last; ties broken by id so the
        # outcome never depends on arrival order within a batch.
        return (self.published_at or "9999", self.article_id)


@dataclass(frozen=True)
class Verdict:
    """One bucket's view of an article: the earlier article it copies, if any."""

    article_id: str
    duplicate_of_id: str | None = None
    duplicate_of_url: str | None = None
    kind: str | None = None
    similarity: float = 0.0

    def rank(self) -> tuple[int, float]:
        """Exact beats near; closer beats farther."""
        return (0 if self.kind == "exact" else 1, -self.similarity)


def judge(probe: Probe, kept: list[Probe], max_distance: int) -> Verdict:
    """Compare a probe with the articles a bucket already holds (all ordered before it)."""
    best: Verdict | None = None
    for other in kept:
        if other.article_id == probe.article_id:
            continue
        if other.content_hash == probe.content_hash:
            verdict = Verdict(probe.article_id, other.article_id, other.url, "exact", 1.0)
        else:
            distance = hamming(other.simhash, probe.simhash)
            if distance > max_distance:
                continue
            verdict = Verdict(
                probe.article_id, other.article_id, other.url, "near", round(1 - distance / 64, 4)
            )
        if best is None or verdict.rank() < best.rank():
            best = verdict
    return best or Verdict(probe.article_id)


def resolve(verdicts: list[Verdict]) -> Verdict:
    """The verdict for an article from all the buckets it was probed in."""
    duplicates = [v for v in verdicts if v.duplicate_of_id]
    if not duplicates:
        return verdicts[0] if verdicts else Verdict("")
    return min(duplicates, key=lambda v: (*v.rank(), v.duplicate_of_id or ""))
