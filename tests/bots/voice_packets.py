"""What a Discord voice server sends a bot, made here: real Opus, a DAVE stand-in, transport-encrypted RTP.

- Speech from the sample's per-speaker tracks, encoded with the libopus discord.py loads (`discord.opus.Encoder`).
- `StandInDave`: the interface of `davey.DaveSession` that the receive path uses (`decrypt(user_id, media_type,
  frame)`, `ready`, `can_passthrough`), raising ValueError("Failed to decrypt: ...") as davey does. Frames are laid
  out as DAVE lays them out: AES-128-GCM ciphertext, 8-byte truncated tag, ULEB128 nonce, ULEB128 unencrypted
  ranges (none for Opus), the supplemental size, then the 0xFAFA marker. The keys are a test's own (no MLS group):
  a per-sender key stands in for the sender's key ratchet.
- `rtp_packet`: the RTP packet as the voice server sends it in `aead_xchacha20_poly1305_rtpsize` mode, with a
  one-element header extension (cleartext profile and length, the element encrypted) and optional RTP padding.
"""

from __future__ import annotations

import hashlib
import struct

import av
import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

MODE = "aead_xchacha20_poly1305_rtpsize"
MAGIC = b"\xfa\xfa"


def pcm48_stereo(path, seconds: float, start: float = 0.0) -> bytes:
    """`seconds` of a file from `start` as 48 kHz stereo s16le PCM (what Discord clients encode)."""
    out = []
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
        for frame in c.decode(audio=0):
            for f in resampler.resample(frame):
                out.append(f.to_ndarray().reshape(-1))
    pcm = np.concatenate(out)[int(48000 * start) * 2: int(48000 * (start + seconds)) * 2]
    return pcm.astype(np.int16).tobytes()


def opus_frames(pcm: bytes) -> list[bytes]:
    """20 ms Opus frames, as a Discord client sends them."""
    from discord.opus import Encoder

    enc = Encoder()
    step = 960 * 2 * 2
    return [enc.encode(pcm[i:i + step], 960) for i in range(0, len(pcm) - step + 1, step)]


def uleb128(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_uleb128(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[at]
        value |= (b & 0x7F) << shift
        at += 1
        if not b & 0x80:
            return value, at
        shift += 7


class StandInDave:
    """A DAVE session stand-in: per-sender AES-128-GCM keys, davey's decrypt signature and errors."""

    def __init__(self):
        self.keys: dict[int, bytes] = {}
        self.nonces: dict[int, int] = {}
        self.ready = True
        self.passthrough = False
        self.calls: list[int] = []

    # the sender's side (a Discord client)
    def add_member(self, user_id: int, epoch: int = 1) -> None:
        self.keys[user_id] = hashlib.sha256(f"{user_id}:{epoch}".encode()).digest()[:16]

    def encrypt(self, user_id: int, frame: bytes, *, key: bytes | None = None) -> bytes:
        nonce = self.nonces.get(user_id, 0)
        self.nonces[user_id] = nonce + 1
        key = key or self.keys[user_id]
        enc = Cipher(algorithms.AES(key), modes.GCM(self._iv(nonce))).encryptor()
        ct = enc.update(frame) + enc.finalize()
        supplemental = enc.tag[:8] + uleb128(nonce)  # no unencrypted ranges for Opus
        return ct + supplemental + bytes([len(supplemental) + 1 + 2]) + MAGIC

    @staticmethod
    def _iv(nonce: int) -> bytes:
        return bytes(8) + struct.pack("<I", nonce)

    # davey.DaveSession's receiving side, as the bot calls it
    def can_passthrough(self, user_id: int) -> bool:
        return self.passthrough

    def decrypt(self, user_id: int, media_type, packet: bytes) -> bytes:
        self.calls.append(user_id)
        if not self.ready:
            raise ValueError("Failed to decrypt: NoDecryptorForUser")
        if not packet.endswith(MAGIC):
            if self.passthrough:
                return packet
            raise ValueError("Failed to decrypt: DecryptionFailed(UnencryptedWhenPassthroughDisabled)")
        key = self.keys.get(user_id)
        if key is None:
            raise ValueError("Failed to decrypt: NoDecryptorForUser")
        size = packet[-3]
        body, supplemental = packet[:-size], packet[-size:-3]
        tag = supplemental[:8]
        nonce, _ = read_uleb128(supplemental, 8)
        try:
            dec = Cipher(algorithms.AES(key), modes.GCM(self._iv(nonce), tag, min_tag_length=8)).decryptor()
            return dec.update(body) + dec.finalize()
        except Exception as exc:
            raise ValueError(f"Failed to decrypt: DecryptionFailed({type(exc).__name__})") from exc


def rtp_packet(*, ssrc: int, seq: int, timestamp: int, payload: bytes, key: bytes, counter: int,
               pad: int = 0) -> bytes:
    """One voice packet in aead_xchacha20_poly1305_rtpsize, as Discord's voice server relays it."""
    first = 0x80 | 0x10 | (0x20 if pad else 0)  # V=2, X=1, P when padded
    header = struct.pack(">BBHII", first, 0x78, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
    ext_head = b"\xbe\xde" + struct.pack(">H", 1)  # one-byte header extension, one 32-bit word
    ext_body = bytes([0x10, 0x7F, 0x00, 0x00])  # element id 1 (audio level), then padding
    plain = ext_body + payload + (bytes(pad - 1) + bytes([pad]) if pad else b"")
    nonce4 = struct.pack(">I", counter)
    sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(plain, header + ext_head, nonce4 + bytes(20), key)
    return header + ext_head + sealed + nonce4
