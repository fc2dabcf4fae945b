"""`trailhouse sample`: a realistic, deterministic CloudTrail bucket, written to a folder."""

from __future__ import annotations

from trailhouse.sample.plan import DEFAULT_START, SampleSpec
from trailhouse.sample.writer import SampleResult, write_sample

__all__ = ["DEFAULT_START", "SampleResult", "SampleSpec", "write_sample"]
