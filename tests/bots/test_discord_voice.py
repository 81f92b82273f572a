"""Discord voice for a whole meeting: a real MLS group (davey members, a local voice server) through discord.py's
own voice websocket and Onno's receive path; loss, reordering, duplicates and clock drift in a real Opus stream."""

from __future__ import annotations

import asyncio
import difflib
import random
import re
import struct
from pathlib import Path

import davey
import discord
import numpy as np
import pytest
from discord.gateway import DiscordVoiceWebSocket

from bots.discord import voice_dave
from bots.discord.receive import SILENT_PCM, MeetingSink
from bots.discord.recorder import TrackRecorder, build_tracks
from pipeline.decode import decode_audio
from tests.bots import discord_fake as F
from tests.bots.dave_gateway import Call, RecordingSocket, VoiceGateway, proposals_payload, voice_connection
from tests.bots.discord_support import SSRC, Clock, LocalVoiceClient, speech
from tests.bots.voice_packets import opus_frames, pcm48_stereo

pytestmark = pytest.mark.skipif(not discord.opus.is_loaded() and not discord.opus._load_default(),
                                reason="libopus (Debian package libopus0) is not installed")

STRANGER = 1300000000000000999


class Harness:
    """Onno's voice client on a recording voice websocket, the sink, and what it handed on."""

    def __init__(self, vc, ws, socket, sink, clock, got, gaps):
        self.vc, self.ws, self.socket, self.sink = vc, ws, socket, sink
        self.clock, self.got, self.gaps = clock, got, gaps
        self.t = 0.0

    async def say(self, uid: int, frames: list[bytes], *, encrypt=None, gap: float = 0.0):
        """`uid` speaks `frames` from now on the meeting's clock (encrypted by their own davey session)."""
        self.t += gap
        for f in frames:
            payload = encrypt(f) if encrypt else f
            self.clock.t = max(self.clock.t, self.t)
            self.vc.receive(self.vc.packet(uid, self.t, payload))
            self.t += 0.02
            await asyncio.sleep(0.002)

    def audio(self, uid: int) -> list[tuple]:
        return [g for g in self.got if g[0] == uid]


def run(scenario, *, in_voice=(F.MAYA, F.DANIEL, F.LENA), dave: bool = True):
    """Run `scenario(h)` against a fresh client and voice connection; return the harness after disconnecting."""
    async def main():
        async with voice_connection(in_voice=in_voice, dave=dave) as (vc, ws, socket):
            clock, got, gaps = Clock(), [], []
            sink = MeetingSink(lambda *a: got.append(a), allowed=lambda uid: True, clock=clock,
                               on_gap=lambda s, why: gaps.append((round(s, 2), why)))
            vc.listen(sink)
            h = Harness(vc, ws, socket, sink, clock, got, gaps)
            await scenario(h)
            await asyncio.sleep(0.2)
            await vc.disconnect()
            await asyncio.sleep(0.3)
            return h

    return asyncio.run(main())


def reference(frames: list[bytes]) -> list[bytes]:
    dec = discord.opus.Decoder()
    return [dec.decode(f, fec=False) for f in frames]


async def start_call(h: Harness, *members: int) -> VoiceGateway:
    """A call already running between `members`; the bot joins it: op 25, then its key package is added."""
    call = Call(F.VOICE_ID)
    call.join(*members)
    gw = VoiceGateway(h.ws, h.socket, call, F.BOT_ID)
    await gw.json(11, {"user_ids": [str(u) for u in members]})
    await gw.binary(25, call.sender.package())
    await gw.add_bot()
    return gw


def test_the_bot_joins_a_real_mls_group_and_hears_members_through_joins_and_leaves():
    maya, daniel, lena = speech("Maya", 1.0), speech("Daniel", 1.0), speech("Lena", 1.0)
    later = speech("Maya", 0.2, start=12.0)

    async def scenario(h):
        assert h.socket.binary(26), "discord.py sent the bot's key package (op 26) on SESSION_DESCRIPTION"
        gw = await start_call(h, F.MAYA, F.DANIEL)
        assert h.socket.json(23) == [{"transition_id": gw.call.transition}]  # welcomed: transition ready
        m, d = gw.call.members[F.MAYA], gw.call.members[F.DANIEL]
        await h.say(F.MAYA, maya, encrypt=m.encrypt_opus)
        await gw.join(F.LENA)  # an epoch change: the bot commits (op 28), the server relays Maya's (op 29)
        assert h.socket.binary(28) and h.socket.json(23)[-1] == {"transition_id": gw.call.transition}
        await h.say(F.LENA, lena, encrypt=gw.call.members[F.LENA].encrypt_opus)
        # Daniel's last frames: the server says he left (op 13) while the rest are still in flight; his
        # removal is committed after (davey forgets his keys at the commit).
        sealed = iter([d.encrypt_opus(f) for f in daniel])  # encrypted as spoken, before he left
        await h.say(F.DANIEL, daniel[:30], encrypt=lambda f: next(sealed))
        await gw.disconnect(F.DANIEL)
        await h.say(F.DANIEL, daniel[30:], encrypt=lambda f: next(sealed))
        await gw.leave(F.DANIEL)
        # Someone not in the voice channel is proposed: refused, no commit, the group stands.
        session = gw.call.session(STRANGER)
        commits = len(h.socket.binary(28))
        await gw.binary(27, b"\x00" + proposals_payload([gw.call.sender.add(gw.call.epoch,
                                                                            session.get_serialized_key_package())]))
        assert len(h.socket.binary(28)) == commits and not h.socket.json(31)
        await h.say(F.MAYA, later, encrypt=m.encrypt_opus)

    h = run(scenario)
    session = h.ws._connection.dave_session
    assert isinstance(session, voice_dave.GuardedDave) and session.refused == 1 and session.recoveries == 0
    assert [g[3] for g in h.audio(F.MAYA)] == reference(maya + later)
    assert [g[3] for g in h.audio(F.LENA)] == reference(lena)
    assert [g[3] for g in h.audio(F.DANIEL)] == reference(daniel)  # every last frame kept
    assert h.sink.dave.dropped == 0


def test_an_mls_error_that_would_end_discord_pys_voice_loop_is_recovered():
    maya = speech("Maya", 0.6)

    async def scenario(h):
        gw = await start_call(h, F.MAYA, F.DANIEL)
        stale = proposals_payload([gw.call.sender.add(gw.call.epoch - 1,
                                                      gw.call.session(F.LENA).get_serialized_key_package())])
        # Without the guard, discord.py's handler raises out of its poll loop (the meeting goes deaf).
        raw = davey.DaveSession(1, F.BOT_ID, F.VOICE_ID)
        raw.get_serialized_key_package()
        raw.set_external_sender(gw.call.sender.package())
        raw_ws = DiscordVoiceWebSocket(RecordingSocket(), asyncio.get_running_loop())
        raw_ws._connection = type("State", (), {"dave_session": raw})()
        with pytest.raises(ValueError, match="Failed to process proposals"):
            await VoiceGateway(raw_ws, raw_ws.ws, gw.call, F.BOT_ID).binary(27, b"\x00" + stale)
        # With it: the error is caught, op 31 names the last transition, a fresh key package follows.
        packages, last = len(h.socket.binary(26)), gw.call.transition
        await gw.binary(27, b"\x00" + stale)
        await asyncio.sleep(0.05)
        assert h.socket.json(31) == [{"transition_id": last}]
        assert len(h.socket.binary(26)) == packages + 1
        # The server drops the old leaf and adds the new package: audio flows again.
        await gw.remove_bot()
        await gw.add_bot()
        await h.say(F.MAYA, maya, encrypt=gw.call.members[F.MAYA].encrypt_opus)

    h = run(scenario)
    session = h.ws._connection.dave_session
    assert session.mls_errors == 1 and session.recoveries == 1
    assert [g[3] for g in h.audio(F.MAYA)] == reference(maya)


def test_frames_that_keep_failing_outside_a_transition_reinitialise_the_session():
    maya = speech("Maya", 2.4)

    async def scenario(h):
        gw = await start_call(h, F.MAYA, F.DANIEL)
        m = gw.call.members[F.MAYA]
        await h.say(F.MAYA, maya[:20], encrypt=m.encrypt_opus)
        await gw.join(F.LENA, to_bot=False)  # the bot never hears of this commit: its keys are an epoch behind
        packages = len(h.socket.binary(26))
        await h.say(F.MAYA, maya[20:80], encrypt=m.encrypt_opus)  # 60 frames it cannot decrypt
        await asyncio.sleep(0.05)
        assert h.socket.json(31) and len(h.socket.binary(26)) == packages + 1  # re-initialised after 37
        await gw.remove_bot()
        await gw.add_bot()
        await h.say(F.MAYA, maya[80:], encrypt=m.encrypt_opus)

    h = run(scenario)
    out = [g[3] for g in h.audio(F.MAYA)]
    ref = reference(maya)
    assert len(out) == len(maya)
    assert out[:20] == ref[:20] and all(p == SILENT_PCM for p in out[20:80])
    assert np.abs(np.frombuffer(b"".join(out[80:]), np.int16)).max() > 3000  # heard again after the re-init
    assert h.gaps == [(1.2, "decrypt")]  # 60 frames: 1.2 s, told once
    assert h.sink.dave.dropped == 60


def test_one_lost_packet_loses_one_a_late_one_is_put_back_and_a_duplicate_costs_nothing():
    frames = speech("Maya", 2.0)
    n = len(frames)

    # Sequence numbers come from the order of sending, so the harness numbers packets itself here.
    h = run_packets(frames, drop={30}, swaps=[50], duplicates=[70])
    out = h.audio(F.MAYA)
    ref = reference(frames)
    assert len(out) == n  # one frame in place of the lost one, nothing else lost or added
    assert [g[3] for g in out[:30]] == ref[:30]
    assert out[30][3] != SILENT_PCM and out[30][2] != frames[30]  # concealed with FEC, as Opus for the track
    assert h.sink.counts["concealed_fec"] == 1
    times = [g[4] for g in out]
    assert all(abs(b - a - 0.02) < 1e-6 for a, b in zip(times, times[1:], strict=False))
    totals = h.sink.totals()
    assert totals["lost"] == 1 and totals["duplicate"] == 1 and totals["late"] == 0 and totals["reordered"] == 1
    # After the loss the decoder's state differs from a clean decode for a few frames, then it is the same
    # audio again: the late packet and the one after the duplicate are there, decoded in order.
    tail = [g[3] for g in out[45:]]
    assert tail[10:] == reference(frames)[55:] or np.corrcoef(
        np.frombuffer(b"".join(tail), np.int16)[::2].astype(float),
        np.frombuffer(b"".join(ref[45:]), np.int16)[::2].astype(float))[0, 1] > 0.99


def run_packets(frames, *, drop=(), swaps=(), duplicates=(), uid=F.MAYA, drift=0.0, pauses=()):
    """Send one speaker's frames with the given faults in a transport-only call (the payload is the Opus)."""

    async def scenario(h):
        seq0, ts0 = 1000, 77777
        packets = []
        t = 0.0
        for i, f in enumerate(frames):
            if i in pauses:
                t += pauses[i]
            ts = ts0 + int(round(t * 48000 * (1 + drift)))  # the sender's own sample clock
            packets.append((i, t, struct.pack(">HI", (seq0 + i) & 0xFFFF, ts & 0xFFFFFFFF), f))
            t += 0.02
        order = [p for p in packets if p[0] not in drop]
        for first in swaps:  # each of these arrives after the packet that follows it
            a = next(k for k, p in enumerate(order) if p[0] == first)
            order[a], order[a + 1] = order[a + 1], order[a]
        for again in duplicates:
            k = next(k for k, p in enumerate(order) if p[0] == again)
            order.insert(k + 1, order[k])
        for _i, t, head, f in order:
            seq, ts = struct.unpack(">HI", head)
            h.clock.t = max(h.clock.t, t)
            h.vc.receive(raw_packet(h.vc, uid, seq, ts, f))
            await asyncio.sleep(0.002)

    return run(scenario, dave=False)


def raw_packet(vc: LocalVoiceClient, uid: int, seq: int, ts: int, payload: bytes) -> bytes:
    from tests.bots.voice_packets import rtp_packet

    vc.counter += 1
    return rtp_packet(ssrc=SSRC[uid], seq=seq, timestamp=ts, payload=payload, key=vc.transport_key,
                      counter=vc.counter)


def test_a_sender_clock_that_drifts_stays_within_100_ms_of_the_meeting_clock(tmp_path):
    frames = speech("Maya", 20.0)
    pauses = {i: 1.0 for i in range(100, len(frames), 150)}  # talk spurts with pauses, as people talk
    for drift in (0.002, -0.002):  # 0.2 %: far beyond a real sound card's error
        h = run_packets(frames, drift=drift, pauses=pauses)
        out = h.audio(F.MAYA)
        wall = 0.0
        worst = 0.0
        for i, g in enumerate(out):
            if i in pauses:
                wall += pauses[i]
            worst = max(worst, abs(g[4] - wall))
            wall += 0.02
        assert len(out) == len(frames) and worst < 0.1, (drift, worst)
        rec = TrackRecorder(tmp_path / f"live{drift}")
        for g in out:
            rec.write(g[0], "Maya", g[2], g[4])
        rec.close()
        build_tracks(tmp_path / f"live{drift}", tmp_path / f"t{drift}")
        seconds = len(decode_audio(tmp_path / f"t{drift}" / "Maya.ogg")) / 16000
        assert abs(seconds - wall) < 0.1  # the track is as long as the meeting, not the sender's clock


def test_packets_before_the_ssrc_is_mapped_are_kept():
    frames = speech("Daniel", 1.0)

    async def scenario(h):
        h.vc._remove_ssrc(user_id=F.DANIEL)
        await h.say(F.DANIEL, frames[:20])
        assert not h.audio(F.DANIEL)
        h.vc._add_ssrc(F.DANIEL, SSRC[F.DANIEL])  # the speaking op (5) arrives late
        await h.say(F.DANIEL, frames[20:])

    h = run(scenario, dave=False)
    assert [g[3] for g in h.audio(F.DANIEL)] == reference(frames)


def test_a_transition_reports_its_id_and_ops_21_22_24_are_handled():
    async def scenario(h):
        gw = await start_call(h, F.MAYA)
        await gw.json(21, {"transition_id": 7, "protocol_version": 1})
        assert h.socket.json(23)[-1] == {"transition_id": 7}
        assert h.ws._connection.dave_session.last_transition_id == 7
        await gw.json(22, {"transition_id": 7})
        assert not h.ws._connection.dave_pending_transitions
        # op 24 with epoch 1: a new group is to be made; discord.py re-initialises the session it has, so the
        # guard stays, and a new key package goes out.
        guarded, packages = h.ws._connection.dave_session, len(h.socket.binary(26))
        await gw.json(24, {"epoch": 1, "protocol_version": 1})
        assert h.ws._connection.dave_session is guarded and len(h.socket.binary(26)) == packages + 1
        assert not guarded.ready

    run(scenario)


def test_the_jitter_buffer_alone():
    from bots.discord.voice_jitter import JitterBuffer

    jb = JitterBuffer()
    got = []
    for now, seq in [(0.0, 65534), (0.02, 65535), (0.04, 1), (0.06, 0), (0.08, 1), (0.10, 3), (0.12, 4),
                     (0.14, 5), (0.16, 6)]:
        jb.push(seq, now, lambda s=seq: s)
        got += jb.pop(now)
    got += jb.pop(1.0, drain=True)
    assert [(s & 0xFFFF, item) for s, item in got] == [(65534, 65534), (65535, 65535), (0, 0), (1, 1), (2, None),
                                                        (3, 3), (4, 4), (5, 5), (6, 6)]
    assert jb.counts.lost == 1 and jb.counts.duplicate == 1 and jb.counts.late == 0 and jb.counts.reordered == 1



def test_a_corpus_track_through_loss_reordering_duplicates_and_drift_transcribes_as_the_clean_one(tmp_path):
    from pipeline.transcribe import Transcriber

    voice = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dev" / "dev-01-platform-standup.tracks"
    if not (voice / "Sarah.ogg").exists():
        pytest.skip("the dev corpus is not here")
    frames = opus_frames(pcm48_stereo(voice / "Sarah.ogg", 19.0))
    rng = random.Random(16)
    lost = {i for i in range(len(frames)) if rng.random() < 0.02}
    late = [i for i in range(1, len(frames) - 2) if rng.random() < 0.01 and not {i, i + 1} & lost]
    again = [i for i in range(len(frames)) if rng.random() < 0.01 and i not in lost]
    texts = {}
    for name, kw in (("clean", {}), ("faulty", {"drop": lost, "swaps": late, "duplicates": again,
                                                 "drift": 150e-6})):
        h = run_packets(frames, **kw)
        rec = TrackRecorder(tmp_path / name)
        for g in h.audio(F.MAYA):
            rec.write(g[0], "Sarah", g[2], g[4])
        rec.close()
        build_tracks(tmp_path / name, tmp_path / f"{name}-tracks")
        audio = decode_audio(tmp_path / f"{name}-tracks" / "Sarah.ogg")
        assert abs(len(audio) / 16000 - 19.0) < 0.1
        texts[name] = " ".join(seg.text for seg in Transcriber().transcribe(audio, speaker="Sarah"))
    words = {k: re.findall(r"[a-z']+", v.lower()) for k, v in texts.items()}
    assert len(words["clean"]) > 20
    same = difflib.SequenceMatcher(a=words["clean"], b=words["faulty"]).ratio()
    assert same > 0.9, texts


def test_an_outage_that_goes_on_is_told_while_it_lasts_and_when_it_ends():
    from bots.discord.receive import DaveFrames
    from bots.discord.voice_watch import lost_notice
    from tests.bots.voice_packets import StandInDave

    dave = StandInDave()
    dave.add_member(F.MAYA)
    now, seen = [0.0], []
    frames = DaveFrames(type("Conn", (), {"dave_session": dave, "dave_protocol_version": 1})(),
                        on_gap=lambda s, why: seen.append((round(s), why)), clock=lambda: now[0])
    opus = speech("Maya", 0.1)[0]
    assert frames.open(F.MAYA, dave.encrypt(F.MAYA, opus)) == opus
    dave.ready = False  # keys gone (the group was lost)
    for i in range(1, 2000):  # 40 s of frames that do not decrypt
        now[0] = i * 0.02
        frames.open(F.MAYA, dave.encrypt(F.MAYA, opus))
    dave.ready = True
    now[0] = 40.0
    frames.open(F.MAYA, dave.encrypt(F.MAYA, opus))
    assert [w for _, w in seen] == ["decrypt_ongoing", "decrypt"] and seen[0][0] == 30 and seen[1][0] == 40
    assert "haven't been able to decrypt" in lost_notice(30, "decrypt_ongoing")
    assert "About 40 s of audio were lost" in lost_notice(40, "decrypt")
