"""Discord test plumbing: a voice client that skips the network, packets fed as the socket reader would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import discord

from bots.discord.voice_client import OnnoVoiceClient
from tests.bots import discord_fake as F
from tests.bots.voice_packets import MODE, StandInDave, opus_frames, pcm48_stereo, rtp_packet
from tests.media import SAMPLE_TRACKS

SSRC = {F.MAYA: 1111, F.DANIEL: 2222, F.LENA: 3333}


class LocalVoiceClient(OnnoVoiceClient):
    """Onno's voice client with the voice server left out: transport key, DAVE session and SSRCs set by the test.

    Everything after the UDP socket is the real code: voice_recv's reader and transport decryption, then Onno's
    router and sink (jitter buffer, DAVE, Opus).
    """

    def setup(self, dave) -> bytes:
        conn = self._connection
        key = os.urandom(32)
        conn.mode, conn.secret_key = MODE, list(key)
        conn.dave_session, conn.dave_protocol_version = dave, 1
        # voice_recv's UDP keep-alive sends on this socket; the discard port on loopback takes it.
        conn.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        conn.endpoint_ip, conn.voice_port = "127.0.0.1", 9
        for uid, ssrc in SSRC.items():
            self._add_ssrc(uid, ssrc)  # what the voice gateway's SPEAKING (op 5) tells voice_recv
        self.transport_key = key
        self.counter = 0
        self.seqs: dict[int, int] = {}
        self.disconnected = False
        return key

    def is_connected(self) -> bool:
        return not self.disconnected

    async def disconnect(self, *, force: bool = False) -> None:
        self.disconnected = True
        self.stop()
        with contextlib.suppress(OSError):
            self._connection.socket.close()

    def receive(self, packet: bytes) -> None:
        """A datagram arriving on the voice socket (discord.py's SocketReader calls the same callback)."""
        if self._reader:
            self._reader.callback(packet)

    def packet(self, uid: int, t: float, payload: bytes, *, pad: int = 0) -> bytes:
        """The packet of `uid` carrying `payload` spoken at meeting time `t`: sequence numbers run on per sender,
        RTP time is the sender's clock (48 kHz, from a random start), so silences show as jumps in it."""
        self.counter += 1
        seq = self.seqs[uid] = self.seqs.get(uid, 1000 + uid % 5000) + 1
        return rtp_packet(ssrc=SSRC[uid], seq=seq, timestamp=(uid % 100000) * 7 + int(round(t * 48000)),
                          payload=payload, key=self.transport_key, counter=self.counter, pad=pad)


# When each sample speaker first talks (s): Maya 0.5, Daniel 7.5, Lena 27.5.
STARTS = {"Maya": 0.5, "Daniel": 7.5, "Lena": 27.5}


def speech(name: str, seconds: float, start: float | None = None) -> list[bytes]:
    """Opus frames of a sample speaker's track, from where they start talking (or `start`)."""
    at = STARTS[name] if start is None else start
    return opus_frames(pcm48_stereo(SAMPLE_TRACKS / f"{name}.ogg", seconds, at))


async def logged_in(fake: F.FakeDiscord, client: discord.Client, *, in_voice=(F.MAYA, F.DANIEL)) -> None:
    """Log in against the fake REST API and hand discord.py the server as the gateway would (GUILD_CREATE)."""
    discord.http.Route.BASE = fake.api_url
    await client.login(F.TOKEN)
    client._connection.parsers["GUILD_CREATE"](F.guild_create(list(in_voice)))


async def feed(vc: LocalVoiceClient, schedule: list[tuple[int, float, bytes, int]], *, clock=None,
               pace: float = 0.003) -> None:
    """Send (uid, t, payload, pad) packets in order, `pace` seconds apart (the router thread keeps up), moving
    the meeting's clock to each packet's time."""
    for uid, t, payload, pad in schedule:
        if clock is not None:
            clock.t = max(clock.t, t)
        vc.receive(vc.packet(uid, t, payload, pad=pad))
        await asyncio.sleep(pace)


class Clock:
    """The meeting's clock, moved by the test as it feeds audio (seconds)."""

    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


__all__ = ["LocalVoiceClient", "StandInDave", "speech", "logged_in", "feed", "Clock", "SSRC"]
