"""DAVE (Discord's E2EE) kept alive for a whole meeting: MLS errors recovered from instead of ending the voice link.

discord.py's voice websocket calls the connection's `davey.DaveSession` directly: `set_external_sender` (op 25) and
`process_proposals` (op 27) without a guard, so one davey error (`WrongEpoch` on a rejoin, a proposal for a group
we are not in) ends the websocket's poll loop and the meeting goes deaf. discord.py has no hook around those calls,
but it reaches the session only through `state.dave_session`, so the connection state (a subclass, see
`voice_client`) keeps a `GuardedDave` there: the same session, its MLS steps guarded. An error asks for a fresh
group the way discord.py already does for a bad commit (`_recover_from_invalid_commit`: op 31, then a new key
package, op 26), and decrypt failures that go on outside a transition do the same, as discord.js does.

The session is used from two threads (MLS steps on the event loop, `decrypt` on the receive thread); davey's
session is not shareable across threads (pyo3 raises RuntimeError on a concurrent borrow), so one lock serialises it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

FAILURE_TOLERANCE = 36  # consecutive decrypt failures outside a transition before re-initialising (discord.js)
RECOVERY_QUIET = 5.0  # seconds after a recovery during which failures are the recovery's own, not a new fault


class GuardedDave:
    """A `davey.DaveSession` whose MLS steps cannot end the voice websocket: errors start discord.py's recovery."""

    def __init__(self, session, state, *, expected: Callable[[], list[int] | None] = lambda: None,
                 on_event: Callable[[str, str], None] | None = None):
        self._session = session
        self._state = state  # discord.voice_state.VoiceConnectionState
        self._lock = threading.RLock()
        self.expected = expected  # who may be added to the group (the voice channel's members), None: unknown
        self.on_event = on_event or (lambda kind, detail: None)
        self.last_transition_id = 0
        self.consecutive_failures = 0
        self.mls_errors = 0
        self.recoveries = 0
        self.refused = 0
        self.recovering_since: float | None = None

    # -- what discord.py calls ------------------------------------------------------------------------------------

    def __getattr__(self, name):
        with self._lock:
            value = getattr(self._session, name)
        if not callable(value):
            return value

        def locked(*args, **kwargs):
            with self._lock:
                return value(*args, **kwargs)

        return locked

    def set_external_sender(self, data: bytes) -> None:
        self._guarded("set_external_sender", self._session.set_external_sender, data)

    def process_proposals(self, operation_type, proposals: bytes, expected_user_ids=None):
        ids = expected_user_ids if expected_user_ids is not None else self.expected()
        return self._guarded("process_proposals", self._session.process_proposals, operation_type, proposals, ids)

    def process_commit(self, commit: bytes) -> None:
        with self._lock:  # discord.py catches this one itself and recovers (op 31)
            try:
                self._session.process_commit(commit)
            except Exception as exc:
                self._noted("process_commit", exc)
                raise

    def process_welcome(self, welcome: bytes) -> None:
        with self._lock:
            try:
                self._session.process_welcome(welcome)
            except Exception as exc:
                self._noted("process_welcome", exc)
                raise

    def reinit(self, *args, **kwargs) -> None:
        with self._lock:
            self._session.reinit(*args, **kwargs)
            self.consecutive_failures = 0
        log.info("DAVE: session re-initialised (new key package)")

    # -- the receive side -------------------------------------------------------------------------------------------

    def decrypt(self, user_id: int, media_type, frame: bytes) -> bytes:
        """davey's decrypt; failures that keep coming outside a transition re-initialise the session."""
        try:
            with self._lock:
                out = self._session.decrypt(user_id, media_type, frame)
        except Exception:
            self._decrypt_failed()
            raise
        self.consecutive_failures = 0
        return out

    def _decrypt_failed(self) -> None:
        if self.in_transition():
            return  # expected while keys change hands
        self.consecutive_failures += 1
        if self.consecutive_failures > FAILURE_TOLERANCE:
            log.warning("DAVE: %d frames in a row did not decrypt outside a transition; re-initialising",
                        self.consecutive_failures)
            self.consecutive_failures = 0
            self.recover("decrypt failures")

    def in_transition(self) -> bool:
        """A key change under way (or our own recovery): decrypt failures are expected, not a fault."""
        if getattr(self._state, "dave_pending_transitions", None):
            return True
        return self.recovering_since is not None and time.monotonic() - self.recovering_since < RECOVERY_QUIET

    # -- recovery ---------------------------------------------------------------------------------------------------

    def _guarded(self, step: str, fn, *args):
        with self._lock:
            try:
                return fn(*args)
            except Exception as exc:  # davey raises ValueError (WrongEpoch, ...); a borrow conflict RuntimeError
                if "UnexpectedUser" in str(exc):  # someone not in the voice channel: refused, the group stands
                    self.refused += 1
                    log.warning("DAVE: refused to add a member who is not in the voice channel (%s)", exc)
                    self.on_event("refused", str(exc))
                    return None
                self._noted(step, exc)
                reason = f"{step}: {exc}"
        self.recover(reason)
        return None

    def _noted(self, step: str, exc: Exception) -> None:
        self.mls_errors += 1
        log.warning("DAVE: %s failed (%s); asking the voice server for a fresh group", step, exc)
        self.on_event("mls_error", f"{step}: {exc}")

    def recover(self, reason: str) -> None:
        """discord.py's own recovery (op 31 with the last transition, then a new key package), from any thread."""
        if self.recovering_since is not None and time.monotonic() - self.recovering_since < RECOVERY_QUIET:
            return  # one recovery at a time
        self.recovering_since = time.monotonic()
        self.recoveries += 1
        self.on_event("recovery", reason)
        loop = getattr(getattr(self._state, "voice_client", None), "loop", None)
        if loop is None:
            return
        coro = recover_connection(self._state, self.last_transition_id)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(coro)
        else:
            asyncio.run_coroutine_threadsafe(coro, loop)


async def recover_connection(state, transition_id: int) -> None:
    """Send op 31 and a new key package through discord.py; a failure here is logged, never raised into the loop."""
    try:
        if hasattr(state, "_recover_from_invalid_commit"):
            await state._recover_from_invalid_commit(transition_id)
        else:  # what discord.py 2.7's private helper does, should a later release rename it
            await state.voice_client.ws.send_as_json({"op": 31, "d": {"transition_id": transition_id}})
            await state.reinit_dave_session()
    except Exception:
        log.exception("DAVE: recovery failed; the watchdog reconnects if the voice link is dead")
