"""Where digests and log files are read from: a local copy, an S3 prefix, or the objects recorded in the lake.

Each store lists the digests and log files it holds, reads a digest with the signature it kept
(S3 metadata, a `.sig` sidecar beside a local copy, or the lake's record), and says where a log
file listed in a digest is, so the validator can hash it (`hashing.hash_uri`, in any worker).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from trailhouse.errors import IntegrityError
from trailhouse.integrity.signer import SIGNATURE_SUFFIX
from trailhouse.model.keys import classify_key, identity

if TYPE_CHECKING:
    from trailhouse.lake import Lake


@dataclass(frozen=True)
class Found:
    """One object a store holds: its key (as in a bucket) and where to read it."""

    key: str
    uri: str  # absolute path or s3://bucket/key
    bucket: str = ""  # known for S3 sources; "" for a local copy


@dataclass(frozen=True)
class StoredDigest:
    """A digest's bytes as stored, and its signature with where it came from."""

    data: bytes | None  # None: the object is gone
    signature: str | None
    signature_source: str  # "S3 metadata" | "sidecar .sig" | "lake record" | ""


class Store(Protocol):
    """A place holding digests and log files."""

    name: str
    remote: bool  # files are read over the network (threads overlap the waits; processes do not help)

    def digests(self) -> Iterator[Found]: ...

    def logs(self) -> Iterator[Found]: ...

    def read_digest(self, found: Found) -> StoredDigest: ...

    def is_where_delivered(self, found: Found, bucket: str, key: str) -> bool:
        """Whether a digest was found where CloudTrail says it delivered it (`digestS3Bucket/Object`)."""
        ...

    def locate_log(self, bucket: str, key: str) -> str | None:
        """Where the log file a digest lists is (a uri for `hash_uri`), or None when it is not here."""
        ...


def _read_local_digest(path: Path) -> StoredDigest:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return StoredDigest(None, None, "")
    sidecar = path.with_name(path.name + SIGNATURE_SUFFIX)
    if sidecar.is_file():
        return StoredDigest(data, sidecar.read_text().strip() or None, "sidecar .sig")
    return StoredDigest(data, None, "")


class _LogIndex:
    """Log files by key and by identity, to find a copy whose prefix differs from the digest's."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.by_identity: dict[str, str] = {}

    def add(self, key: str, uri: str) -> None:
        self.by_key[key] = uri
        self.by_identity.setdefault(identity(key), uri)

    def find(self, key: str) -> str | None:
        return self.by_key.get(key) or self.by_identity.get(identity(key))


class FolderStore:
    """A local copy of a bucket: keys are paths relative to the folder."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise IntegrityError(
                f"Source folder '{root}' does not exist\n"
                "Pass a folder holding a copy of the trail's bucket (AWSLogs/...), an s3:// uri, or 'lake'."
            )
        self.root = root.resolve()
        self.name = str(root)
        self.remote = False
        self._digests: list[Found] = []
        self._logs: list[Found] = []
        self._index = _LogIndex()
        # Plain strings, not Path objects: a bucket holds tens of thousands of files.
        start = len(os.path.join(self.root, ""))
        for folder, _dirs, files in os.walk(self.root):
            for file_name in files:
                path = os.path.join(folder, file_name)
                key = path[start:].replace(os.sep, "/")
                info = classify_key(key)
                if info.kind == "digest":
                    self._digests.append(Found(key, path))
                elif info.kind == "events" and info.account:
                    self._logs.append(Found(key, path))
                    self._index.add(key, path)

    def digests(self) -> Iterator[Found]:
        return iter(self._digests)

    def logs(self) -> Iterator[Found]:
        return iter(self._logs)

    def read_digest(self, found: Found) -> StoredDigest:
        return _read_local_digest(Path(found.uri))

    def is_where_delivered(self, found: Found, bucket: str, key: str) -> bool:
        return found.key == key  # a copy of the bucket: the bucket name is not kept

    def locate_log(self, bucket: str, key: str) -> str | None:
        return self._index.find(key)


class S3Store:
    """An S3 bucket (and prefix) as CloudTrail delivered it; signatures from the objects' metadata."""

    def __init__(self, uri: str) -> None:
        from trailhouse.sources import digest_objects

        self._objects = digest_objects
        self.bucket, self.prefix = digest_objects.split_uri(uri)
        self.name = uri
        self.remote = True
        self._digests: list[Found] = []
        self._logs: list[Found] = []
        self._index = _LogIndex()
        for key, size in digest_objects.list_objects(self.bucket, self.prefix):
            info = classify_key(key, size)
            found = Found(key, f"s3://{self.bucket}/{key}", self.bucket)
            if info.kind == "digest":
                self._digests.append(found)
            elif info.kind == "events" and info.account:
                self._logs.append(found)
                self._index.add(key, found.uri)

    def digests(self) -> Iterator[Found]:
        return iter(self._digests)

    def logs(self) -> Iterator[Found]:
        return iter(self._logs)

    def read_digest(self, found: Found) -> StoredDigest:
        stored = self._objects.get_object(self.bucket, found.key)
        if stored is None:
            return StoredDigest(None, None, "")
        signature = stored.signature
        return StoredDigest(stored.data, signature, "S3 metadata" if signature else "")

    def is_where_delivered(self, found: Found, bucket: str, key: str) -> bool:
        return found.key == key and found.bucket == bucket

    def locate_log(self, bucket: str, key: str) -> str | None:
        found = self._index.find(key)
        if found is None and bucket and not key.startswith(self.prefix):
            # Listed outside the prefix we listed: look where the digest says it is.
            return f"s3://{bucket}/{key}"
        return found


def _rows(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    return zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True)


class LakeStore:
    """The objects recorded in a lake: digests in `cloudtrail_digests`, files at their ledger `uri`."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.name = f"lake {lake.root}"
        ledger = lake.read("ledger", columns=["source_object", "uri", "kind"])
        if ledger is None:
            raise IntegrityError(
                f"No ledger in the lake at '{lake.root}' (nothing ingested yet)\n"
                f"Run 'trailhouse ingest ./logs --lake {lake.root}' first, or validate a folder or s3:// uri."
            )
        uris: dict[str, str] = {}
        self._index = _LogIndex()
        self._logs: list[Found] = []
        digest_objects: list[str] = []
        for source, uri, kind in _rows(ledger):
            if not uri:
                continue
            if kind == "digest":
                if source not in uris:
                    digest_objects.append(source)
                uris[source] = uri
            elif kind == "events" and source not in self._index.by_key and classify_key(source).account:
                self._index.add(source, uri)
                self._logs.append(Found(source, uri))
        self._signatures: dict[str, str] = {}
        recorded = lake.read("cloudtrail_digests", columns=["source_object", "signature"])
        if recorded is not None:
            for source, signature in _rows(recorded):
                if signature:
                    self._signatures[source] = signature
        self._digests = [Found(source, uris[source]) for source in digest_objects]
        self.remote = any(found.uri.startswith("s3://") for found in (*self._digests, *self._logs))

    def digests(self) -> Iterator[Found]:
        return iter(self._digests)

    def logs(self) -> Iterator[Found]:
        return iter(self._logs)

    def read_digest(self, found: Found) -> StoredDigest:
        recorded = self._signatures.get(found.key)
        if found.uri.startswith("s3://"):
            from trailhouse.sources import digest_objects

            bucket, key = digest_objects.split_uri(found.uri)
            stored = digest_objects.get_object(bucket, key)
            if stored is None:
                return StoredDigest(None, None, "")
            if recorded:
                return StoredDigest(stored.data, recorded, "lake record")
            return StoredDigest(stored.data, stored.signature, "S3 metadata" if stored.signature else "")
        local = _read_local_digest(Path(found.uri))
        if recorded and local.data is not None:
            return StoredDigest(local.data, recorded, "lake record")
        return local

    def is_where_delivered(self, found: Found, bucket: str, key: str) -> bool:
        # The ledger keeps where the object was read, not the source's root: compare the tail.
        if found.uri.startswith("s3://"):
            return found.uri == f"s3://{bucket}/{key}"
        return found.uri.endswith("/" + key)

    def locate_log(self, bucket: str, key: str) -> str | None:
        return self._index.find(identity(key))
