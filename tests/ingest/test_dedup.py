"""The dedup index against a plain set of (account, eventID): same verdicts, whatever the key form."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from trailhouse.ingest.dedup import DedupIndex
from trailhouse.lake import Lake

_EPOCH = date(1970, 1, 1)
_KEYS = pa.schema(
    [("recipientAccountId", pa.string()), ("eventID", pa.string()), ("event_date", pa.date32())]
)


def _rows(keys: list[tuple[str | None, str | None, date | None]]) -> pa.Table:
    accounts, ids, days = zip(*keys, strict=True) if keys else ((), (), ())
    return pa.table([list(accounts), list(ids), list(days)], schema=_KEYS)


def _random_key(rng: random.Random, pool: list[tuple[str | None, str | None, date | None]]) -> tuple:
    if pool and rng.random() < 0.3:  # a second copy of an event already seen
        return rng.choice(pool)
    account = rng.choice(["111122223333", "444455556666", "12345", None, ""])
    form = rng.random()
    event_id: str | None = str(uuid.UUID(int=rng.getrandbits(128)))
    if form < 0.05:
        event_id = None  # no eventID: always kept
    elif form < 0.1:
        event_id = event_id.upper()  # a different key from its lowercase form
    elif form < 0.15:
        event_id = f"custom-{rng.randrange(50)}"
    elif form < 0.2 and pool:
        event_id = rng.choice(pool)[1]  # one event delivered to two accounts: two keys
    day = rng.choice([date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), None])
    key = (account, event_id, day)
    pool.append(key)
    return key


def _expected(keys: list[tuple], seen: set[tuple]) -> list[bool]:
    verdicts = []
    for account, event_id, day in keys:
        if event_id is None:
            verdicts.append(True)
            continue
        identity = (account or "", event_id, day)
        verdicts.append(identity not in seen)
        seen.add(identity)
    return verdicts


def test_dedup_agrees_with_a_plain_set_over_every_key_form(tmp_path: Path) -> None:
    rng = random.Random(7)
    pool: list[tuple] = []
    index = DedupIndex(Lake(tmp_path / "lake"), "cloudtrail")
    seen: set[tuple] = set()
    for size in (5, 300, 80_000, 2_000, 40):  # 80,000 new keys pass the merge into sorted arrays
        keys = [_random_key(rng, pool) for _ in range(size)]
        assert index.new_mask(_rows(keys)) == _expected(keys, seen)


def test_dedup_finds_keys_already_in_the_lake(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    day = date(2026, 11, 1)
    stored = [("111122223333", str(uuid.uuid4()), day) for _ in range(3)] + [("1", "not-a-uuid", day)]
    lake.append("cloudtrail", _rows(stored), partition_by=["event_date"])
    index = DedupIndex(lake, "cloudtrail")
    fresh = ("111122223333", str(uuid.uuid4()), day)
    other_account = ("444455556666", stored[0][1], day)
    next_day = (stored[1][0], stored[1][1], day + timedelta(days=1))
    mask = index.new_mask(_rows([*stored, fresh, other_account, next_day]))
    assert mask == [False, False, False, False, True, True, True]


def test_dedup_remembers_uncommitted_keys_of_a_day_it_dropped(tmp_path: Path) -> None:
    index = DedupIndex(Lake(tmp_path / "lake"), "cloudtrail", days_kept=1)
    first = ("111122223333", str(uuid.uuid4()), _EPOCH + timedelta(days=20_000))
    assert index.new_mask(_rows([first])) == [True]
    others = [("111122223333", str(uuid.uuid4()), _EPOCH + timedelta(days=20_001 + n)) for n in range(3)]
    assert index.new_mask(_rows(others)) == [True, True, True]
    assert index.new_mask(_rows([first])) == [False]
