"""What validation found: one finding per digest or log file, and the summary of a run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["valid", "invalid", "unverified", "missing"]
Kind = Literal["log", "digest"]
FAILING: frozenset[str] = frozenset({"invalid", "missing"})


@dataclass(frozen=True)
class Finding:
    """The outcome for one digest or log file (or, for a gap, several missing digests)."""

    kind: Kind
    status: Status
    location: str  # where it was found, or where it should be (uri or key)
    source_object: str  # identity: the key from AWSLogs/ on
    detail: str = ""  # the facts: what was checked, what differed, where the signature came from
    problem: str = ""  # short name: bad signature, hash mismatch, not found, gap, moved, unlisted, ...
    digest_object: str = ""  # the digest listing this log file (or the digest itself)
    count: int = 1  # a gap in the chain stands for `count` missing digests

    @property
    def message(self) -> str:
        """One line in the style of `aws cloudtrail validate-logs`."""
        label = "Digest file" if self.kind == "digest" else "Log file"
        word = self.status if self.status in ("valid",) else self.status.upper()
        text = f"{label}\t{self.location}\t{word}"
        if self.problem and self.detail:
            return f"{text}: {self.problem} ({self.detail})"
        if self.problem or self.detail:
            return f"{text}: {self.problem or self.detail}"
        return text


@dataclass(frozen=True)
class ValidationSummary:
    """Everything one validation run found, and the facts needed to trust or question it."""

    source: str
    findings: tuple[Finding, ...]
    start: dt.datetime | None = None  # requested range
    end: dt.datetime | None = None
    found_start: dt.datetime | None = None  # range covered by the digests found
    found_end: dt.datetime | None = None
    signature_sources: dict[str, int] = field(default_factory=dict)  # "sidecar .sig" -> digests
    fingerprints: tuple[str, ...] = ()  # public keys that verified a digest (>1: a key rotation)
    notes: tuple[str, ...] = ()  # facts that are not failures (chain restarts, backfill digests)
    omitted_valid_logs: int = 0  # valid log files counted but not kept (bounded memory)

    def count(self, kind: Kind, status: Status | None = None, problem: str | None = None) -> int:
        plain_valid = kind == "log" and status in (None, "valid") and not problem
        omitted = self.omitted_valid_logs if plain_valid else 0
        return omitted + sum(
            finding.count
            for finding in self.findings
            if finding.kind == kind
            and (status is None or finding.status == status)
            and (problem is None or finding.problem == problem)
        )

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        counter: Counter[tuple[str, str]] = Counter()
        for finding in self.findings:
            counter[(finding.kind, finding.status)] += finding.count
        counter[("log", "valid")] += self.omitted_valid_logs
        return +counter

    @property
    def ok(self) -> bool:
        """True when nothing is invalid or missing (unverified files are reported, not failed)."""
        return not any(finding.status in FAILING for finding in self.findings)

    def lines(self) -> list[str]:
        """A few lines for people: files valid per kind, and what failed."""
        counts = self.counts
        lines = []
        for kind in ("digest", "log"):
            total = sum(count for (k, _status), count in counts.items() if k == kind)
            if not total:
                continue
            parts = [f"{counts[(kind, 'valid')]}/{total} {kind} files valid"]
            parts += [
                f"{counts[(kind, status)]} {status.upper()}"
                for status in ("invalid", "missing", "unverified")
                if counts[(kind, status)]
            ]
            lines.append("Validation: " + ", ".join(parts))
        if not lines:
            lines.append("Validation: no digests found")
        if not self.ok:
            lines.append(f"Run 'trailhouse validate lake' for each file's finding ({self.source}).")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.status != "valid" or finding.problem]
