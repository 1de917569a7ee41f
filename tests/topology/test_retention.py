"""Pure tests of snapshot thinning by age tiers."""

from datetime import UTC, datetime, timedelta

import pytest

from topology.retention import RetentionTier, parse_duration, parse_retention, select_snapshots_to_delete

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def test_parse_retention_reads_tiers_in_seconds():
    assert parse_retention("15s:1h,1m:1d,1h:7d") == [
        RetentionTier(15, 3600),
        RetentionTier(60, 86400),
        RetentionTier(3600, 604800),
    ]


@pytest.mark.parametrize("bad", ["", "15s", "1m:1d,15s:1h", "1x:1h", "1m:1d,1m:1d"])
def test_parse_retention_rejects_bad_tiers(bad):
    with pytest.raises(ValueError):
        parse_retention(bad)


def test_parse_duration_units():
    assert [parse_duration(t) for t in ("15s", "5m", "2h", "1d", "1w")] == [15, 300, 7200, 86400, 604800]


def test_recent_snapshots_are_all_kept_and_older_ones_thinned_to_one_per_slot():
    tiers = parse_retention("15s:1h,1m:1d")
    # Every 15 s for the last 3 hours.
    snapshots = [(i, NOW - timedelta(seconds=15 * i)) for i in range(12 * 60)]
    doomed = set(select_snapshots_to_delete(snapshots, NOW, tiers))
    kept = [(i, t) for i, t in snapshots if i not in doomed]
    recent = [t for _, t in kept if NOW - t <= timedelta(hours=1)]
    older = [t for _, t in kept if NOW - t > timedelta(hours=1)]
    assert len(recent) == 241  # nothing thinned inside the first tier
    minutes = {int(t.timestamp()) // 60 for t in older}
    assert len(older) == len(minutes)  # one per minute slot


def test_snapshots_older_than_the_last_tier_are_deleted():
    tiers = parse_retention("15s:1h")
    assert select_snapshots_to_delete([(1, NOW - timedelta(hours=2)), (2, NOW)], NOW, tiers) == [1]


def test_the_oldest_snapshot_of_a_slot_is_the_one_kept_so_it_stays_kept():
    tiers = parse_retention("1m:1d")
    base = NOW.replace(second=0) - timedelta(minutes=5)
    snapshots = [(1, base + timedelta(seconds=5)), (2, base + timedelta(seconds=20)), (3, base + timedelta(seconds=50))]
    assert select_snapshots_to_delete(snapshots, NOW, tiers) == [2, 3]
