"""The meeting page that links from Slack, Notion cards and e-mails open, with a line per transcript moment."""

from __future__ import annotations

import asyncio
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from core.clock import clock
from core.errors import InputError
from core.links import check_meeting_signature
from core.pages import HEADERS
from onno.speakers import rename_speaker
from pipeline.diarize.assign import is_anonymous
from storage import repository as repo

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1f2328}}
h1{{font-size:1.5rem}} .t{{color:#57606a;font-variant-numeric:tabular-nums;text-decoration:none}}
p.line:target{{background:#fff8c5}} li{{margin:.2rem 0}} form.rename{{display:inline;margin-left:.5rem}}
.note{{background:#ddf4ff;padding:.5rem}} .error{{background:#ffebe9;padding:.5rem}}</style></head><body>
<h1>{title}</h1><p class="t">{meta}</p>{body}</body></html>"""


def section(title: str, items: list[str]) -> str:
    return f"<h2>{escape(title)}</h2><ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>" if items else ""


def at(item: dict) -> str:
    start = item.get("start")
    return f' <a class="t" href="#t{int(start)}">{clock(start)}</a>' if start is not None else ""


def speakers_section(result: dict, action: str) -> str:
    """Each speaker with a form to give the right name: "Speaker 2" is Daniel, or the voice was named wrongly."""
    speakers = list(dict.fromkeys(s["speaker"] for s in result["transcript"] if s.get("speaker")))
    forms = [f'<b>{escape(who)}</b><form class="rename" method="post" action="{escape(action)}">'
             f'<input type="hidden" name="old" value="{escape(who)}">'
             f'<input name="new" required maxlength="200" aria-label="New name for {escape(who)}" '
             f'placeholder="{"Who is this?" if is_anonymous(who) else "Rename"}"> <button>Rename</button></form>'
             for who in speakers]
    return section("Speakers", forms)


def meeting_html(result: dict, *, rename_action: str | None = None, message: tuple[str, str] | None = None) -> str:
    """The meeting as a plain page: summary, findings with links to their moment, the transcript; with
    `rename_action` (the signed address renames post to), a form per speaker; `message` is (class, text)."""
    m = result["meeting"]
    parts = [f'<p class="{message[0]}">{escape(message[1])}</p>'] if message else []
    parts.append(f"<p>{escape(result.get('summary') or '')}</p>")
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
    if rename_action:
        parts.append(speakers_section(result, rename_action))
    lines = [f'<p class="line" id="t{int(s["start"])}"><a class="t" href="#t{int(s["start"])}">{clock(s["start"])}'
             f'</a> <b>{escape(s.get("speaker") or "")}</b> {escape(s["text"])}</p>' for s in result["transcript"]]
    parts.append("<h2>Transcript</h2>" + "".join(lines))
    meta = f"{m['date']} · {m['type']} · {clock(m['duration'])}"
    return PAGE.format(title=escape(m["title"]), meta=escape(meta), body="".join(parts))


def add_routes(web_app: web.Application, app) -> None:
    def signed(request: web.Request) -> tuple[int, int, str]:
        """The workspace and meeting a signed link opens; 404 when the signature does not match."""
        ws_id, meeting_id = int(request.match_info["ws"]), int(request.match_info["id"])
        sig = request.query.get("sig", "")
        if not check_meeting_signature(app.settings.resolved_secret_key, ws_id, meeting_id, sig):
            raise web.HTTPNotFound(text="No such meeting, or the link is incomplete.")
        return ws_id, meeting_id, sig

    async def page(ws_id: int, meeting_id: int, sig: str, *, message: tuple[str, str] | None = None,
                   status: int = 200) -> web.Response:
        def load() -> dict | None:
            with app.session() as s:
                ws = repo.workspace_by_id(s, ws_id)
                meeting = repo.get_meeting(s, ws, meeting_id) if ws else None
                return repo.meeting_result_dict(meeting) if meeting else None

        result = await asyncio.to_thread(load)
        if result is None:
            raise web.HTTPNotFound(text="This meeting has been deleted.")
        action = f"/meetings/{ws_id}/{meeting_id}/speakers?{urlencode({'sig': sig})}"
        return web.Response(text=meeting_html(result, rename_action=action, message=message), status=status,
                            content_type="text/html", headers=HEADERS)

    async def show(request: web.Request) -> web.Response:
        ws_id, meeting_id, sig = signed(request)
        renamed = request.query.get("renamed")
        return await page(ws_id, meeting_id, sig, message=("note", renamed[:500]) if renamed else None)

    async def rename(request: web.Request) -> web.Response:
        """A speaker's name from the page's form: the meeting and its Slack, Discord and Notion deliveries follow."""
        ws_id, meeting_id, sig = signed(request)
        form = await request.post()
        old, new = str(form.get("old", "")), str(form.get("new", ""))
        try:
            done = await asyncio.to_thread(rename_speaker, app, meeting_id, old, new, workspace=ws_id)
        except InputError as exc:
            return await page(ws_id, meeting_id, sig, message=("error", f"{exc.problem} {exc.hint}"), status=400)
        except LookupError:
            raise web.HTTPNotFound(text="This meeting has been deleted.") from None
        # After a post, a redirect: reloading the page does not rename again.
        query = urlencode({"sig": sig, "renamed": done.summary()})
        raise web.HTTPSeeOther(f"/meetings/{ws_id}/{meeting_id}?{query}", headers=HEADERS)

    web_app.router.add_get(r"/meetings/{ws:\d{1,18}}/{id:\d{1,18}}", show)
    web_app.router.add_post(r"/meetings/{ws:\d{1,18}}/{id:\d{1,18}}/speakers", rename)
