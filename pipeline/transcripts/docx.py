"""Word transcripts (Teams' default download, Google Meet's Docs export) through python-docx: their paragraphs
are read as a text transcript."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError

from core.errors import InputError
from pipeline.transcripts.hints import EXPORT_AGAIN


def text_of(raw: bytes, name: str) -> str:
    """The document's paragraphs (and table cells), one line each; soft line breaks kept as lines."""
    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{name} is a zip archive but not a Word document.", EXPORT_AGAIN) from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("  ".join(cell.text for cell in row.cells))
    # Paragraphs are turns, kept apart by blank lines, except where they are the lines of timed cues.
    return ("\n" if any("-->" in line for line in lines) else "\n\n").join(lines)
