"""The meeting page that links from Slack, Notion cards and e-mails open, with a line per transcript moment."""

from __future__ import annotations

import asyncio
from html import escape

from aiohttp import web

from core.clock import clock
from core.links import check_meeting_signature
from core.pages import HEADERS
from storage import repository as repo

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1f2328}}
h1{{font-size:1.5rem}} .t{{color:#57606a;font-variant-numeric:tabular-nums;text-decoration:none}}
p.line:target{{background:#fff8c5}} li{{margin:.2rem 0}}</style></head><body>
<h1>{title}</h1><p class="t">{meta}</p>{body}</body></html>"""


def section(title: str, items: list[str]) -> str:
    return f"<h2>{escape(title)}</h2><ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>" if items else ""


def at(item: dict) -> str:
    start = item.get("start")
    return f' <a class="t" href="#t{int(start)}">{clock(start)}</a>' if start is not None else ""


def meeting_html(result: dict) -> str:
    """The meeting as a plain page: summary, findings with links to their moment, the transcript."""
    m = result["meeting"]
    parts = [f"<p>{escape(result.get('summary') or '')}</p>"]
    parts.append(section("Action items", [
        escape(a["text"]) + (f" — <b>{escape(a['owner'])}</b>" if a.get("owner") else "")
        + (f", due {escape(a['due'])}" if a.get("due") else "") + at(a) for a in result.get("action_items", [])]))
    parts.append(section("Decisions", [escape(d["text"]) + at(d) for d in result.get("decisions", [])]))
    parts.append(section("Blockers", [escape(b["text"]) + at(b) for b in result.get("blockers", [])]))
    parts.append(section("Open questions", [escape(q["text"]) + at(q) for q in result.get("questions", [])
                                            if not q.get("answered")]))
    # What the engine was not sure of: shown, never sent; kept or dropped where the meeting is reviewed.
    possible = [(kind, x) for kind, key in (("Action item", "possible_action_items"), ("Decision", "possible_decisions"),
                                             ("Blocker", "possible_blockers")) for x in result.get(key, [])]
    parts.append(section("Possible (not sent: Onno is not sure)", [
        f"{kind}: {escape(x['text'])}" + (f" ({round(x['confidence'] * 100)}%)" if x.get("confidence") is not None
                                           else "") + at(x) for kind, x in possible]))
    lines = [f'<p class="line" id="t{int(s["start"])}"><a class="t" href="#t{int(s["start"])}">{clock(s["start"])}'
             f'</a> <b>{escape(s.get("speaker") or "")}</b> {escape(s["text"])}</p>' for s in result["transcript"]]
    parts.append("<h2>Transcript</h2>" + "".join(lines))
    meta = f"{m['date']} · {m['type']} · {clock(m['duration'])}"
    return PAGE.format(title=escape(m["title"]), meta=escape(meta), body="".join(parts))


def add_routes(web_app: web.Application, app) -> None:
    async def show(request: web.Request) -> web.Response:
        ws_id, meeting_id = int(request.match_info["ws"]), int(request.match_info["id"])
        if not check_meeting_signature(app.settings.resolved_secret_key, ws_id, meeting_id,
                                       request.query.get("sig", "")):
            raise web.HTTPNotFound(text="No such meeting, or the link is incomplete.")

        def load() -> dict | None:
            with app.session() as s:
                ws = repo.workspace_by_id(s, ws_id)
                meeting = repo.get_meeting(s, ws, meeting_id) if ws else None
                return repo.meeting_result_dict(meeting) if meeting else None

        result = await asyncio.to_thread(load)
        if result is None:
            raise web.HTTPNotFound(text="This meeting has been deleted.")
        return web.Response(text=meeting_html(result), content_type="text/html", headers=HEADERS)

    web_app.router.add_get(r"/meetings/{ws:\d{1,18}}/{id:\d{1,18}}", show)
