"""`onno web`: the meeting page that links point to opens only with its signature."""

from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp.test_utils import TestClient, TestServer

from core.links import meeting_url
from onno.service import App
from onno.settings import Settings
from onno.web import make_web_app
from pipeline.types import MeetingInfo
from tests import media


def fetch(app: App, path: str) -> tuple[int, str]:
    async def go():
        async with TestClient(TestServer(make_web_app(app))) as client:
            response = await client.get(path)
            return response.status, await response.text()

    return asyncio.run(go())


def test_meeting_page_links_to_transcript_moments_and_needs_its_signature(tmp_path, database_url):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, public_url="https://onno.test"))
    vtt = media.CORPUS / "dev-01-platform-standup.vtt"
    done = app.process(vtt, MeetingInfo(title="Platform <standup>", type="standup", date=dt.date(2026, 11, 16),
                                        participants=[]))
    item = done.result["action_items"][0]
    url = meeting_url(app.settings, 1, done.meeting_id, at=item["start"])
    assert url.startswith(f"https://onno.test/meetings/1/{done.meeting_id}?sig=") and url.endswith(
        f"#t{int(item['start'])}")
    path = url.removeprefix("https://onno.test").split("#")[0]
    status, html = fetch(app, path)
    assert status == 200
    assert "Platform &lt;standup&gt;" in html and f'id="t{int(item["start"])}"' in html
    assert fetch(app, path[:-4] + "0000")[0] == 404  # a forged or truncated signature opens nothing
    assert fetch(app, path.replace("/meetings/1/", "/meetings/2/"))[0] == 404
    assert fetch(app, "/healthz") == (200, '{"ok": true}')
    app.engine.dispose()


def test_meeting_page_is_never_cached_framed_or_referred(tmp_path):
    """The page behind a signed link sends the same protective headers as every other page we show."""
    app = App(Settings(data_dir=tmp_path / "data", public_url="https://onno.test"))
    done = app.process(media.CORPUS / "dev-01-platform-standup.vtt",
                       MeetingInfo(title="Standup", type="standup", date=dt.date(2026, 11, 16), participants=[]))
    path = meeting_url(app.settings, 1, done.meeting_id).removeprefix("https://onno.test")

    async def go():
        async with TestClient(TestServer(make_web_app(app))) as client:
            return (await client.get(path)).headers

    headers = asyncio.run(go())
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY" and "default-src 'none'" in headers["Content-Security-Policy"]
    app.engine.dispose()


def test_the_meeting_page_shows_possible_findings_apart_with_how_sure_onno_was():
    from onno.web_meetings import meeting_html

    result = {"meeting": {"title": "Sync", "date": "2026-11-16", "type": "general", "duration": 60.0},
              "summary": "", "transcript": [], "action_items": [{"text": "Send the deck", "start": 3.0}],
              "possible_action_items": [{"text": "Maybe <b>book</b> the venue", "confidence": 0.42, "start": 9.0}],
              "possible_decisions": [{"text": "Go with blue", "confidence": 0.55, "start": 12.0}]}
    html = meeting_html(result)
    possible = html.split("Possible (not sent: Onno is not sure)")[1]
    assert "Action item: Maybe &lt;b&gt;book&lt;/b&gt; the venue (42%)" in possible
    assert "Decision: Go with blue (55%)" in possible and "Send the deck" not in possible


def test_a_speaker_is_renamed_from_the_meeting_page_with_its_signed_link(tmp_path, database_url):
    from urllib.parse import unquote_plus

    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, public_url="https://onno.test"))
    source = tmp_path / "meeting.txt"
    source.write_text("[00:00:01] Maya: Can you give us the update on the invoices?\n"
                      "[00:00:05] Speaker 2: Sure. I'll send the invoice report to finance by Friday.\n")
    done = app.process(source, MeetingInfo(title="Sync", type="standup", date=dt.date(2026, 11, 16),
                                           participants=["Maya"]))
    path = meeting_url(app.settings, 1, done.meeting_id).removeprefix("https://onno.test")
    action = path.replace("?", "/speakers?")

    async def go():
        async with TestClient(TestServer(make_web_app(app))) as client:
            page = await (await client.get(path)).text()
            forged = await client.post(action[:-4] + "0000", data={"old": "Speaker 2", "new": "Daniel"})
            unknown = await client.post(action, data={"old": "Speaker 9", "new": "Daniel"})
            unknown_text = await unknown.text()
            renamed = await client.post(action, data={"old": "Speaker 2", "new": "Daniel"}, allow_redirects=False)
            after = await client.get(renamed.headers["Location"])
            return page, forged.status, unknown.status, unknown_text, renamed, await after.text()

    page, forged, unknown, unknown_text, renamed, after = asyncio.run(go())
    assert f'action="{action.replace("&", "&amp;")}"' in page and 'name="old" value="Speaker 2"' in page
    assert forged == 404
    assert unknown == 400 and "no speaker &#x27;Speaker 9&#x27;" in unknown_text
    assert renamed.status == 303 and "Speaker 2 is now Daniel" in unquote_plus(renamed.headers["Location"])
    assert "Speaker 2 is now Daniel" in after and "<b>Daniel</b> Sure." in after
    assert "invoice report to finance" in after.split("Action items")[1] and "— <b>Daniel</b>" in after
    app.engine.dispose()
