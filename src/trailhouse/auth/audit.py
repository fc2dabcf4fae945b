"""The access audit log: one JSON line per request, allowed or denied, with Okera's fields.

Files (objects on S3) live under `<lake>/_audit/ymd=YYYY-MM-DD/` and are named
`<service>-<host>-<seq>-<uuid>.jsonl` (service: `api` or `cli`), so several processes and replicas
never write the same file. Statements
are scrubbed of anything shaped like a token; no header, cookie or form body is ever recorded.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa
import pyarrow.fs as pafs

from trailhouse.auth.tokens import TOKEN_PATTERN
from trailhouse.lake import Lake, is_remote
from trailhouse.lake_files import filesystem

log = logging.getLogger(__name__)

AUDIT_FOLDER = "_audit"
MAX_STATEMENT = 8000
LINES_PER_FILE = 50_000
# Statement types; INTERNAL (static files, metrics scrapes) is left out of reporting_audit_logs.
StatementType = Literal["QUERY", "REPORT", "EVENT", "STATUS", "PAGE", "LOGIN", "LOGOUT", "ADMIN", "INTERNAL"]

AUDIT_SCHEMA = pa.schema(
    [
        ("request_time", pa.string()),
        ("request_id", pa.string()),
        ("start_unix_time", pa.int64()),
        ("end_unix_time", pa.int64()),
        ("auth_failure", pa.bool_()),
        ("status", pa.string()),
        ("user", pa.string()),
        ("connected_user", pa.string()),
        ("client_application", pa.string()),
        ("client_network_address", pa.string()),
        ("statement_type", pa.string()),
        ("statement", pa.string()),
        ("num_results_returned", pa.int64()),
        ("ae_database", pa.string()),
        ("ae_table", pa.string()),
        ("ae_view", pa.string()),
        ("ae_function", pa.string()),
        ("ae_role", pa.string()),
        ("ymd", pa.string()),
    ]
)


@dataclass(frozen=True)
class AuditEvent:
    """One audited request. `user` is the actor; times are UTC."""

    start: datetime
    end: datetime
    user: str | None
    status: str  # "ok" or the error message
    statement_type: str
    statement: str
    auth_failure: bool = False
    client_application: str = ""
    client_network_address: str = ""
    num_results_returned: int = 0
    tables: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def record(self) -> dict[str, object]:
        """The JSON record: Okera's field names and types."""
        user = self.user or ""
        return {
            "request_time": self.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f000"),
            "request_id": self.request_id,
            "start_unix_time": int(self.start.timestamp() * 1000),
            "end_unix_time": int(self.end.timestamp() * 1000),
            "auth_failure": self.auth_failure,
            "status": scrub(self.status)[:1000],
            "user": user,
            "connected_user": user,
            "client_application": scrub(self.client_application)[:200],
            "client_network_address": self.client_network_address,
            "statement_type": self.statement_type,
            "statement": scrub(self.statement)[:MAX_STATEMENT],
            "num_results_returned": self.num_results_returned,
            "ae_database": "trailhouse" if self.tables or self.views else "",
            "ae_table": ",".join(self.tables),
            "ae_view": ",".join(self.views),
            "ae_function": ",".join(self.functions),
            "ae_role": ",".join(self.roles),
            "ymd": self.start.astimezone(UTC).strftime("%Y-%m-%d"),
        }


def scrub(text: str) -> str:
    """Remove anything shaped like a token (a pasted secret must not reach the log)."""
    return TOKEN_PATTERN.sub("th_<redacted>", text)


class AuditWriter:
    """Appends audit records for one service of one process; thread-safe.

    On a local lake each record is appended to the current file at once. S3 objects cannot be
    appended to, so on an `s3://` lake records are gathered and written as a new object every
    second (and at exit or `close`), named like the local files with the next sequence number.
    """

    def __init__(self, lake: Lake, service: str = "api", *, flush_every: float = 1.0) -> None:
        self.lake = lake
        self.service = re.sub(r"[^a-z0-9]", "", service.lower()) or "svc"
        self.host = re.sub(r"[^A-Za-z0-9.\-]", "_", socket.gethostname()) or "host"
        self._lock = threading.Lock()
        self._seq = 0
        self._path: Path | None = None
        self._lines = 0
        self._file_uuid = uuid.uuid4().hex
        self._remote = is_remote(lake.root)
        self._pending: list[tuple[str, str]] = []  # (ymd, line), remote lakes only
        self._flush_every = flush_every
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def _name(self) -> str:
        self._seq += 1
        return f"{self.service}-{self.host}-{self._seq:06d}-{self._file_uuid}.jsonl"

    def _target(self, ymd: str) -> Path:
        if self._path is None or self._path.parent.name != f"ymd={ymd}" or self._lines >= LINES_PER_FILE:
            self._lines = 0
            folder = Path(self.lake.root) / AUDIT_FOLDER / f"ymd={ymd}"
            folder.mkdir(parents=True, exist_ok=True)
            self._path = folder / self._name()
        return self._path

    def write(self, event: AuditEvent) -> None:
        record = event.record()
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            if self._remote:
                self._pending.append((str(record["ymd"]), line))
                if self._flusher is None:
                    self._start_flusher()
                return
            path = self._target(str(record["ymd"]))
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line)
            self._lines += 1

    def _start_flusher(self) -> None:
        self._flusher = threading.Thread(target=self._flush_loop, name="trailhouse-audit", daemon=True)
        self._flusher.start()
        atexit.register(self.close)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._flush_every):
            self.flush()

    def flush(self) -> None:
        """Write the gathered records of a remote lake, one new object per day."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, []
                names = {ymd: self._name() for ymd, _ in pending}
            days: dict[str, list[str]] = {}
            for ymd, line in pending:
                days.setdefault(ymd, []).append(line)
            for ymd, lines in days.items():
                try:
                    _put(self.lake, f"ymd={ymd}/{names[ymd]}", "".join(lines))
                except OSError:
                    log.error("could not write %d audit records; retrying", len(lines), exc_info=True)
                    with self._lock:
                        self._pending[:0] = [(ymd, line) for line in lines]

    def close(self) -> None:
        """Stop the flusher and write what is gathered (remote lakes)."""
        self._stop.set()
        if self._remote:
            self.flush()


def _put(lake: Lake, name: str, text: str) -> None:
    fs, root = filesystem(lake.root)
    with fs.open_output_stream(f"{root}/{AUDIT_FOLDER}/{name}") as stream:
        stream.write(text.encode("utf-8"))


_cli_writer: AuditWriter | None = None


def record_cli_query(lake: Lake, statement: str, rows: int, status: str) -> None:
    """Audit one `trailhouse query` (or report/export) run from the command line."""
    global _cli_writer
    if _cli_writer is None or _cli_writer.lake.root != lake.root:
        _cli_writer = AuditWriter(lake, "cli")
    now = datetime.now(UTC)
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "cli"
    _cli_writer.write(
        AuditEvent(
            start=now,
            end=now,
            user=f"os:{user}",
            status=status,
            statement_type="QUERY",
            statement=statement,
            client_application="trailhouse-cli",
            client_network_address="local",
            num_results_returned=rows,
        )
    )


def _audit_texts(lake: Lake) -> Iterator[str]:
    """The text of every audit file or object of the lake, in name order."""
    fs, root = filesystem(lake.root)
    selector = pafs.FileSelector(f"{root}/{AUDIT_FOLDER}", recursive=True, allow_not_found=True)
    paths = sorted(
        info.path
        for info in fs.get_file_info(selector)
        if info.type == pafs.FileType.File and info.path.endswith(".jsonl")
    )
    for path in paths:
        with fs.open_input_stream(path) as stream:
            yield stream.read().decode("utf-8")


def read_audit(lake: Lake) -> list[dict[str, object]]:
    """Every audit record of the lake (a half-written last line is skipped)."""
    records = []
    for text in _audit_texts(lake):
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def steward_rows(
    records: list[dict[str, object]], administered: frozenset[str] | None
) -> list[dict[str, object]]:
    """Rows about objects the caller administers: every object the row names must be one of them."""
    if administered is None:
        return records
    kept = []
    for record in records:
        objects = {o for key in ("ae_table", "ae_view") for o in str(record.get(key) or "").split(",") if o}
        if objects and objects <= administered:
            kept.append(record)
    return kept


def to_table(records: list[dict[str, object]]) -> pa.Table:
    names = AUDIT_SCHEMA.names
    return pa.Table.from_pylist([{n: r.get(n) for n in names} for r in records], schema=AUDIT_SCHEMA)


class _ViewHost(Protocol):
    def register_arrow(self, name: str, data: pa.Table) -> None: ...
    def query(self, sql: str) -> pa.Table: ...


def register_audit_views(
    engine: _ViewHost, lake: Lake, *, is_admin: bool, administered: frozenset[str] | None
) -> None:
    """Create audit_logs (administrators only) and the steward, reporting, daily, weekly and monthly
    views on an engine, from the lake's audit files as they are now."""
    records = read_audit(lake)
    engine.register_arrow(
        "__audit_steward", to_table(steward_rows(records, None if is_admin else administered))
    )
    if is_admin:
        engine.register_arrow("__audit_all", to_table(records))
        engine.query("CREATE VIEW audit_logs AS SELECT * FROM __audit_all")
    for name, select in audit_view_definitions():
        engine.query(f"CREATE VIEW {name} AS {select}")


def audit_view_definitions() -> list[tuple[str, str]]:
    """(name, SELECT) of the views over `__audit_steward` (and `audit_logs` over `__audit_all`)."""
    steward = "steward_audit_logs"
    return [
        (steward, "SELECT * FROM __audit_steward"),
        ("daily_audit_logs", f"SELECT * FROM {steward} WHERE ymd = (SELECT max(ymd) FROM {steward})"),
        (
            "weekly_audit_logs",
            f"SELECT * FROM {steward} WHERE ymd IN "
            f"(SELECT DISTINCT ymd FROM {steward} ORDER BY ymd DESC LIMIT 7)",
        ),
        (
            "monthly_audit_logs",
            f"SELECT * FROM {steward} WHERE ymd IN "
            f"(SELECT DISTINCT ymd FROM {steward} ORDER BY ymd DESC LIMIT 30)",
        ),
        (
            "reporting_audit_logs",
            "SELECT request_time, request_id, start_unix_time, end_unix_time, auth_failure, status, user, "
            "client_application, client_network_address, statement_type, statement, num_results_returned, "
            "ae_table, ae_view, ymd "
            f"FROM {steward} WHERE statement_type <> 'INTERNAL' "
            "QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY end_unix_time DESC) = 1",
        ),
    ]
