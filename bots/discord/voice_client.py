"""The voice connection Onno joins with: voice_recv's client, a guarded DAVE session, and its own packet routing.

Three changes to what discord.py and discord-ext-voice-recv do, each through a seam they offer:
- the connection state (`create_connection_state`) keeps a `GuardedDave` as its `dave_session`, and its websocket
  hook tracks who is in the call (ops 11/13: the only user ids the MLS group may add) and the last transition;
- `listen` routes packets straight to the sink's own jitter buffer (`SinkRouter`): voice_recv's buffer flushes
  on a gap and loses the packets behind it, and drops packets whose SSRC is not yet mapped;
- `health` says why the connection is dead, for the meeting's watchdog.
"""

from __future__ import annotations

import logging
import threading
import time

import discord
from discord.ext import voice_recv
from discord.ext.voice_recv import gateway as recv_gateway
from discord.ext.voice_recv.reader import AudioReader
from discord.voice_state import VoiceConnectionState

from bots.discord.voice_dave import GuardedDave

log = logging.getLogger(__name__)

TICK = 0.02  # seconds between the router's looks at packets waited for
DEAD_AFTER = 60.0  # seconds without a heartbeat answer on the voice websocket: the link is gone
CLIENTS_CONNECT, CLIENT_DISCONNECT = 11, 13
PREPARE_TRANSITION, EXECUTE_TRANSITION = 21, 22


class _UnknownSsrcFilter(logging.Filter):
    """voice_recv logs every packet of a not-yet-mapped SSRC at INFO; the sink holds and counts those itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Received packet for unknown ssrc")


logging.getLogger("discord.ext.voice_recv.reader").addFilter(_UnknownSsrcFilter())

# The internals relied on (VoiceConnectionState's `_runner` and `_recover_from_invalid_commit`, the voice
# websocket's keep-alive, AudioReader's `packet_router`) are those of these releases; others are told of in the log.
TESTED = ("2.7.", "0.5.")
if not discord.__version__.startswith(TESTED[0]) or not voice_recv.__version__.startswith(TESTED[1]):
    log.warning("voice: tested with discord.py %sx and voice_recv %sx, running %s and %s", *TESTED,
                discord.__version__, voice_recv.__version__)


async def onno_hook(ws, msg: dict) -> None:
    """voice_recv's websocket hook (SSRC mapping, member events), then what the guarded session needs to know."""
    await recv_gateway.hook(ws, msg)
    state = ws._connection
    op, data = msg.get("op"), msg.get("d") or {}
    if op == CLIENTS_CONNECT:
        state.connected_users.update(int(u) for u in data.get("user_ids", []))
        state.members_known = True
    elif op == CLIENT_DISCONNECT and "user_id" in data:
        state.connected_users.discard(int(data["user_id"]))
    elif op in (PREPARE_TRANSITION, EXECUTE_TRANSITION) and "transition_id" in data:
        session = state.dave_session
        if isinstance(session, GuardedDave) and data["transition_id"]:
            session.last_transition_id = int(data["transition_id"])
        if op == PREPARE_TRANSITION:
            log.info("DAVE: transition %s to protocol v%s", data.get("transition_id"), data.get("protocol_version"))


class GuardedConnectionState(VoiceConnectionState):
    """discord.py's voice connection state with the DAVE session guarded (see `voice_dave`)."""

    def __init__(self, voice_client, *, hook=None):
        super().__init__(voice_client, hook=hook)
        self.connected_users: set[int] = set()
        self.members_known = False
        self.on_dave_event = lambda kind, detail: None

    def expected_user_ids(self) -> list[int] | None:
        """The members the voice server may add to the MLS group: those in the call, as it and the guild say."""
        channel = getattr(self.voice_client, "channel", None)
        in_channel = {m.id for m in getattr(channel, "members", [])}
        if not self.members_known and not in_channel:
            return None  # nothing known yet: let davey accept, rather than refuse everyone
        return sorted(self.connected_users | in_channel | {self.user.id})

    async def reinit_dave_session(self) -> None:
        if self.dave_protocol_version > 0 and not isinstance(self.dave_session, GuardedDave):
            import davey

            # discord.py re-initialises a session it finds (it never replaces it), so the guard stays in place.
            raw = self.dave_session or davey.DaveSession(self.dave_protocol_version, self.user.id,
                                                         self.voice_client.channel.id)
            self.dave_session = GuardedDave(raw, self, expected=self.expected_user_ids,
                                            on_event=lambda kind, detail: self.on_dave_event(kind, detail))
        await super().reinit_dave_session()


class SinkRouter(threading.Thread):
    """In place of voice_recv's packet router: every packet to the sink at once, and a tick to give up on a wait."""

    def __init__(self, sink, reader):
        super().__init__(daemon=True, name=f"onno-voice-router-{id(self):x}")
        self.sink = sink
        self.reader = reader
        self._stop = threading.Event()
        self._lock = threading.RLock()  # voice_recv's event router takes the packet router's lock around events

    def feed_rtp(self, packet) -> None:
        self.sink.feed(packet)

    def feed_rtcp(self, packet) -> None:
        pass  # receiver reports: nothing the recording needs

    def set_sink(self, sink) -> None:
        self.sink = sink

    def set_user_id(self, ssrc: int, user_id: int) -> None:
        pass  # the sink asks the client for the mapping when it needs it

    def destroy_decoder(self, ssrc: int) -> None:
        self.sink.end_stream(ssrc)  # the member left: what they said last is released, not dropped

    def destroy_all_decoders(self) -> None:
        self.sink.end_all()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self.sink.tick()
            except Exception:  # the recording goes on; the next tick tries again
                log.exception("voice: sink tick failed")


class OnnoVoiceClient(voice_recv.VoiceRecvClient):
    """voice_recv's client with the guarded DAVE session and the sink's own packet routing."""

    def create_connection_state(self) -> VoiceConnectionState:
        return GuardedConnectionState(self, hook=onno_hook)

    def listen(self, sink, *, after=None) -> None:
        if not hasattr(sink, "feed"):  # a plain voice_recv sink: voice_recv's own routing
            return super().listen(sink, after=after)
        if self.is_listening():
            raise RuntimeError("already receiving audio")
        self._reader = AudioReader(sink, self, after=after)
        self._reader.packet_router = SinkRouter(sink, self._reader)
        self._reader.start()

    def health(self) -> str | None:
        """None while the voice link works; otherwise why it does not."""
        state = self._connection
        if not self.is_connected():
            return "not connected"
        runner = getattr(state, "_runner", None)
        if runner is not None and runner.done():
            return "the voice websocket stopped"
        ws = getattr(state, "ws", None)
        keep_alive = getattr(ws, "_keep_alive", None)
        last = getattr(keep_alive, "_last_ack", None)
        if last is not None and time.perf_counter() - last > DEAD_AFTER:
            return f"no heartbeat answer for {time.perf_counter() - last:.0f} s"
        return None
