"""Ogg Opus, written page by page: Discord's Opus packets kept as they came, so a crash loses at most a page.

No re-encoding: the packets are the speaker's own (after DAVE decryption). Silence between packets is written
as Opus silence frames, so every track runs on the meeting's clock from its start and a tracks folder of them
"all starts together". A file cut short by a crash is trimmed back to its last whole page by `repair`.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

OPUS_SILENCE = b"\xf8\xff\xfe"  # one 20 ms frame, what Discord clients send themselves between talk spurts
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
PAGE_PACKETS = 50  # about a second of audio per page

_CRC = []
for _i in range(256):
    _r = _i << 24
    for _ in range(8):
        _r = ((_r << 1) ^ 0x04C11DB7) if _r & 0x80000000 else (_r << 1)
    _CRC.append(_r & 0xFFFFFFFF)


def crc32(data: bytes) -> int:
    """Ogg's CRC: polynomial 0x04c11db7, not reflected, initial value 0."""
    crc = 0
    table = _CRC
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ b) & 0xFF]
    return crc


def page(serial: int, seq: int, granule: int, packets: list[bytes], *, bos: bool = False, eos: bool = False) -> bytes:
    """One Ogg page holding whole packets (each under 255*255 bytes; Opus packets are at most 1275)."""
    lacing = bytearray()
    for p in packets:
        n = len(p)
        while n >= 255:
            lacing.append(255)
            n -= 255
        lacing.append(n)
    if len(lacing) > 255:
        raise ValueError("too many packets for one page")
    flags = (0x02 if bos else 0) | (0x04 if eos else 0)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(lacing)) + bytes(lacing)
    body = b"".join(packets)
    crc = crc32(header + body)
    return header[:22] + struct.pack("<I", crc) + header[26:] + body


def opus_head(channels: int = 2, pre_skip: int = 0) -> bytes:
    return struct.pack("<8sBBHIhB", b"OpusHead", 1, channels, pre_skip, 48000, 0, 0)


def opus_tags(vendor: str = "onno") -> bytes:
    v = vendor.encode()
    return b"OpusTags" + struct.pack("<I", len(v)) + v + struct.pack("<I", 0)


def packet_samples(packet: bytes) -> int:
    """Samples (at 48 kHz) in an Opus packet, from its TOC byte (RFC 6716 §3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        per_frame = (480, 960, 1920, 2880)[config & 3]  # SILK: 10, 20, 40, 60 ms
    elif config < 16:
        per_frame = (480, 960)[config & 1]  # hybrid: 10, 20 ms
    else:
        per_frame = (120, 240, 480, 960)[config & 3]  # CELT: 2.5, 5, 10, 20 ms
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 1
    return per_frame * max(frames, 1)


class OggOpusWriter:
    """Appends Opus packets at positions on the meeting's clock; `flush` writes whole pages and syncs them."""

    def __init__(self, path: Path, *, serial: int = 0x4F4E4E4F, channels: int = 2):
        self.path = Path(path)
        self.serial = serial
        existing = self.path.exists() and self.path.stat().st_size > 0
        if existing:  # a restarted process carries on where the file ends
            self.seq, self.granule = repair(self.path)
        self.file = self.path.open("ab")
        self.pending: list[bytes] = []
        self.pending_samples = 0
        if not existing or self.seq == 0:
            self.file.write(page(self.serial, 0, 0, [opus_head(channels)], bos=True))
            self.file.write(page(self.serial, 1, 0, [opus_tags()]))
            self.seq, self.granule = 2, 0
        self.synced = True

    @property
    def position(self) -> int:
        """Samples written so far (pages and pending packets): where the next packet lands."""
        return self.granule + self.pending_samples

    def write(self, packet: bytes, at: int | None = None) -> None:
        """Add a packet; with `at` (a sample position on the meeting's clock) fill any gap before it with silence."""
        if at is not None:
            gap = (at - self.position) // FRAME_SAMPLES
            for _ in range(max(0, gap)):
                self._add(OPUS_SILENCE)
        self._add(packet)

    def _add(self, packet: bytes) -> None:
        self.pending.append(packet)
        self.pending_samples += packet_samples(packet) or FRAME_SAMPLES
        if len(self.pending) >= PAGE_PACKETS:
            self._write_page()

    def _write_page(self, *, eos: bool = False) -> None:
        if not self.pending and not eos:
            return
        self.granule += self.pending_samples
        self.file.write(page(self.serial, self.seq, self.granule, self.pending, eos=eos))
        self.seq += 1
        self.pending, self.pending_samples = [], 0
        self.synced = False

    def flush(self) -> None:
        """Everything so far onto the disk (the durability promise: called at least every few seconds)."""
        self._write_page()
        if not self.synced:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.synced = True

    def close(self) -> None:
        if self.file.closed:
            return
        self._write_page(eos=True)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()


def repair(path: Path) -> tuple[int, int]:
    """Trim a file cut short to its last whole page; return (next page sequence, granule position)."""
    data = Path(path).read_bytes()
    offset, seq, granule, good = 0, 0, 0, 0
    while offset + 27 <= len(data):
        if data[offset:offset + 4] != b"OggS":
            break
        nseg = data[offset + 26]
        if offset + 27 + nseg > len(data):
            break
        size = 27 + nseg + sum(data[offset + 27:offset + 27 + nseg])
        if offset + size > len(data):
            break
        raw = bytearray(data[offset:offset + size])
        stored = struct.unpack_from("<I", raw, 22)[0]
        raw[22:26] = b"\0\0\0\0"
        if crc32(bytes(raw)) != stored:
            break
        granule = max(granule, struct.unpack_from("<q", data, offset + 6)[0])
        seq = struct.unpack_from("<I", data, offset + 18)[0] + 1
        offset += size
        good = offset
    if good < len(data):
        with Path(path).open("r+b") as f:
            f.truncate(good)
    return seq, granule
