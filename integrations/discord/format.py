"""A meeting result as Discord messages: Markdown Discord renders, each message within its 2000 characters."""

from __future__ import annotations

from onno.render import clock, header, sections

LIMIT = 2000


def result_messages(result: dict, *, link: str | None = None) -> list[str]:
    """The result in as few messages as fit, split between lines (a line too long on its own is cut)."""
    title, meta = header(result)
    lines = [f"## ✅ {title}", f"-# {meta}"]
    if result.get("summary"):
        lines.append(result["summary"])
    for heading, items in sections(result):
        if not items:
            continue
        lines.append(f"**{heading}**")
        lines += [f"- {escape(i)}" for i in items]
    if link:
        lines.append(f"Full meeting: <{link}>")
    return pack(lines)


def pack(lines: list[str], limit: int = LIMIT) -> list[str]:
    out: list[str] = []
    cur = ""
    for line in lines:
        if len(line) > limit:
            line = line[:limit - 1] + "…"
        if cur and len(cur) + 1 + len(line) > limit:
            out.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        out.append(cur)
    return out


def escape(text: str) -> str:
    """Keep people's words from turning into mentions or markup by accident."""
    return text.replace("@", "@\u200b").replace("```", "`\u200b``")


def transcript_line(speaker: str | None, start: float | None, text: str) -> str:
    return f"`{clock(start)}` **{escape(speaker or 'Someone')}**: {escape(text)}"
