"""An OAuth connection's access token expires: its refresh token renews it on the 401, once for every worker;
a refresh token Notion refuses breaks the connection once, with the advice to reconnect. Connected through the
real OAuth flow (`onno web` and the browser of test_notion_oauth.py); Notion is the local fake throughout."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from core.links import notion_connect_url
from integrations.notion import grants, service
from integrations.notion.store import decrypt_token
from onno.service import App
from onno.settings import Settings
from storage.models import Delivery, utcnow
from storage.notices import TeamNotice
from tests.bots.conftest import SlackServer
from tests.integrations.notion_fake import NotionServer
from tests.integrations.test_notion import ACTIONS, ONNO, STANDUP, action_cards, info, job
from tests.integrations.test_notion_oauth import (  # noqa: F401  (notion and web are fixtures)
    PUBLIC,
    SECRET,
    Browser,
    connections,
    notion,
    notion_settings,
    web,
    workspace_id,
)
from tests.jobs.conftest import redis_server, wait_for  # noqa: F401  (redis_server is a fixture)


@pytest.fixture
def transcript(tmp_path) -> Path:
    path = tmp_path / "standup.txt"
    path.write_text(STANDUP)
    return path


@pytest.fixture
def on_both(tmp_path, notion, database_url):  # noqa: F811
    """`onno web` on SQLite and on PostgreSQL (where two workers really do update one row at once)."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET, public_url=PUBLIC,
                        delivery_backoff=0.05, inline_retry_wait=5, **notion_settings(notion))
    server = SlackServer(App(settings))
    yield server
    server.close()
    server.app.engine.dispose()


def connect_by_oauth(server: SlackServer, notion: NotionServer, *, title: str = "Checkout board"  # noqa: F811
                     ) -> tuple[int, str, str, str, str]:
    """A board shared on Notion's page and connected; (workspace id, database, data source, access, refresh)."""
    fake = notion.state
    db, ds = fake.add_board(title=title)
    fake.user_will(share=[db])
    ws = workspace_id(server.app)
    page = Browser(server, notion).connect(notion_connect_url(server.app.settings, ws))
    assert page.status_code == 200 and "Notion is connected" in page.text, page.text
    conn = connections(server.app)["default"]
    assert conn.refresh_encrypted is not None
    return ws, db, ds, decrypt_token(SECRET, conn.token_encrypted), decrypt_token(SECRET, conn.refresh_encrypted)


def refresh_grants(notion: NotionServer) -> list[dict]:  # noqa: F811
    return [r for r in notion.state.calls("POST", r"^/v1/oauth/token$")
            if (r.get("body") or {}).get("grant_type") == "refresh_token"]


def unauthorized(notion: NotionServer) -> int:  # noqa: F811
    return len([r for r in notion.state.requests if r.get("status") == 401])


def notices(app: App) -> list[TeamNotice]:
    with app.session() as s:
        rows = list(s.scalars(select(TeamNotice).order_by(TeamNotice.id)))
        s.expunge_all()
        return rows


def test_an_expired_token_is_renewed_and_the_meeting_still_becomes_cards(on_both, notion, transcript,  # noqa: F811
                                                                          database_url, tmp_path, caplog):
    fake, app = notion.state, on_both.app
    ws, db, ds, access, refresh = connect_by_oauth(on_both, notion)
    assert fake.refresh_tokens[refresh] == (fake.client_id, access)  # the one Notion issued with the token
    fake.expire(access)

    with caplog.at_level(logging.WARNING):
        job_id = app.runner.submit(transcript, info(), targets=["notion"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "delivered" and d["attempts"] == 1, d["error"]
    assert sorted(fake.value(p, "Name") for p in action_cards(fake, ds)) == sorted(ACTIONS)

    # One refresh, as Notion's token endpoint takes it; the expired token was answered 401 once, not again.
    [grant] = refresh_grants(notion)
    assert grant["status"] == 200 and grant["body"] == {"grant_type": "refresh_token", "refresh_token": refresh}
    assert unauthorized(notion) == 1
    # The request answered 401 went again with the new token in the same client: the pull before matching
    # (where the 401 came) went through, nothing failed on the way.
    assert [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith("integrations")] == []
    # The new pair is stored, encrypted; the spent refresh token is gone from Notion, the new one works.
    conn = connections(app)["default"]
    new_access, new_refresh = decrypt_token(SECRET, conn.token_encrypted), decrypt_token(SECRET, conn.refresh_encrypted)
    assert new_access != access and new_access in fake.tokens
    assert new_refresh != refresh and fake.refresh_tokens[new_refresh] == (fake.client_id, new_access)
    assert refresh not in fake.refresh_tokens
    if database_url.startswith("sqlite"):
        stored = (tmp_path / "onno.db").read_bytes()
        assert new_access.encode() not in stored and new_refresh.encode() not in stored
    # Nothing broke and nobody was told anything.
    assert (conn.status, conn.broken_reason) == ("ok", None)
    assert notices(app) == []

    # The next pull goes straight out with the renewed token.
    assert service.sync(app, ws).cards >= 3
    assert len(refresh_grants(notion)) == 1 and unauthorized(notion) == 1
    assert fake.violations == []
    with pytest.raises(grants.OAuthRefused) as spent:  # and Notion itself refuses the spent refresh token
        grants.refresh_grant(app.settings, refresh)
    assert spent.value.error == "invalid_grant"


def test_two_workers_on_the_expired_token_at_once_spend_one_refresh_grant(on_both, notion):  # noqa: F811
    fake, app = notion.state, on_both.app
    ws, _db, _ds, access, _refresh = connect_by_oauth(on_both, notion)
    fake.expire(access)
    fake.hold_refresh = 1  # the first grant is answered only once both workers have had their 401
    results: dict[int, object] = {}

    def worker(i: int) -> None:
        try:
            with service.connection_api(app, ws, "default") as (_cid, api):
                results[i] = api.me()["id"]
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    wait_for(lambda: unauthorized(notion) == 2 and fake.refresh_arrived.is_set(), 30, "both 401s and a refresh")
    fake.refresh_release.set()
    for t in threads:
        t.join(60)
    assert results == {0: fake.bot["id"], 1: fake.bot["id"]}
    [grant] = refresh_grants(notion)
    assert grant["status"] == 200
    conn = connections(app)["default"]
    assert decrypt_token(SECRET, conn.token_encrypted) in fake.tokens and conn.status == "ok"
    assert decrypt_token(SECRET, conn.refresh_encrypted) in fake.refresh_tokens

    # A worker that read the token before another renewed it: its 401 is answered from the row, no grant spent.
    with service.connection_api(app, ws, "default") as (_cid, late):
        fake.expire(decrypt_token(SECRET, conn.token_encrypted))
        service.sync(app, ws)  # renews it (a second grant)
        assert len(refresh_grants(notion)) == 2
        assert late.me()["id"] == fake.bot["id"]  # 401 with the old token, then the renewed one
    assert len(refresh_grants(notion)) == 2
    assert fake.oauth_errors == [] and fake.violations == []


def test_two_processes_take_turns_through_redis(tmp_path, notion, redis_server, web):  # noqa: F811
    """`onno notion sync` in two processes with a Redis broker: one refresh grant between them."""
    fake = notion.state
    server = web()
    _ws, _db, _ds, access, _refresh = connect_by_oauth(server, notion)
    fake.expire(access)
    fake.hold_refresh = 1
    env = {**os.environ, "ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": f"sqlite:///{tmp_path / 'onno.db'}",
           "ONNO_SECRET_KEY": SECRET, "ONNO_BROKER_URL": redis_server.url, "NOTION_API_URL": notion.url,
           "ONNO_NOTION_RATE": "1000", "NOTION_CLIENT_ID": fake.client_id, "NOTION_CLIENT_SECRET": fake.client_secret}
    procs = [subprocess.Popen([str(ONNO), "notion", "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    try:
        wait_for(lambda: unauthorized(notion) == 2 and fake.refresh_arrived.is_set(), 60, "both 401s and a refresh")
    finally:
        fake.refresh_release.set()
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("Pulled 'default'" in out for out, _err in outs)
    assert len(refresh_grants(notion)) == 1 and fake.oauth_errors == []
    conn = connections(server.app)["default"]
    assert decrypt_token(SECRET, conn.token_encrypted) in fake.tokens and conn.status == "ok"


def test_a_refresh_token_notion_refuses_breaks_the_connection_once_saying_to_reconnect(web, notion,  # noqa: F811
                                                                                       transcript):
    fake = notion.state
    server = web(delivery_backoff=0.05, inline_retry_wait=5)
    app = server.app
    _ws, _db, ds, access, refresh = connect_by_oauth(server, notion, title="Sprint board")
    fake.revoke(access)  # the person removed Onno in Notion: access and refresh token both stop

    first = app.runner.submit(transcript, info(), targets=["notion"])
    second = app.runner.submit(transcript, info("Next standup"), targets=["notion"])
    [d1], [d2] = job(app, first)["deliveries"], job(app, second)["deliveries"]
    assert d1["status"] == "failed" and d1["attempts"] == 1
    assert "expired or was revoked" in d1["error"] and "Connect Notion" in d1["error"] and "/onno notion" in d1["error"]
    assert d2["status"] == "failed" and "broken since" in d2["error"] and "reported then" in d2["error"]
    # One refresh was tried (and refused); the broken connection then sent nothing at all.
    [grant] = refresh_grants(notion)
    assert grant["status"] == 400 and grant["body"]["refresh_token"] == refresh
    assert fake.oauth_errors and fake.oauth_errors[0].startswith("invalid_grant")
    conn = connections(app)["default"]
    assert conn.status == "broken" and "/onno notion" in conn.broken_reason
    [notice] = notices(app)
    assert notice.kind == "notion_broken" and "“Sprint board”" in notice.text and "revoked" in notice.text
    assert action_cards(fake, ds) == []

    # Reconnecting through Connect Notion clears it, with a fresh pair.
    fake.user_will(share=[conn.database_id])
    page = Browser(server, notion).connect(notion_connect_url(app.settings, workspace_id(app), name="default"))
    assert page.status_code == 200 and "notion:default" in page.text
    fixed = connections(app)["default"]
    assert fixed.status == "ok" and decrypt_token(SECRET, fixed.refresh_encrypted) in fake.refresh_tokens
    assert fake.violations == []


def test_notions_token_endpoint_down_leaves_the_delivery_to_retry_and_the_board_connected(web, notion,  # noqa: F811
                                                                                          transcript):
    fake = notion.state
    server = web(delivery_backoff=0.05, inline_retry_wait=0)
    app = server.app
    _ws, _db, ds, access, refresh = connect_by_oauth(server, notion)
    fake.expire(access)
    fake.fail("POST", r"^/v1/oauth/token$", 503, times=50)

    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    with app.session() as s:
        d = s.scalar(select(Delivery).where(Delivery.job_id == job_id))
        assert d.status == "pending" and "503" in d.last_error and "token refresh" in d.last_error
        delivery_id = d.id
    conn = connections(app)["default"]
    assert conn.status == "ok" and decrypt_token(SECRET, conn.refresh_encrypted) == refresh  # nothing spent
    assert notices(app) == []

    fake.faults.clear()  # Notion is back: the outbox's retry, when due, renews the token and delivers
    with app.session() as s:
        s.get(Delivery, delivery_id).next_attempt_at = utcnow()
    app.runner.deliver(delivery_id)
    with app.session() as s:
        d = s.get(Delivery, delivery_id)
        assert (d.status, d.attempts) == ("delivered", 2), d.last_error
    assert sorted(fake.value(p, "Name") for p in action_cards(fake, ds)) == sorted(ACTIONS)
    assert [g["status"] for g in refresh_grants(notion)][-1] == 200


def test_an_internal_token_with_a_401_still_breaks_as_before_and_replaces_an_oauth_pair(web, notion,  # noqa: F811
                                                                                        transcript):
    fake = notion.state
    server = web(delivery_backoff=0.05, inline_retry_wait=5)
    app = server.app
    ws, db, _ds, _access, _refresh = connect_by_oauth(server, notion)
    # Connected again with an internal integration's secret: the OAuth refresh token is not kept.
    internal = fake.add_token("ntn_internal_secret")
    service.connect(app, ws, token=internal, database=db)
    conn = connections(app)["default"]
    assert decrypt_token(SECRET, conn.token_encrypted) == internal and conn.refresh_encrypted is None

    fake.tokens.discard(internal)  # revoked in Notion
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "failed" and "401" in d["error"] and "revoked" in d["error"]
    assert refresh_grants(notion) == []  # nothing to refresh an internal token with
    assert connections(app)["default"].status == "broken"
    assert [n.kind for n in notices(app)] == ["notion_broken"]
