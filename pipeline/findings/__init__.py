"""The findings engine: local, deterministic rules that turn transcript segments into meeting findings."""

from pipeline.findings.engine import extract_findings
from pipeline.findings.live import FindingsDelta, LiveFindings

__all__ = ["FindingsDelta", "LiveFindings", "extract_findings"]
