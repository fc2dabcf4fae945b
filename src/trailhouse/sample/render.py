"""Render one planned log file: draw its records, sort them by time, encode and gzip them.

This is the hot path: records are dicts built from shared blocks, encoded in one msgspec call per
file, and compressed with ISA-L. Each file has its own random stream, so files render the same in
any process and any order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import msgspec
from isal import igzip

from trailhouse.sample import failures, incident
from trailhouse.sample.mix import mix_for
from trailhouse.sample.plan import FilePlan
from trailhouse.sample.scene import Scene, make_scene

Json = dict[str, Any]

COMPRESS_LEVEL = 1  # ISA-L level 1: CloudTrail's own files are lightly compressed too
_ENCODER = msgspec.json.Encoder()


@lru_cache(maxsize=1)
def _clock() -> tuple[str, ...]:
    """'HH:MM:SSZ' for every second of a day."""
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86_400))


@dataclass(frozen=True)
class Rendered:
    """One file's bytes and counts."""

    data: bytes  # gzipped
    records: int
    raw_bytes: int


def _burst(scene: Scene, rng: random.Random, kinds: list[Any], key: str) -> None:
    """Turn a run of a busy file's records into one actor's failing call, repeated."""
    actor, call = failures.burst_call(scene, key)

    def failed(scene: Scene, rng: random.Random, event_time: str) -> Json:
        return failures.failed_record(scene, rng, event_time, actor, call)

    size = len(kinds)
    first = rng.randrange(size // 2)
    length = rng.randrange(size // 4, size // 2 + 1)
    for index in range(first, min(first + length, size)):
        kinds[index] = failed


def render(plan: FilePlan, seed: int, accounts: tuple[str, ...], start: date, days: int) -> Rendered:
    """The gzipped bytes of one log file."""
    scene = make_scene(seed, accounts, plan.account_index, plan.region)
    rng = random.Random(plan.seed)
    builders, weights = mix_for(plan.region)
    count = plan.count
    span, random_ = plan.end - plan.start, rng.random
    offsets = sorted([plan.start + int(random_() * span) for _ in range(count)])
    kinds: list[Any] = rng.choices(builders, cum_weights=weights, k=count)
    if plan.has_burst:
        _burst(scene, rng, kinds, plan.seed)
    clock = _clock()
    midnight = plan.start - plan.start % 86_400
    prefix = plan.day.isoformat() + "T"
    records: list[Json] = [
        build(scene, rng, prefix + clock[offset - midnight])
        for offset, build in zip(offsets, kinds, strict=True)
    ]
    if plan.has_incident:
        extra = [
            (second, record)
            for second, record in incident.records(scene, start, days)
            if plan.start <= second < plan.end
        ]
        merged = sorted(
            [
                *zip(offsets, range(count), strict=True),
                *((second, count + i) for i, (second, _) in enumerate(extra)),
            ]
        )
        pool = records + [record for _, record in extra]
        records = [pool[index] for _, index in merged]
    raw = _ENCODER.encode({"Records": records})
    return Rendered(igzip.compress(raw, compresslevel=COMPRESS_LEVEL, mtime=0), len(records), len(raw))


def encode_file(records: list[Json]) -> tuple[bytes, int]:
    """Gzipped `{"Records": [...]}` for records built elsewhere (Insights), and its raw size."""
    raw = _ENCODER.encode({"Records": records})
    return igzip.compress(raw, compresslevel=COMPRESS_LEVEL, mtime=0), len(raw)
