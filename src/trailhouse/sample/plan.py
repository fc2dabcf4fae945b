"""What a sample will contain before anything is written: accounts, and every log file with its window
and number of records. Planning is cheap and deterministic; rendering files can then run anywhere."""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from trailhouse.errors import UsageError
from trailhouse.sample import incident
from trailhouse.sample.layout import MAX_REGIONS, REGIONS, file_suffix, log_key, make_accounts, make_org_id

DELIVERY_SECONDS = 300  # CloudTrail delivers about every five minutes
MAX_RECORDS_PER_FILE = 20_000  # a busier window is delivered as several files
DEFAULT_START = date(2026, 11, 1)
BURST_CHANCE = 0.08  # share of files of BURST_MIN_RECORDS or more that carry a burst of failures
BURST_MIN_RECORDS = 15
MAX_ACCOUNT_REGION_DAYS = 50_000  # 14.4 million delivery windows to plan

# Activity by hour of day (UTC): quiet nights, a working-day hump.
_DIURNAL = (3, 2, 2, 2, 2, 3, 4, 6, 9, 11, 12, 12, 11, 12, 12, 11, 10, 8, 7, 6, 5, 4, 4, 3)


@dataclass(frozen=True)
class SampleSpec:
    """The options of one sample; the same spec always gives the same bytes."""

    root: Path
    accounts: int = 3
    regions: int = 2
    days: int = 2
    events: int = 20_000
    seed: int = 1
    org: bool = False
    start: date = DEFAULT_START
    overlap: bool = False
    digests: bool = True
    bucket: str = "trailhouse-sample-bucket"
    workers: int = 1

    def check(self) -> None:
        """Refuse option values that cannot make a sample."""
        limits = (
            ("--accounts", self.accounts, 1, 1000),
            ("--regions", self.regions, 1, MAX_REGIONS),
            ("--days", self.days, 1, 3660),
            ("--events", self.events, 0, 10**10),
            ("--workers", self.workers, 1, 256),
        )
        for flag, value, low, high in limits:
            if not low <= value <= high:
                raise UsageError(
                    f"{flag} '{value}' is out of range (expected {low} to {high})\n"
                    f"Pass a value between {low} and {high}."
                )
        product = self.accounts * self.regions * self.days
        if product > MAX_ACCOUNT_REGION_DAYS:
            raise UsageError(
                f"--accounts x --regions x --days = {product:,} is too large "
                f"(at most {MAX_ACCOUNT_REGION_DAYS:,})\nUse fewer accounts, regions or days."
            )
        if self.overlap and not self.org:
            raise UsageError(
                "--overlap needs an organisation trail (it copies org-trail files into an "
                "account trail)\nDrop --overlap, or drop --no-org."
            )


@dataclass(frozen=True)
class FilePlan:
    """One log file to render: its key, its delivery window [start, end) and how many records."""

    key: str
    account_index: int
    region: str
    day: date
    start: int  # epoch seconds, inclusive
    end: int  # epoch seconds, exclusive; also the delivery time in the file name
    count: int  # records drawn from the mix (the incident's records come on top)
    seed: str
    has_incident: bool = False
    has_burst: bool = False  # a run of one caller's failing call (AccessDenied or throttling)


@dataclass(frozen=True)
class Plan:
    """A whole sample: its accounts and organisation, and every log file."""

    spec: SampleSpec
    accounts: tuple[str, ...]
    org: str
    files: tuple[FilePlan, ...]

    @property
    def events(self) -> int:
        return sum(f.count for f in self.files) + incident.EVENT_COUNT

    def regions(self) -> tuple[str, ...]:
        return REGIONS[: self.spec.regions]


def _windows(day: date) -> Iterator[tuple[int, int, int]]:
    """(slot, start, end) of each delivery window of a day; the last one closes at 23:59."""
    midnight = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
    last = midnight + 86_400 - 60
    for slot in range(86_400 // DELIVERY_SECONDS):
        start = midnight + slot * DELIVERY_SECONDS
        yield slot, start, min(start + DELIVERY_SECONDS, last)


def _split(total: int) -> list[int]:
    """Split a busy window into files of at most MAX_RECORDS_PER_FILE records."""
    parts = math.ceil(total / MAX_RECORDS_PER_FILE)
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def plan_sample(spec: SampleSpec) -> Plan:
    """Lay out every file of the sample, with exactly `spec.events` records in all."""
    spec.check()
    rng = random.Random(f"{spec.seed}/plan")
    accounts = make_accounts(rng, spec.accounts)
    org = make_org_id(rng) if spec.org else ""
    regions = REGIONS[: spec.regions]
    account_weight = [1.0] + [rng.uniform(0.15, 0.8) for _ in accounts[1:]]
    region_weight = [1.0] + [rng.uniform(0.1, 0.5) for _ in regions[1:]]
    days = [spec.start + timedelta(days=d) for d in range(spec.days)]
    incident_at = incident.locate(accounts[0], spec.start, spec.days)
    incident_seconds = [
        int(datetime.combine(incident_at.day, t, tzinfo=UTC).timestamp())
        for t in (
            incident.LOGIN_AT,
            incident.DESCRIBE_AT,
            incident.INGRESS_AT,
            incident.ROOT_LOGIN_AT,
            incident.ROOT_KEY_AT,
            incident.STOP_LOGGING_AT,
        )
    ]

    def windows() -> Iterator[tuple[int, int, date, int, int, int]]:
        for a in range(len(accounts)):
            for r in range(len(regions)):
                for day in days:
                    for slot, start, end in _windows(day):
                        yield a, r, day, start, end, slot

    # Weight every window; a heavy tail makes a few windows (and files) far larger than most.
    weights = array("d")
    for a, r, _day, _start, _end, slot in windows():
        weight = account_weight[a] * region_weight[r] * _DIURNAL[slot // 12]
        weights.append(weight * min(rng.paretovariate(1.1), 400.0))
    wanted = max(spec.events - incident.EVENT_COUNT, 0)
    scale = wanted / sum(weights)
    # Systematic rounding: counts add up to `wanted`, each within one of its share.
    cumulative, previous = rng.random(), 0
    files: list[FilePlan] = []
    for (a, r, day, start, end, _slot), weight in zip(windows(), weights, strict=True):
        region = regions[r]
        cumulative += weight * scale
        count = min(int(cumulative), wanted) - previous
        previous += count
        has_incident = (
            a == 0 and region == incident.REGION and any(start <= s < end for s in incident_seconds)
        )
        if count == 0 and not has_incident:
            continue
        delivered = datetime.fromtimestamp(end, tz=UTC)
        for part, part_count in enumerate(_split(count) or [0]):
            key = log_key("CloudTrail", accounts[a], region, delivered, file_suffix(rng), org)
            files.append(
                FilePlan(
                    key,
                    a,
                    region,
                    day,
                    start,
                    end,
                    part_count,
                    f"{spec.seed}/{key}",
                    has_incident and part == 0,
                    part_count >= BURST_MIN_RECORDS and rng.random() < BURST_CHANCE,
                )
            )
    if previous < wanted and files:  # floating-point shortfall: at most a record or two
        largest = max(range(len(files)), key=lambda i: files[i].count)
        files[largest] = replace(files[largest], count=files[largest].count + wanted - previous)
    return Plan(spec, accounts, org, tuple(files))
