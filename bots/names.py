"""A shared file's name as a meeting title and as a file on our disk, the same in Slack and Discord."""

from __future__ import annotations

from pathlib import PurePosixPath


def title_from(name: str, known: set[str], default: str) -> str:
    """The name less a known extension; a title is not a path ("Q3/Q4 planning.m4a" keeps its slash)."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in known:
        name = stem
    return name.replace("_", " ").strip() or default


def local_name(name: str, fallback: str) -> str:
    """A safe file name for the upload on our disk: its own base name, or `fallback` (an id with its extension)
    for a name that is empty, hidden or a path step ("..")."""
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    return (fallback if not base or base.startswith(".") else base)[-200:]
