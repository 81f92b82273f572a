"""Bytes to text: a BOM's encoding, then UTF-8, then the legacy 8-bit encoding charset-normalizer finds."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from core.errors import InputError

BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
SAVE_AS_UTF8 = "Save the transcript as UTF-8 text (in most editors: Save as, Encoding: UTF-8) and try again."
# Real text has few control characters besides tab and line ends; audio, images and archives have many.
CONTROL_SHARE = 0.01
# Windows' Western code page is the legacy encoding most transcripts and subtitles come in; on a short file the
# detector cannot tell it from its Central-European neighbours, so it wins when it reads about as cleanly.
WESTERN, CHAOS_SLACK = "cp1252", 0.1


def not_text(name: str) -> InputError:
    return InputError(f"{name} is not readable text: it is neither UTF-8, UTF-16 nor a legacy 8-bit encoding "
                      "(is it an audio, image or archive file with a transcript's name?).", SAVE_AS_UTF8)


def decode(raw: bytes, name: str) -> str:
    """The file's text with Unix line ends and no BOM; InputError when it is not text."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            try:
                return normal(raw[len(bom):].decode(encoding), name)
            except UnicodeDecodeError as exc:
                raise not_text(name) from exc
    if b"\x00" in raw[:4096]:
        # UTF-16 without a BOM puts a zero byte beside every ASCII character.
        even, odd = raw[0:4096:2].count(0), raw[1:4096:2].count(0)
        encoding = "utf-16-be" if even > 3 * odd else "utf-16-le" if odd > 3 * even else None
        if encoding is None:
            raise not_text(name)
        try:
            return normal(raw.decode(encoding), name)
        except UnicodeDecodeError as exc:
            raise not_text(name) from exc
    try:
        return normal(raw.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    matches = from_bytes(raw)
    best = matches.best()
    if best is None:
        raise not_text(name)
    western = next((m for m in matches if m.encoding == WESTERN), None)
    if western is not None and western.chaos <= best.chaos + CHAOS_SLACK:
        best = western
    return normal(str(best), name)


def normal(text: str, name: str) -> str:
    """Unix line ends; InputError for text that is mostly control characters (binary decoded by chance)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\t\f\v")
    if controls > CONTROL_SHARE * min(len(text), 20000):
        raise not_text(name)
    return text
