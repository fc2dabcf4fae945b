"""Query tests use a tiny GeoIP database written on the fly, never the installed default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.query.mmdb_writer import write_mmdb

# The sample generator's home ranges and the incident's address, with the countries the tests expect.
NETWORKS = {
    "185.220.101.0/24": {"country": {"iso_code": "DE"}, "city": {"names": {"en": "Berlin"}}},
    "81.2.69.0/24": {"country": {"iso_code": "GB"}, "city": {"names": {"en": "London"}}},
    "89.160.20.0/24": {"country_code": "SE", "city": "Stockholm"},
    "73.0.0.0/8": {"country_code": "US", "city": "San Jose"},
    "216.160.83.0/24": {"country_code": "US", "city": "Seattle"},
    "126.0.0.0/8": {"country_code": "JP", "city": "Tokyo"},
    "49.36.0.0/16": {"country_code": "IN", "city": "Mumbai"},
    "1.1.1.0/24": {"country_code": "AU", "city": "Sydney"},
}
ASN_CSV = '1.1.1.0,1.1.1.255,13335,"Cloudflare, Inc."\n185.220.101.0,185.220.101.255,60729,Tor Exit\n'


@pytest.fixture(autouse=True)
def geoip_db(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path_factory.getbasetemp() / "geoip"
    if not folder.exists():
        folder.mkdir()
        write_mmdb(folder / "city.mmdb", NETWORKS)
        (folder / "asn-ipv4.csv").write_text(ASN_CSV)
    monkeypatch.setenv("TRAILHOUSE_GEOIP_DB", str(folder))
    yield folder
