"""The entry points other packages call (ingest's --validate, the API): validation of the lake's objects."""

from __future__ import annotations

from trailhouse.integrity.outcomes import ValidationSummary
from trailhouse.integrity.records import record_validations, validate_after_ingest, validate_lake

__all__ = ["ValidationSummary", "record_validations", "validate_after_ingest", "validate_lake"]
