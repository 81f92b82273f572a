"""The receive path with real Opus: transport-encrypted RTP through voice_recv, DAVE, libopus, to each speaker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import numpy as np
import pytest

from bots.discord.ogg import OPUS_SILENCE, OggOpusWriter
from bots.discord.receive import SILENT_PCM, DaveFrames, MeetingSink, strip_padding
from bots.discord.recorder import TrackRecorder, build_tracks
from pipeline.decode import decode_audio
from tests.bots import discord_fake as F
from tests.bots.discord_support import Clock, LocalVoiceClient, StandInDave, feed, logged_in, speech

pytestmark = pytest.mark.skipif(not discord.opus.is_loaded() and not discord.opus._load_default(),
                                reason="libopus (Debian package libopus0) is not installed")


def reference(frames: list[bytes], keep: list[bool]) -> list[bytes]:
    """What a fresh libopus decoder makes of the frames that get through, in order: the expected PCM."""
    dec = discord.opus.Decoder()
    return [dec.decode(f, fec=False) if k else SILENT_PCM for f, k in zip(frames, keep, strict=True)]


def run_receive(schedule, *, dave, allowed=lambda uid: True):
    """Feed packets to a voice client listening with Onno's sink; return what the sink handed on."""
    got: list[tuple] = []

    base = discord.http.Route.BASE

    async def main():
        fake = F.FakeDiscord()
        intents = discord.Intents.none()
        intents.guilds = intents.voice_states = True
        client = discord.Client(intents=intents)
        try:
            await logged_in(fake, client)
            vc = LocalVoiceClient(client, client.get_guild(F.GUILD_ID).get_channel(F.VOICE_ID))
            vc.setup(dave)
            clock = Clock()
            sink = MeetingSink(lambda *a: got.append(a), allowed=allowed, clock=clock)
            vc.listen(sink)
            await feed(vc, schedule, clock=clock)
            await asyncio.sleep(0.3)
            await vc.disconnect()
            return sink
        finally:
            await client.close()
            fake.close()
            discord.http.Route.BASE = base

    sink = asyncio.run(main())
    return got, sink


def test_decrypted_frames_reach_the_right_speaker_and_undecryptable_ones_become_silence():
    maya, daniel = speech("Maya", 2.0), speech("Daniel", 2.0)
    n = len(maya)
    dave = StandInDave()
    dave.add_member(F.MAYA)
    schedule, keep_maya, keep_daniel = [], [], []
    for i in range(n):
        pad = 5 if i % 7 == 3 else 0  # RTP padding inside the transport ciphertext, over the DAVE trailer
        schedule.append((F.MAYA, i * 0.02, dave.encrypt(F.MAYA, maya[i]), pad))
        keep_maya.append(True)
        if i < 15:  # the first moments: Daniel's key is not in the group yet
            payload, ok = dave.encrypt(F.MAYA, daniel[i], key=bytes(16)), False
        elif 40 <= i < 45:  # a key transition: frames under a key this session does not hold
            payload, ok = dave.encrypt(F.MAYA, daniel[i], key=b"next-epoch-key!!"), False
        else:
            if i == 15:
                dave.add_member(F.DANIEL)
            payload, ok = dave.encrypt(F.DANIEL, daniel[i]), True
        schedule.append((F.DANIEL, i * 0.02, payload, 3 if i % 11 == 0 else 0))
        keep_daniel.append(ok)
    # The jitter buffer keeps one packet per speaker back until the next comes: one more each, not checked.
    schedule += [(F.MAYA, n * 0.02, OPUS_SILENCE, 0), (F.DANIEL, n * 0.02, OPUS_SILENCE, 0)]

    got, sink = run_receive(schedule, dave=dave)

    by = {uid: [g for g in got if g[0] == uid][:n] for uid in (F.MAYA, F.DANIEL)}
    assert {g[1] for g in by[F.MAYA]} == {"Maya"} and {g[1] for g in by[F.DANIEL]} == {"Daniel"}
    assert len(by[F.MAYA]) == n and len(by[F.DANIEL]) == n
    assert [g[3] for g in by[F.MAYA]] == reference(maya, keep_maya)
    assert [g[3] for g in by[F.DANIEL]] == reference(daniel, keep_daniel)
    # Dropped frames are silence for the engine and for the stored track alike, and keep the speaker's clock.
    for g, ok in zip(by[F.DANIEL], keep_daniel, strict=True):
        assert (g[2] == OPUS_SILENCE) == (not ok) and (g[3] == SILENT_PCM) == (not ok)
    times = [g[4] for g in by[F.DANIEL]]
    assert times[0] < 0.1 and all(abs(b - a - 0.02) < 1e-9 for a, b in zip(times, times[1:], strict=False))
    assert sink.dave.dropped == keep_daniel.count(False)
    assert sink.dave.decrypted == 2 * n - keep_daniel.count(False)
    # The speech is really there: loud where the speaker talks, and Maya's audio is Maya's, not Daniel's.
    for uid in (F.MAYA, F.DANIEL):
        pcm = np.frombuffer(b"".join(g[3] for g in by[uid]), np.int16)
        assert np.abs(pcm).max() > 3000


def test_an_opted_out_member_is_never_decrypted_nor_handed_on():
    maya, daniel = speech("Maya", 0.6), speech("Daniel", 0.6)
    dave = StandInDave()
    dave.add_member(F.MAYA)
    dave.add_member(F.DANIEL)
    schedule = []
    for i in range(len(maya)):
        schedule.append((F.MAYA, i * 0.02, dave.encrypt(F.MAYA, maya[i]), 0))
        schedule.append((F.DANIEL, i * 0.02, dave.encrypt(F.DANIEL, daniel[i]), 0))
    got, _ = run_receive(schedule, dave=dave, allowed=lambda uid: uid != F.DANIEL)
    assert got and {g[0] for g in got} == {F.MAYA}
    assert F.DANIEL not in dave.calls  # not even decrypted


def test_the_dave_step_with_a_real_davey_session_and_transport_only_calls():
    import davey

    class Conn:
        dave_session = davey.DaveSession(1, F.BOT_ID, F.VOICE_ID)  # no MLS group yet: the first moments
        dave_protocol_version = 1

    frames = DaveFrames(Conn())
    encrypted = StandInDave()
    encrypted.add_member(F.MAYA)
    opus = speech("Maya", 0.1)[0]
    assert frames.open(F.MAYA, encrypted.encrypt(F.MAYA, opus)) is None  # davey: NoDecryptorForUser
    assert frames.open(F.MAYA, OPUS_SILENCE) == OPUS_SILENCE  # silence frames are never encrypted
    assert frames.open(None, encrypted.encrypt(F.MAYA, opus)) is None  # SSRC not mapped to a member yet
    assert frames.dropped == 2

    class Plain:  # a call without E2EE (or downgraded): the payload is the Opus frame itself
        dave_session = None
        dave_protocol_version = 0

    plain = DaveFrames(Plain())
    assert plain.open(F.MAYA, opus) == opus
    assert plain.open(F.MAYA, encrypted.encrypt(F.MAYA, opus)) is None  # still E2EE ciphertext: no key here


def test_rtp_padding_is_stripped_only_when_flagged_and_in_range():
    assert strip_padding(b"abc\x00\x00\x03", True) == b"abc"
    assert strip_padding(b"abc\x00\x00\x03", False) == b"abc\x00\x00\x03"
    assert strip_padding(b"abc\x09", True) == b"abc\x09"  # a count beyond the payload: left whole


def test_tracks_are_flushed_as_ogg_opus_and_survive_a_crash(tmp_path):
    maya, daniel = speech("Maya", 3.0), speech("Daniel", 2.0)
    rec = TrackRecorder(tmp_path / "live")
    for i, f in enumerate(maya):
        rec.write(F.MAYA, "Maya", f, i * 0.02)
    for i, f in enumerate(daniel):  # Daniel starts talking 5 s into the meeting
        rec.write(F.DANIEL, "Daniel / QA", f, 5.0 + i * 0.02)
    rec.flush()
    # The process dies: no close, half a page at the end of one file.
    with (tmp_path / "live" / f"{F.DANIEL}.ogg").open("ab") as out:
        out.write(b"OggS\x00\x00\x12\x34")
    dest = tmp_path / "tracks"
    names = build_tracks(tmp_path / "live", dest)
    assert sorted(names) == ["Daniel QA", "Maya"]
    m, d = decode_audio(dest / "Maya.ogg"), decode_audio(dest / "Daniel QA.ogg")
    assert abs(len(m) / 16000 - 3.0) < 0.1
    assert abs(len(d) / 16000 - 7.0) < 0.1  # all tracks start together: silence until Daniel spoke
    assert np.abs(d[: int(4.9 * 16000)]).max() == 0 and np.abs(d[int(5.2 * 16000):]).max() > 0.05
    # An opted-out member's track is left out of the folder.
    assert build_tracks(tmp_path / "live", tmp_path / "t2", exclude={str(F.DANIEL)}) == ["Maya"]


def test_a_reopened_track_carries_on_after_its_last_whole_page(tmp_path):
    frames = speech("Lena", 1.0)
    path = Path(tmp_path / "x.ogg")
    w = OggOpusWriter(path)
    for f in frames:
        w.write(f)
    w.flush()
    w.file.close()
    w2 = OggOpusWriter(path)
    assert w2.position == len(frames) * 960
    for f in frames:
        w2.write(f, at=w2.position)
    w2.close()
    assert abs(len(decode_audio(path)) / 16000 - 2.0) < 0.1
