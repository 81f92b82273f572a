"""The voice gateway's MLS role, made locally: an external sender that adds and removes real davey members.

In a DAVE call the voice server is the MLS group's external sender (RFC 9420 §12.1.8.1): it announces its
signing key (op 25), proposes adding each member's key package and removing those who left (op 27, signed public
messages), picks the first commit a member sends back (op 28) and relays it (op 29) with the welcome for the
newcomers (op 30). `ExternalSender` builds those messages with the TLS presentation language and varint vectors
of RFC 9420 and signs them with ECDSA P-256 (ciphersuite 2, the one DAVE uses), as libdave's test helper does;
`Call` plays the server for a set of real `davey.DaveSession`s, so epochs, ratchets and errors are davey's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from dataclasses import dataclass, field

import davey
import discord
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from discord.gateway import DiscordVoiceWebSocket

from bots.discord.voice_client import onno_hook
from tests.bots import discord_fake as F
from tests.bots.discord_support import LocalVoiceClient, logged_in

MLS10 = 1
PUBLIC_MESSAGE = 1
EXTERNAL = 2
PROPOSAL = 2
ADD, REMOVE = 1, 3
BASIC = 1


def varint(n: int) -> bytes:
    """RFC 9420 §2.1.2: the length of a vector, in 1, 2 or 4 bytes."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return struct.pack(">H", n | 0x4000)
    return struct.pack(">I", n | 0x80000000)


def vec(data: bytes) -> bytes:
    return varint(len(data)) + data


class ExternalSender:
    """The voice server's signing identity and the proposals it signs."""

    def __init__(self, channel_id: int):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.group_id = struct.pack(">Q", channel_id)  # DAVE's MLS group id is the channel id

    def package(self) -> bytes:
        """op 25's body: ExternalSender { SignaturePublicKey signature_key; Credential credential }."""
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return vec(public) + struct.pack(">H", BASIC) + vec(b"voice-server")

    def proposal(self, epoch: int, body: bytes) -> bytes:
        """An MLSMessage (PublicMessage) carrying one proposal from external sender 0, signed."""
        content = (vec(self.group_id) + struct.pack(">Q", epoch) + struct.pack(">BI", EXTERNAL, 0) + vec(b"")
                   + bytes([PROPOSAL]) + body)
        tbs = struct.pack(">HH", MLS10, PUBLIC_MESSAGE) + content
        signed = vec(b"MLS 1.0 FramedContentTBS") + vec(tbs)
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return struct.pack(">HH", MLS10, PUBLIC_MESSAGE) + content + vec(signature)

    def add(self, epoch: int, key_package: bytes) -> bytes:
        return self.proposal(epoch, struct.pack(">H", ADD) + key_package)

    def remove(self, epoch: int, leaf: int) -> bytes:
        return self.proposal(epoch, struct.pack(">HI", REMOVE, leaf))


def proposals_payload(messages: list[bytes]) -> bytes:
    """op 27's body after its operation type: MLSMessage proposal_messages<V>."""
    return vec(b"".join(messages))


@dataclass
class Call:
    """A voice channel's MLS group run as the voice server runs it, over real davey sessions."""

    channel_id: int
    sender: ExternalSender = None
    members: dict[int, davey.DaveSession] = field(default_factory=dict)
    epoch: int = 0
    transition: int = 0
    log: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.sender = self.sender or ExternalSender(self.channel_id)

    def session(self, user_id: int) -> davey.DaveSession:
        """A member's own session, as a Discord client makes it on joining."""
        s = davey.DaveSession(1, user_id, self.channel_id)
        s.set_external_sender(self.sender.package())
        return s

    def join(self, *user_ids: int, sessions: dict[int, object] | None = None) -> int:
        """Members join: their key packages are proposed, the first commit is taken, the epoch moves on."""
        sessions = sessions or {}
        new = {uid: sessions.get(uid) or self.session(uid) for uid in user_ids}
        # A new group is its creator's own (leaf 0): only the others are proposed.
        adds = [self.sender.add(self.epoch, s.get_serialized_key_package())
                for i, s in enumerate(new.values()) if self.members or i > 0]
        return self._commit(adds, new)

    def leave(self, user_id: int) -> int:
        gone = self.members.pop(user_id)
        return self._commit([self.sender.remove(self.epoch, gone.own_leaf_index)], {})

    def _commit(self, proposals: list[bytes], new: dict[int, object]) -> int:
        if not proposals:  # alone in the call: the creator's pending group (epoch 0) waits for others
            self.members.update(new)
            return self.transition
        payload = proposals_payload(proposals)
        self.transition += 1
        if not self.members:  # a new group: the first newcomer creates it, the rest are welcomed
            creator_id = next(iter(new))
            creator = new[creator_id]
            result = creator.process_proposals(davey.ProposalsOperationType.append, payload)
            creator.process_commit(result.commit)
            self.members[creator_id] = creator
            for uid, s in new.items():
                if uid != creator_id:
                    s.process_welcome(result.welcome)
                    self.members[uid] = s
        else:
            results = {uid: s.process_proposals(davey.ProposalsOperationType.append, payload)
                       for uid, s in self.members.items()}
            committer = next(uid for uid, r in results.items() if r is not None)
            result = results[committer]
            for s in self.members.values():
                s.process_commit(result.commit)
            for uid, s in new.items():
                s.process_welcome(result.welcome)
                self.members[uid] = s
        self.epoch += 1
        return self.transition


class RecordingSocket:
    """The aiohttp websocket under discord.py's DiscordVoiceWebSocket: what the bot sends is kept."""

    def __init__(self):
        self.sent: list = []

    async def send_str(self, data: str) -> None:
        self.sent.append(json.loads(data))

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def ops(self) -> list[int]:
        return [m["op"] if isinstance(m, dict) else m[0] for m in self.sent]

    def binary(self, op: int) -> list[bytes]:
        return [m[1:] for m in self.sent if isinstance(m, bytes) and m[0] == op]

    def json(self, op: int) -> list[dict]:
        return [m["d"] for m in self.sent if isinstance(m, dict) and m["op"] == op]


class VoiceGateway:
    """The voice server for a bot on discord.py's real voice websocket plus local davey members (`Call`).

    Messages reach the bot as discord.py reads them (`received_message` / `received_binary_message`); what it
    sends back (ops 23, 26, 28, 31) is on `socket`.
    """

    def __init__(self, ws, socket: RecordingSocket, call: Call, bot_id: int):
        self.ws, self.socket, self.call, self.bot_id = ws, socket, call, bot_id
        self.seq = 0
        self.bot_leaf: int | None = None
        self.bot_in_group = False

    async def json(self, op: int, d: dict) -> None:
        await self.ws.received_message({"op": op, "d": d})

    async def binary(self, op: int, body: bytes) -> None:
        self.seq += 1
        await self.ws.received_binary_message(struct.pack(">H", self.seq) + bytes([op]) + body)

    def key_package(self) -> bytes:
        return self.socket.binary(26)[-1]

    def bot_session(self):
        return self.ws._connection.dave_session

    async def add_bot(self, *, deliver: bool = True) -> int:
        """The bot's latest key package (op 26) proposed to the group; the bot is welcomed (op 30), then the
        transition executes (op 22). With `deliver=False` the welcome is lost on the way."""
        payload = proposals_payload([self.call.sender.add(self.call.epoch, self.key_package())])
        transition, commit, welcome = self._settle(payload)
        if deliver:
            await self.binary(30, struct.pack(">H", transition) + welcome)
            await self.json(22, {"transition_id": transition})
            self.bot_in_group = True
            self.bot_leaf = self.bot_session().own_leaf_index
        return transition

    async def remove_bot(self) -> int:
        """What the server does on op 31: the bot's old leaf leaves the group (it re-joins with a new package)."""
        payload = proposals_payload([self.call.sender.remove(self.call.epoch, self.bot_leaf)])
        transition, _, _ = self._settle(payload)
        self.bot_in_group = False
        return transition

    async def join(self, user_id: int, *, to_bot: bool = True) -> int:
        """A client joins: proposed to everyone (the bot too), a local member's commit relayed (op 29)."""
        await self.json(11, {"user_ids": [str(user_id)]})  # CLIENTS_CONNECT: who the group may now add
        session = self.call.session(user_id)
        payload = proposals_payload([self.call.sender.add(self.call.epoch, session.get_serialized_key_package())])
        return await self._relay(payload, new={user_id: session}, to_bot=to_bot)

    async def disconnect(self, user_id: int) -> None:
        """CLIENT_DISCONNECT (op 13): the server says who left; the MLS removal follows (`leave`)."""
        await self.json(13, {"user_id": str(user_id)})

    async def leave(self, user_id: int, *, to_bot: bool = True) -> int:
        gone = self.call.members.pop(user_id)
        payload = proposals_payload([self.call.sender.remove(self.call.epoch, gone.own_leaf_index)])
        return await self._relay(payload, to_bot=to_bot)

    async def _relay(self, payload: bytes, *, new: dict | None = None, to_bot: bool) -> int:
        if self.bot_in_group and to_bot:
            await self.binary(27, b"\x00" + payload)  # the bot commits too (op 28); the server takes a client's
        transition, commit, welcome = self._settle(payload, new=new)
        if self.bot_in_group and to_bot:
            await self.binary(29, struct.pack(">H", transition) + commit)
            await self.json(22, {"transition_id": transition})
        return transition

    def _settle(self, payload: bytes, *, new: dict | None = None) -> tuple[int, bytes, bytes | None]:
        """The first local member's commit for `payload`, applied by every local member; newcomers welcomed."""
        call = self.call
        results = {uid: s.process_proposals(davey.ProposalsOperationType.append, payload)
                   for uid, s in call.members.items()}
        result = next(r for r in results.values() if r is not None)
        for s in call.members.values():
            s.process_commit(result.commit)
        for uid, s in (new or {}).items():
            s.process_welcome(result.welcome)
            call.members[uid] = s
        call.epoch += 1
        call.transition += 1
        return call.transition, result.commit, result.welcome


@contextlib.asynccontextmanager
async def voice_connection(*, in_voice=(F.MAYA, F.DANIEL, F.LENA), dave: bool = True):
    """A client logged in to the fake Discord, Onno's voice client in 🔊Daily with no network under it, and
    discord.py's real voice websocket over a `RecordingSocket`; with `dave`, SESSION_DESCRIPTION (op 4) has
    been received, so discord.py made the DAVE session and sent its key package. Yields (vc, ws, socket)."""
    base = discord.http.Route.BASE
    fake = F.FakeDiscord()
    intents = discord.Intents.none()
    intents.guilds = intents.voice_states = True
    client = discord.Client(intents=intents)
    try:
        await logged_in(fake, client, in_voice=list(in_voice))
        vc = LocalVoiceClient(client, client.get_guild(F.GUILD_ID).get_channel(F.VOICE_ID))
        key = vc.setup(None)
        conn = vc._connection
        conn.dave_session, conn.dave_protocol_version, conn.ssrc = None, 0, 4444
        socket = RecordingSocket()
        ws = DiscordVoiceWebSocket(socket, asyncio.get_running_loop(), hook=onno_hook)
        ws._connection, conn.ws = conn, ws
        if dave:
            await ws.received_message({"op": 4, "d": {"mode": conn.mode, "secret_key": list(key),
                                                      "dave_protocol_version": 1}})
        yield vc, ws, socket
    finally:
        await client.close()
        fake.close()
        discord.http.Route.BASE = base
