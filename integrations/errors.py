"""The two failures an adapter may report; the job runner decides retry or give-up from these alone."""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery did not go through; `reason` is shown to the user."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class TransientError(DeliveryError):
    """Worth trying again later (network trouble, 5xx, rate limits)."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason, status=status)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Trying again cannot help (bad address, rejected by the receiver, revoked access)."""
