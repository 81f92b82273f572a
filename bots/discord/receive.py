"""The receive path: voice_recv's transport-decrypted RTP payloads, through DAVE, to Opus and PCM per speaker.

discord-ext-voice-recv undoes the transport encryption (aead_xchacha20_poly1305_rtpsize) and orders packets in a
jitter buffer, but hands on the payload still end-to-end encrypted: since March 2026 every Discord call uses DAVE.
This sink adds the missing step, mirroring discord.py's send path (`dave_session.encrypt_opus`): RTP padding is
stripped (it sits inside the transport ciphertext and would bury DAVE's trailer), the frame is decrypted with the
connection's `davey.DaveSession` under the sender's user id (known from the SSRC the voice gateway announced),
then decoded with libopus. A frame that cannot be decrypted (the first moments before the MLS group is ready, a
key transition, an unknown sender) is dropped as 20 ms of silence, so each speaker's clock keeps running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from discord.ext import voice_recv
from discord.opus import Decoder

log = logging.getLogger(__name__)

OPUS_SILENCE = b"\xf8\xff\xfe"
DAVE_MAGIC = b"\xfa\xfa"  # a DAVE frame ends with its supplemental data, then this marker
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
SILENT_PCM = bytes(FRAME_SAMPLES * 2 * 2)  # 20 ms of 48 kHz stereo s16le
RTP_CLOCK = 48000
REANCHOR_AFTER = 2.0  # seconds between RTP time and the wall clock before a speaker's clock is re-anchored

try:  # installed with discord.py[voice]; the receive path names its enum only when it is there
    import davey

    AUDIO = davey.MediaType.audio
except ImportError:  # pragma: no cover - discord.py refuses to connect to voice without it anyway
    davey = None
    AUDIO = None


def strip_padding(payload: bytes, padded: bool) -> bytes:
    """RFC 3550 §5.1: with the P bit set, the last octet counts the padding octets (itself included)."""
    if not padded or not payload:
        return payload
    n = payload[-1]
    if 0 < n <= len(payload):
        return payload[:-n]
    return payload  # a count out of range: the bit can't be trusted, leave the frame whole


class DaveFrames:
    """Decrypts each sender's frames with the voice connection's DAVE session (discord.py keeps it up to date)."""

    def __init__(self, connection):
        self.connection = connection  # discord.voice_state.VoiceConnectionState: .dave_session, .dave_protocol_version
        self.decrypted = 0
        self.dropped = 0
        self.passed = 0

    def open(self, user_id: int | None, payload: bytes) -> bytes | None:
        """The plain Opus frame, or None when it cannot be had now (to be replaced by silence)."""
        if payload == OPUS_SILENCE:  # DAVE leaves Opus silence frames unencrypted
            return payload
        session = getattr(self.connection, "dave_session", None)
        version = getattr(self.connection, "dave_protocol_version", 0)
        encrypted = payload.endswith(DAVE_MAGIC)
        if session is None or (version == 0 and not encrypted):
            # A transport-only call (or one downgraded to it): the payload is the Opus frame itself.
            if encrypted:
                self.dropped += 1
                return None
            self.passed += 1
            return payload
        if user_id is None:  # no SSRC -> user mapping yet: no way to pick the sender's key ratchet
            self.dropped += 1
            return None
        try:
            frame = session.decrypt(int(user_id), AUDIO, bytes(payload))
        except (ValueError, RuntimeError) as exc:  # davey: "Failed to decrypt: ..." (no key yet, a transition,
            # a bad tag); RuntimeError: the session is being re-initialised on the event loop's thread right now
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.info("DAVE: dropped %d frame(s) as silence (last: user %s, %s)", self.dropped, user_id, exc)
            return None
        self.decrypted += 1
        return frame


@dataclass
class SpeakerClock:
    """Where a speaker's packets sit on the meeting's clock: RTP time, anchored to the wall clock once."""

    rtp0: int
    t0: float

    def at(self, rtp: int) -> float:
        return self.t0 + ((rtp - self.rtp0) % (1 << 32)) / RTP_CLOCK


@dataclass
class Speaker:
    user_id: int
    name: str
    decoder: Decoder
    clock: SpeakerClock | None = None
    frames: int = 0
    silent: int = field(default=0)


AudioCallback = Callable[[int, str, bytes, bytes, float], None]  # user id, name, opus, pcm 48k stereo, t (s)


class MeetingSink(voice_recv.AudioSink):
    """voice_recv sink wanting Opus: decrypts (DAVE), decodes and hands each speaker's audio on with its time.

    `allowed(user_id)` is asked before anything is done with a packet: an opted-out member's audio is never
    decrypted, decoded, stored or transcribed. `clock()` gives seconds since the meeting began.
    """

    def __init__(self, on_audio: AudioCallback, *, allowed: Callable[[int], bool], clock: Callable[[], float],
                 connection=None):
        super().__init__()
        self.on_audio = on_audio
        self.allowed = allowed
        self.clock = clock
        self._connection = connection  # tests give one; normally the voice client's
        self.speakers: dict[int, Speaker] = {}  # by SSRC
        self.lock = threading.Lock()
        self._dave: DaveFrames | None = None

    @property
    def dave(self) -> DaveFrames:
        if self._dave is None:
            conn = self._connection if self._connection is not None else self.voice_client._connection
            self._dave = DaveFrames(conn)
        return self._dave

    def wants_opus(self) -> bool:
        return True  # voice_recv must not decode: its payload is still DAVE ciphertext

    def forget(self, user_id: int) -> None:
        """Drop a member's decoder state (they opted out or left)."""
        with self.lock:
            for ssrc in [k for k, v in self.speakers.items() if v.user_id == user_id]:
                del self.speakers[ssrc]

    def write(self, user, data) -> None:
        packet = data.packet
        if user is None or not packet:  # unknown sender, or a gap the jitter buffer filled: silence by omission
            return
        if not self.allowed(user.id):
            return
        with self.lock:
            sp = self.speakers.get(packet.ssrc)
            if sp is None or sp.user_id != user.id:
                sp = self.speakers[packet.ssrc] = Speaker(user.id, display_name(user), Decoder())
            now = self.clock()
            if sp.clock is None or abs(sp.clock.at(packet.timestamp) - now) > REANCHOR_AFTER:
                sp.clock = SpeakerClock(packet.timestamp, now)
            t = sp.clock.at(packet.timestamp)
            payload = strip_padding(bytes(packet.decrypted_data or b""), getattr(packet, "padding", False))
            frame = self.dave.open(user.id, payload) if payload else None
            if frame is None or frame == OPUS_SILENCE:
                opus, pcm = OPUS_SILENCE, SILENT_PCM
                sp.silent += frame is None
            else:
                try:
                    opus, pcm = frame, sp.decoder.decode(frame, fec=False)
                except Exception as exc:  # a corrupt frame must not stop the router thread (it stops listening)
                    log.debug("opus decode failed for %s: %s", sp.name, exc)
                    opus, pcm = OPUS_SILENCE, SILENT_PCM
            sp.frames += 1
            name = sp.name
        self.on_audio(user.id, name, opus, pcm, t)

    def cleanup(self) -> None:
        self.speakers.clear()


def display_name(user) -> str:
    return getattr(user, "display_name", None) or getattr(user, "global_name", None) or user.name


def monotonic_clock() -> Callable[[], float]:
    """Seconds since now: the meeting's clock."""
    start = time.monotonic()
    return lambda: time.monotonic() - start
