"""GeoIP lookups: geolocated public addresses, labelled AWS and private ones, databases from a setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.query.mmdb_writer import write_mmdb
from trailhouse.query import geoip


def test_geoip_locates_public_address_with_asn_from_csv() -> None:
    info = geoip.lookup("185.220.101.23")
    expected = ("public", "DE", "Berlin", 60729, "Tor Exit")
    assert (info.label, info.country, info.city, info.asn, info.org) == expected


def test_geoip_reads_flat_ip_location_db_records() -> None:
    info = geoip.lookup("1.1.1.1")
    assert (info.country, info.city, info.asn, info.org) == ("AU", "Sydney", 13335, "Cloudflare, Inc.")


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("s3.amazonaws.com", "aws-service"),
        ("AWS Internal", "aws-service"),
        ("lambda.amazonaws.com", "aws-service"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("100.64.0.1", "private"),
        ("127.0.0.1", "private"),
        ("fd00::1", "private"),
        ("203.0.113.7", "reserved"),
        ("2001:db8::1", "reserved"),
        ("not an address", "not-an-ip"),
        (None, "missing"),
        ("", "missing"),
    ],
)
def test_geoip_labels_instead_of_locating(address: str | None, label: str) -> None:
    info = geoip.lookup(address)
    assert info.label == label
    assert (info.country, info.city, info.asn) == (None, None, None)


def test_geoip_unknown_public_address_has_no_location() -> None:
    info = geoip.lookup("9.9.9.9")
    assert (info.label, info.country, info.asn) == ("public", None, None)


def test_geoip_ipv6_in_ipv4_only_database_is_not_an_error() -> None:
    info = geoip.lookup("2a03:2880:f12f:83:face:b00c::25de")
    assert (info.label, info.country) == ("public", None)


def test_geoip_setting_names_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_mmdb(tmp_path / "other.mmdb", {"9.9.9.0/24": {"country": {"iso_code": "CH"}}})
    monkeypatch.setenv("TRAILHOUSE_GEOIP_DB", str(path))
    assert geoip.lookup("9.9.9.9").country == "CH"
    assert geoip.lookup("185.220.101.23").country is None


def test_geoip_missing_database_geolocates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILHOUSE_GEOIP_DB", str(tmp_path / "absent"))
    info = geoip.lookup("185.220.101.23")
    assert (info.label, info.country) == ("public", None)


@pytest.mark.skipif(
    not list(geoip.DEFAULT_FOLDER.glob("*.mmdb")), reason="default GeoIP database not installed"
)
def test_geoip_default_database_locates_the_sample_incident_address() -> None:
    databases = geoip.open_databases(str(geoip.DEFAULT_FOLDER))
    info = geoip.lookup("185.220.101.23", databases)
    assert (info.country, info.asn) == ("DE", 60729)
    assert geoip.lookup("2a03:2880:f12f:83:face:b00c::25de", databases).country == "IE"
