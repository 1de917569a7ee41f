"""Which snapshots to keep: pure thinning of a time series by age tiers.

``MESH_UI_SNAPSHOT_RETENTION`` is a list of ``resolution:age`` tiers, e.g. ``15s:1h,1m:1d,1h:7d``: keep one
snapshot per 15 s for the last hour, one per minute for the last day, one per hour for a week, nothing older.
The kept snapshot of each slot is the oldest in it, so a kept snapshot stays kept as time moves on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def parse_duration(text: str) -> int:
    """``"15s"`` → 15, ``"1h"`` → 3600. Raises ValueError on anything else."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15s, 5m, 1h, 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class RetentionTier:
    """Keep one snapshot per ``resolution`` seconds for snapshots younger than ``max_age`` seconds."""

    resolution: int
    max_age: int


def parse_retention(text: str) -> list[RetentionTier]:
    """Parse ``"15s:1h,1m:1d,1h:7d"``; tiers must have growing ages."""
    tiers = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        resolution, sep, age = part.partition(":")
        if not sep:
            raise ValueError(f"retention tier {part!r} must look like RESOLUTION:AGE, e.g. 1m:1d")
        tiers.append(RetentionTier(parse_duration(resolution), parse_duration(age)))
    if not tiers:
        raise ValueError("retention needs at least one tier")
    ages = [t.max_age for t in tiers]
    if ages != sorted(ages) or len(set(ages)) != len(ages):
        raise ValueError("retention tiers must be listed by growing age")
    return tiers


def select_snapshots_to_delete(
    snapshots: Iterable[tuple[int, datetime]], now: datetime, tiers: Sequence[RetentionTier]
) -> list[int]:
    """Ids of snapshots to delete: those older than the last tier, and all but the oldest of each slot.

    ``snapshots`` are ``(id, taken_at)`` pairs. A slot is ``floor(epoch / resolution)`` of the tier the
    snapshot's age falls in.
    """
    kept_slots: set[tuple[int, int]] = set()
    doomed: list[int] = []
    for snapshot_id, taken_at in sorted(snapshots, key=lambda item: item[1]):
        age = (now - taken_at).total_seconds()
        tier_index = next((i for i, tier in enumerate(tiers) if age <= tier.max_age), None)
        if tier_index is None:
            doomed.append(snapshot_id)
            continue
        slot = (tier_index, int(taken_at.timestamp()) // tiers[tier_index].resolution)
        if slot in kept_slots:
            doomed.append(snapshot_id)
        else:
            kept_slots.add(slot)
    return doomed
