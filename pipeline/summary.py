"""The run summary: counts from the pipeline's metrics, and the conservation check.

Every feed entry ends in exactly one place. The counts come from different stages (seen
when feeds are parsed; written at the sink; dropped as already seen before dedup), so a
stage that lost an element breaks the sum instead of hiding it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apache_beam.metrics.metric import MetricsFilter

from transforms.common import METRICS_NAMESPACE


@dataclass
class RunSummary:
    run_id: str
    feeds_polled: int = 0
    feeds_ok: int = 0
    feeds_failed: int = 0
    feeds_bozo: int = 0
    entries_seen: int = 0
    articles_written: int = 0
    duplicates_written: int = 0
    entry_dead_letters: int = 0
    feed_dead_letters: int = 0
    already_seen: int = 0
    # How polls ended and why feeds were not polled: changed, not_modified, unchanged,
    # not_due, deferred, throttled, moved, retired, disabled, skipped_retired, ...
    feed_outcomes: dict[str, int] = field(default_factory=dict)
    duplicates_by_kind: dict[str, int] = field(default_factory=dict)
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def accounted(self) -> int:
        return (
            self.articles_written
            + self.duplicates_written
            + self.entry_dead_letters
            + self.already_seen
        )

    @property
    def conserved(self) -> bool:
        return self.entries_seen == self.accounted

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accounted": self.accounted, "conserved": self.conserved}

    def render(self) -> str:
        rows = [
            ("feeds polled", self.feeds_polled),
            ("  ok / failed", f"{self.feeds_ok} / {self.feeds_failed}"),
            *((f"  {k.replace('_', ' ')}", v) for k, v in sorted(self.feed_outcomes.items())),
            ("  ill-formed but read (bozo)", self.feeds_bozo),
            ("entries seen", self.entries_seen),
            ("articles written", self.articles_written),
            ("duplicates", self.duplicates_written),
            *((f"  {k}", v) for k, v in sorted(self.duplicates_by_kind.items())),
            ("dead letters (entries)", self.entry_dead_letters),
            ("dead letters (whole feeds)", self.feed_dead_letters),
            *((f"  {k}", v) for k, v in sorted(self.dead_letters_by_reason.items())),
            ("already seen (earlier runs)", self.already_seen),
            ("run time", f"{self.seconds:.1f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"newsbeam run {self.run_id}", "-" * (width + 12)]
        lines += [f"{name:<{width}}  {value:>8}" for name, value in rows]
        check = "holds" if self.conserved else "BROKEN"
        lines.append("-" * (width + 12))
        lines.append(
            f"entries {self.entries_seen} = articles {self.articles_written} + duplicates "
            f"{self.duplicates_written} + dead letters {self.entry_dead_letters} + already "
            f"seen {self.already_seen}: {check}"
        )
        return "\n".join(lines)

    def save(self, output: Path) -> Path:
        path = output / "runs" / f"{self.run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


_FEED_TOTALS = frozenset({"feeds.polled", "feeds.ok", "feeds.failed", "feeds.bozo"})


def counters_of(result: Any) -> Counter[str]:
    """newsbeam's counters summed over steps (committed values, attempted if none)."""
    totals: Counter[str] = Counter()
    query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    for item in query["counters"]:
        value = item.committed if item.committed is not None else item.attempted
        totals[item.key.metric.name] += int(value or 0)
    return totals


def summarize(run_id: str, counters: Counter[str], seconds: float) -> RunSummary:
    summary = RunSummary(
        run_id=run_id,
        feeds_polled=counters["feeds.polled"],
        feeds_ok=counters["feeds.ok"],
        feeds_failed=counters["feeds.failed"],
        feeds_bozo=counters["feeds.bozo"],
        entries_seen=counters["entries.seen"],
        articles_written=counters["written.articles"],
        duplicates_written=counters["written.duplicates"],
        entry_dead_letters=counters["written.dead_letters.entry"],
        feed_dead_letters=counters["written.dead_letters.feed"],
        already_seen=counters["entries.already_seen"],
        seconds=seconds,
    )
    for name, value in counters.items():
        if name.startswith("feeds.") and name not in _FEED_TOTALS:
            summary.feed_outcomes[name.split(".", 1)[1]] = value
        elif name == "hosts.throttled":
            summary.feed_outcomes["article hosts throttled"] = value
        elif name.startswith("duplicates."):
            summary.duplicates_by_kind[name.split(".", 1)[1]] = value
        elif name.startswith("dead_letter."):
            _, subject, stage, reason = name.split(".", 3)
            key = f"{stage}/{reason}" + (" (feed)" if subject == "feed" else "")
            summary.dead_letters_by_reason[key] = value
    return summary
