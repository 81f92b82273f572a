"""The receive path: transport-decrypted RTP packets, through DAVE, to Opus and PCM per speaker, in order.

discord-ext-voice-recv undoes the transport encryption (aead_xchacha20_poly1305_rtpsize) and hands on the payload
still end-to-end encrypted: since March 2026 every Discord call uses DAVE. This sink does the rest, mirroring
discord.py's send path (`dave_session.encrypt_opus`): RTP padding is stripped (it sits inside the transport
ciphertext and would bury DAVE's trailer), the frame is decrypted on arrival with the connection's DAVE session
under the sender's user id (known from the SSRC the voice gateway announced; packets before that are held), put
in order by a jitter buffer (`voice_jitter`), placed on the meeting's clock, then decoded with libopus. A lost
packet is concealed (FEC from the next one, else libopus's concealment); one that cannot be decrypted (the first
moments before the MLS group is ready, a key transition) is 20 ms of silence, so each speaker's clock keeps running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from discord.ext import voice_recv
from discord.opus import Decoder, Encoder

from bots.discord.voice_jitter import JitterBuffer, SenderClock

log = logging.getLogger(__name__)

OPUS_SILENCE = b"\xf8\xff\xfe"
DAVE_MAGIC = b"\xfa\xfa"  # a DAVE frame ends with its supplemental data, then this marker
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
SILENT_PCM = bytes(FRAME_SAMPLES * 2 * 2)  # 20 ms of 48 kHz stereo s16le
FRAME_SECONDS = 0.02
JITTER_COUNTS = ("received", "lost", "late", "duplicate", "reordered")  # `voice_jitter.Counts`, summed over streams
DEPARTED_GRACE = 2.0  # seconds a departed member's SSRC still counts as theirs (packets in flight)
UNMAPPED_KEPT = 250  # packets (5 s) of an SSRC held until the voice gateway says whose it is
REPORT_EVERY = 60.0  # seconds between the counts lines
OUTAGE_NOTED = 1.0  # seconds without a decryptable frame, after some were, that count as audio lost
OUTAGE_TOLD = 30.0  # seconds of such an outage after which the thread is told while it still goes on

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

    def __init__(self, connection, *, on_gap: Callable[[float, str], None] | None = None, clock=time.monotonic):
        self.connection = connection  # discord.voice_state.VoiceConnectionState: .dave_session, .dave_protocol_version
        self.decrypted = 0
        self.dropped = 0
        self.passed = 0
        self.on_gap = on_gap or (lambda seconds, why: None)
        self._clock = clock
        self._failing_since: float | None = None  # first failure after frames did decrypt
        self._told = False  # the thread was told of this outage while it went on

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
            if self.decrypted and self._failing_since is None:
                self._failing_since, self._told = self._clock(), False
            elif self._failing_since is not None and not self._told \
                    and self._clock() - self._failing_since >= OUTAGE_TOLD:
                self._told = True  # still going on: say so now, not only once it is over
                self.on_gap(self._clock() - self._failing_since, "decrypt_ongoing")
            log.debug("DAVE: frame of user %s dropped as silence (%s)", user_id, exc)
            return None
        if self._failing_since is not None:
            lost = self._clock() - self._failing_since
            self._failing_since = None
            if lost >= OUTAGE_NOTED:
                log.info("DAVE: frames decrypt again after %.1f s", lost)
                self.on_gap(lost, "decrypt")
        self.decrypted += 1
        return frame


@dataclass
class Frame:
    """A packet in a sender's jitter buffer: decrypted on arrival (a departing member's key goes at the commit)."""

    t: float  # where it sits on the meeting's clock
    opus: bytes | None  # None: it could not be decrypted


@dataclass
class Speaker:
    user_id: int
    name: str
    decoder: Decoder
    encoder: Encoder | None = None  # only for concealed frames, which the track stores as Opus too
    frames: int = 0
    silent: int = 0
    concealed: int = 0


@dataclass
class Stream:
    """One SSRC: its packets held until the SSRC is mapped to a member, then ordered and placed on the clock."""

    ssrc: int
    jitter: JitterBuffer = field(default_factory=JitterBuffer)
    clock: SenderClock = field(default_factory=SenderClock)
    unmapped: deque = field(default_factory=lambda: deque(maxlen=UNMAPPED_KEPT))  # (seq, ts, payload, arrival)
    speaker: Speaker | None = None
    last_t: float | None = None


AudioCallback = Callable[[int, str, bytes, bytes, float], None]  # user id, name, opus, pcm 48k stereo, t (s)
GapCallback = Callable[[float, str], None]  # seconds of audio lost, why


class MeetingSink(voice_recv.AudioSink):
    """Packets in (`feed`, from `voice_client.SinkRouter`), each speaker's audio out in order with its time.

    `allowed(user_id)` is asked before anything is done with a packet: an opted-out member's audio is never
    decrypted, decoded, stored or transcribed. `clock()` gives seconds since the meeting began.
    """

    def __init__(self, on_audio: AudioCallback, *, allowed: Callable[[int], bool], clock: Callable[[], float],
                 connection=None, resolve: Callable[[int], object | None] | None = None,
                 on_gap: GapCallback | None = None):
        super().__init__()
        self.on_audio = on_audio
        self.allowed = allowed
        self.clock = clock
        self.on_gap = on_gap or (lambda seconds, why: None)
        self._connection = connection  # tests give one; normally the voice client's
        self._resolve = resolve  # SSRC -> member (tests); normally voice_recv's mapping from the speaking op
        self.streams: dict[int, Stream] = {}
        self.lock = threading.RLock()
        self._dave: DaveFrames | None = None
        self.counts = {"unmapped_dropped": 0, "concealed_fec": 0, "concealed_plc": 0}
        self._reported: dict[str, int] = {}
        self._retired: dict[str, int] = {}  # counts of streams already ended
        self._departed: dict[int, tuple[Speaker, float]] = {}  # SSRC -> who it was, until when packets count
        self._report_at = 0.0
        self.last_heard = 0.0  # when the last packet came (meeting seconds): where a dead link's gap began

    @property
    def dave(self) -> DaveFrames:
        """The DAVE step, on the current voice connection's session (a reconnect brings a new one)."""
        conn = self._connection if self._connection is not None else self.voice_client._connection
        if self._dave is None:
            self._dave = DaveFrames(conn, on_gap=lambda seconds, why: self.on_gap(seconds, why), clock=self.clock)
        elif self._dave.connection is not conn:
            self._dave.connection = conn
        return self._dave

    def wants_opus(self) -> bool:
        return True  # voice_recv must not decode: its payload is still DAVE ciphertext

    # -- packets in -------------------------------------------------------------------------------------------------

    def write(self, user, data) -> None:
        """voice_recv's own routing (a client without `SinkRouter`): its packets go the same way."""
        if data.packet:
            self.feed(data.packet)

    def feed(self, packet, now: float | None = None) -> None:
        """One transport-decrypted RTP packet (socket thread)."""
        now = self.clock() if now is None else now
        self.last_heard = now
        payload = strip_padding(bytes(packet.decrypted_data or b""), getattr(packet, "padding", False))
        with self.lock:
            st = self.streams.get(packet.ssrc)
            if st is None:
                st = self.streams[packet.ssrc] = Stream(packet.ssrc)
            if len(st.unmapped) == st.unmapped.maxlen:
                self.counts["unmapped_dropped"] += 1
            st.unmapped.append((packet.sequence, packet.timestamp, payload, now))
            self._admit(st)
            self._release(st, now)

    def tick(self) -> None:
        """Give up on packets waited for long enough; map SSRCs announced since (router thread, every 20 ms)."""
        now = self.clock()
        with self.lock:
            for st in list(self.streams.values()):
                self._admit(st)
                self._release(st, now)
        self._report(now)

    def end_stream(self, ssrc: int) -> None:
        """The member left (or the SSRC was dropped): release what is held, then forget the stream."""
        with self.lock:
            st = self.streams.pop(ssrc, None)
            if st is not None:
                self._admit(st)
                self._release(st, self.clock(), drain=True)
                self._retire(st)
                if st.speaker is not None:  # their last packets may still be on the way
                    self._departed[ssrc] = (st.speaker, self.clock() + DEPARTED_GRACE)

    def end_all(self) -> None:
        with self.lock:
            for ssrc in list(self.streams):
                self.end_stream(ssrc)

    def forget(self, user_id: int) -> None:
        """Drop a member's streams and decoder state, held packets included (they opted out or left)."""
        with self.lock:
            for ssrc in [k for k, v in self.streams.items() if v.speaker and v.speaker.user_id == user_id]:
                self._retire(self.streams.pop(ssrc))

    def _retire(self, st: Stream) -> None:
        for key in JITTER_COUNTS:
            self._retired[key] = self._retired.get(key, 0) + getattr(st.jitter.counts, key)

    # -- inside the lock ------------------------------------------------------------------------------------------

    def _member(self, ssrc: int):
        if self._resolve is not None:
            return self._resolve(ssrc)
        vc = self.voice_client
        uid = vc._get_id_from_ssrc(ssrc) if vc is not None else None
        if uid is None:
            return None
        return vc.guild.get_member(uid) or vc.client.get_user(uid)

    def _admit(self, st: Stream) -> None:
        """Decrypt and order the packets held for an SSRC once it is known whose it is."""
        if not st.unmapped:
            return
        if st.speaker is None:
            user = self._member(st.ssrc)
            departed = self._departed.get(st.ssrc)
            if user is None and departed is not None and self.clock() < departed[1]:
                st.speaker = departed[0]  # the same decoder: the audio carries on as it was
            elif user is None:
                return  # kept (a few seconds' worth) until the speaking op maps it
            else:
                st.speaker = Speaker(user.id, display_name(user), Decoder())
        sp = st.speaker
        while st.unmapped:
            seq, ts, payload, arrival = st.unmapped.popleft()
            if not self.allowed(sp.user_id):
                continue
            st.jitter.push(seq, arrival, lambda ts=ts, payload=payload, arrival=arrival: Frame(
                st.clock.place(ts, arrival), self.dave.open(sp.user_id, payload) if payload else None))

    def _release(self, st: Stream, now: float, *, drain: bool = False) -> None:
        sp = st.speaker
        if sp is None:
            return
        batch = st.jitter.pop(now, drain=drain)
        after: tuple[int, Frame] | None = None  # the next packet that did arrive: where a lost one sits
        ahead: list[tuple[int, Frame] | None] = []
        for seq, frame in reversed(batch):
            ahead.append(after)
            if frame is not None:
                after = (seq, frame)
        ahead.reverse()
        for i, (seq, frame) in enumerate(batch):
            if not self.allowed(sp.user_id):
                continue
            if frame is None:  # given up: the next packet's FEC, else the decoder's concealment
                nxt = ahead[i][1] if ahead[i] is not None and ahead[i][0] == seq + 1 else None
                opus, pcm = self._conceal(sp, nxt)
                if ahead[i] is not None:  # before the next packet (a spurt's first may be the lost one)
                    t = ahead[i][1].t - (ahead[i][0] - seq) * FRAME_SECONDS
                else:
                    t = st.last_t + FRAME_SECONDS if st.last_t is not None else now
            elif frame.opus is None or frame.opus == OPUS_SILENCE:
                opus, pcm, t = OPUS_SILENCE, SILENT_PCM, frame.t
                sp.silent += frame.opus is None
            else:
                t = frame.t
                try:
                    opus, pcm = frame.opus, sp.decoder.decode(frame.opus, fec=False)
                except Exception as exc:  # a corrupt frame must not stop the receive thread
                    log.debug("opus decode failed for %s: %s", sp.name, exc)
                    opus, pcm = OPUS_SILENCE, SILENT_PCM
            st.last_t = t
            sp.frames += 1
            self.on_audio(sp.user_id, sp.name, opus, pcm, t)

    def _conceal(self, sp: Speaker, nxt: Frame | None) -> tuple[bytes, bytes]:
        """20 ms in place of a lost packet, as PCM for the engine and as Opus for the track."""
        try:
            if nxt is not None and nxt.opus and nxt.opus != OPUS_SILENCE:
                pcm = sp.decoder.decode(nxt.opus, fec=True)
                self.counts["concealed_fec"] += 1
            else:
                pcm = sp.decoder.decode(None, fec=False)
                self.counts["concealed_plc"] += 1
            pcm = pcm[:len(SILENT_PCM)].ljust(len(SILENT_PCM), b"\0")
            if sp.encoder is None:
                sp.encoder = Encoder()
            sp.concealed += 1
            return sp.encoder.encode(pcm, FRAME_SAMPLES), pcm
        except Exception as exc:
            log.debug("concealment failed for %s: %s", sp.name, exc)
            return OPUS_SILENCE, SILENT_PCM

    # -- logging --------------------------------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        """Counts since the meeting began: packets received, lost, late, reordered, duplicated, concealed,
        undecryptable."""
        with self.lock:
            out = dict(self.counts)
            for key in JITTER_COUNTS:
                out[key] = self._retired.get(key, 0) + sum(getattr(st.jitter.counts, key)
                                                           for st in self.streams.values())
        out["undecryptable"] = self._dave.dropped if self._dave is not None else 0
        return out

    def _report(self, now: float) -> None:
        """One line a minute: what was lost, late, duplicated or undecryptable in it (no per-packet lines)."""
        if now - self._report_at < REPORT_EVERY:
            return
        self._report_at = now
        totals = self.totals()
        delta = {k: v - self._reported.get(k, 0) for k, v in totals.items()}
        self._reported = totals
        trouble = {k: v for k, v in delta.items() if v and k not in ("received", "reordered")}
        level = logging.INFO if trouble else logging.DEBUG
        log.log(level, "voice: last minute %d packets, %s", delta.get("received", 0),
                ", ".join(f"{k} {v}" for k, v in sorted(trouble.items())) or "none lost")

    def cleanup(self) -> None:
        """Listening stopped: what is still held goes out, then nothing is kept."""
        self.end_all()


def display_name(user) -> str:
    return getattr(user, "display_name", None) or getattr(user, "global_name", None) or user.name


def monotonic_clock() -> Callable[[], float]:
    """Seconds since now: the meeting's clock."""
    start = time.monotonic()
    return lambda: time.monotonic() - start
