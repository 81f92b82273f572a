"""The findings engine: local, deterministic rules that turn transcript segments into meeting findings."""

from pipeline.findings.engine import extract_findings

__all__ = ["extract_findings"]
