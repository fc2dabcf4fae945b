"""Every setting of Trailhouse in one table: name, environment variable, default and help.

A flag overrides the environment, which overrides the default. `docs/configuration.md` documents
each row (a test checks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "lake", "TRAILHOUSE_LAKE", "./trailhouse-lake", "Root of the lake: a folder or s3://bucket/prefix."
    ),
    Setting(
        "workers",
        "TRAILHOUSE_WORKERS",
        "0",
        "Parser processes for ingest; 0 means one per core (each parses and writes its own files; "
        "the main process reads, deduplicates and commits); 1 parses in the main process (least memory).",
    ),
    Setting(
        "batch_mb",
        "TRAILHOUSE_BATCH_MB",
        "256",
        "Uncompressed JSON gathered per Delta commit. Lower it (e.g. 32) with workers=1 to keep "
        "ingest under 256 MB of memory.",
    ),
    Setting(
        "accounts",
        "TRAILHOUSE_ACCOUNTS",
        "",
        "Comma-separated allow-list of AWS accounts to ingest; empty means all.",
    ),
    Setting(
        "regions",
        "TRAILHOUSE_REGIONS",
        "",
        "Comma-separated allow-list of regions to ingest; empty means all.",
    ),
    Setting(
        "geoip_db",
        "TRAILHOUSE_GEOIP_DB",
        "",
        "A MaxMind-format (.mmdb) city/ASN database for source IP enrichment; empty uses the bundled one.",
    ),
    Setting(
        "query_timeout_seconds",
        "TRAILHOUSE_QUERY_TIMEOUT_SECONDS",
        "30",
        "Time limit of one sandboxed query (API and dashboard).",
    ),
    Setting(
        "query_row_limit",
        "TRAILHOUSE_QUERY_ROW_LIMIT",
        "10000",
        "Most rows a sandboxed query returns.",
    ),
    Setting(
        "service_configuration",
        "TRAILHOUSE_CLOUDTRAIL_SERVICE_CONFIGURATION",
        "",
        "JSON file (local path or s3://...) with s3Region, sqsRegion and sqsUrl for the SQS service.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> str:
    """The value of a setting: its environment variable if set, else its default."""
    spec = _BY_NAME[name]
    return os.environ.get(spec.env, spec.default)
