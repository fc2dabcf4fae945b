"""A minimal MaxMind DB (.mmdb) writer for test fixtures: IPv4 networks, 24-bit records, maps of
strings and unsigned integers. Format: https://maxmind.github.io/MaxMind-DB/"""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _control(kind: int, size: int) -> bytes:
    extended = kind > 7
    first = (0 if extended else kind) << 5
    if size < 29:
        head, tail = bytes([first | size]), b""
    elif size < 285:
        head, tail = bytes([first | 29]), bytes([size - 29])
    else:
        head, tail = bytes([first | 30]), struct.pack(">H", size - 285)
    return head + (bytes([kind - 7]) if extended else b"") + tail


class U16(int):
    """An integer to encode as uint16 (the metadata requires exact types)."""


class U64(int):
    """An integer to encode as uint64."""


def encode(value: Any) -> bytes:
    if isinstance(value, U16 | U64):
        data = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        return _control(5 if isinstance(value, U16) else 9, len(data)) + data
    if isinstance(value, str):
        data = value.encode()
        return _control(2, len(data)) + data
    if isinstance(value, dict):
        return _control(7, len(value)) + b"".join(encode(k) + encode(v) for k, v in value.items())
    if isinstance(value, list):
        return _control(11, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, int):
        data = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        kind = 6 if value < 2**32 else 9  # uint32, else uint64
        return _control(kind, len(data)) + data
    raise TypeError(type(value))


def write_mmdb(path: Path, networks: dict[str, dict[str, Any]], database_type: str = "Test-City") -> Path:
    """Write `networks` (IPv4 CIDR -> record) as an IPv4 MaxMind DB at `path`."""
    data = b""
    nodes: list[list[Any]] = [[None, None]]
    for cidr, record in networks.items():
        offset = len(data)
        data += encode(record)
        net = ipaddress.ip_network(cidr)
        bits = int(net.network_address)
        node = 0
        for depth in range(net.prefixlen):
            bit = (bits >> (31 - depth)) & 1
            if depth == net.prefixlen - 1:
                nodes[node][bit] = ("data", offset)
            else:
                child = nodes[node][bit]
                if child is None:
                    nodes.append([None, None])
                    child = ("node", len(nodes) - 1)
                    nodes[node][bit] = child
                node = child[1]
    count = len(nodes)

    def value(entry: Any) -> int:
        if entry is None:
            return count
        kind, number = entry
        return number if kind == "node" else count + 16 + number

    tree = b"".join(value(left).to_bytes(3, "big") + value(right).to_bytes(3, "big") for left, right in nodes)
    metadata = {
        "node_count": count,
        "record_size": U16(24),
        "ip_version": U16(4),
        "database_type": database_type,
        "languages": ["en"],
        "binary_format_major_version": U16(2),
        "binary_format_minor_version": U16(0),
        "build_epoch": U64(1_700_000_000),
        "description": {"en": "Trailhouse test fixture"},
    }
    path.write_bytes(tree + b"\x00" * 16 + data + METADATA_MARKER + encode(metadata))
    return path
