"""Samples written once per test session (they are deterministic, so sharing them is safe)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trailhouse.model.keys import KeyInfo, classify_key
from trailhouse.sample import SampleResult, SampleSpec, write_sample


@dataclass(frozen=True)
class Written:
    """A written sample, and its log files read back."""

    result: SampleResult
    spec: SampleSpec
    logs: dict[str, list[dict[str, Any]]]  # key -> records

    def keys(self) -> list[str]:
        return sorted(
            p.relative_to(self.spec.root).as_posix() for p in self.spec.root.rglob("*") if p.is_file()
        )

    def classified(self) -> dict[str, KeyInfo]:
        root = self.spec.root
        return {key: classify_key(key, (root / key).stat().st_size) for key in self.keys()}

    def records(self) -> list[dict[str, Any]]:
        return [record for records in self.logs.values() for record in records]


def read_logs(root: Path) -> dict[str, list[dict[str, Any]]]:
    logs = {}
    for path in sorted(root.rglob("*.json.gz")):
        key = path.relative_to(root).as_posix()
        if classify_key(key).kind == "events":
            logs[key] = json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return logs


def write(root: Path, **options: Any) -> Written:
    spec = SampleSpec(root=root, **options)
    result = write_sample(spec)
    return Written(result, spec, read_logs(root))


@pytest.fixture(scope="session")
def account_sample(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """The default shape, smaller: 3 accounts, 2 regions, 2 days, 6000 events, digests on."""
    return write(tmp_path_factory.mktemp("account"), events=6000, seed=7)


@pytest.fixture(scope="session")
def org_sample(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """An organisation trail with account-trail overlap copies, no digests."""
    return write(
        tmp_path_factory.mktemp("org"), events=4000, seed=7, org=True, overlap=True, digests=False, regions=3
    )
