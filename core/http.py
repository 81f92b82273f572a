"""What every HTTP client of Onno reads the same way from an answer."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


def retry_after(headers: Mapping[str, str] | None, default: float | None = None) -> float | None:
    """Retry-After as seconds to wait (delta-seconds or an HTTP date, never negative); `default` when it is absent
    or unreadable. Header names are matched in any case, since some clients hand back a plain dict."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default
