"""The one exception hierarchy of Trailhouse.

    TrailhouseError                 anything Trailhouse reports to a user (exit code 1)
    ├── UsageError                  a bad flag or argument combination (exit code 2)
    ├── ConfigurationError          a setting or configuration file that cannot be used
    ├── LakeNotFoundError           no Delta table where one was expected
    ├── ConcurrentChangeError       another writer changed the lake under this one; nothing committed
    ├── QueryError                  SQL that failed to parse, bind or run
    │   └── QueryRefusedError       SQL the sandbox will not run (files, settings, grants)
    ├── SourceError                 a source that cannot be listed or read
    │   └── TransientSourceError    worth retrying (throttling, timeouts, connection resets)
    ├── ObjectReadError             one object that cannot be read or parsed (quarantined, run goes on)
    ├── IntegrityError              digest validation could not run (not: found tampering)
    └── AuthError                   authentication or authorisation failed

Messages follow STYLE.md: what failed with the value in quotes, the facts, one next step.
"""

from __future__ import annotations


class TrailhouseError(Exception):
    """Base class: an operational error, exit code 1."""

    exit_code = 1


class UsageError(TrailhouseError):
    """A bad flag or argument combination, exit code 2."""

    exit_code = 2


class ConfigurationError(TrailhouseError):
    """A setting or configuration file that cannot be used."""


class LakeNotFoundError(TrailhouseError):
    """No Delta table at the expected path."""


class ConcurrentChangeError(TrailhouseError):
    """Another writer changed what a rewrite read, or removed what a run wrote; nothing was committed."""


class QueryError(TrailhouseError):
    """SQL that failed to parse, bind or run."""


class QueryRefusedError(QueryError):
    """SQL the sandbox refuses to run."""


class SourceError(TrailhouseError):
    """A source (folder, bucket, queue) that cannot be listed or read."""


class TransientSourceError(SourceError):
    """A source error worth retrying."""


class ObjectReadError(TrailhouseError):
    """One object that cannot be read or parsed; it is quarantined and the run goes on."""


class IntegrityError(TrailhouseError):
    """Digest validation could not run."""


class AuthError(TrailhouseError):
    """Authentication or authorisation failed."""
