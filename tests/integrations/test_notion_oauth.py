"""Connect Notion the one-click way (a public integration's OAuth) through the real `onno web`, `/onno notion`
in Slack through signed requests, and the plan's board limit; Notion is the local fake, checking every request."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.links import notion_connect_url
from integrations.errors import PermanentError
from integrations.notion import grants, service
from integrations.notion.flows import NotionOAuthFlow
from integrations.notion.models import NotionCard, NotionConnection
from integrations.notion.store import decrypt_token
from onno.cli import main
from onno.service import App
from onno.settings import Settings
from storage import repository as repo
from storage import slack as slack_repo
from storage.models import Job, utcnow
from tests.billing.conftest import API_KEY, PRICES, WEBHOOK_SECRET, FakeStripe, event, signed
from tests.bots.conftest import T1, TOKEN1, SlackServer, slack_settings
from tests.bots.slack_fake import FakeSlack, member
from tests.integrations.notion_fake import FakeNotion, NotionServer
from tests.jobs.conftest import wait_for

PUBLIC = "https://onno.test"
SECRET = "test-secret-key-0123456789"


@pytest.fixture
def notion():
    server = NotionServer(FakeNotion())
    fake = server.state
    fake.client_id, fake.client_secret = fake.add_oauth_client(f"{PUBLIC}/notion/oauth/callback")
    fake.maya = fake.add_user("Maya Cohen")
    yield server
    server.close()


def notion_settings(notion: NotionServer) -> dict:
    return {"notion_api_url": notion.url, "notion_rate": 1000, "notion_client_id": notion.state.client_id,
            "notion_client_secret": notion.state.client_secret,
            "notion_oauth_url": f"{notion.url}/v1/oauth/authorize"}


@pytest.fixture
def web(tmp_path, notion):
    """`onno web` for real on a free port, with Notion's public integration configured."""
    servers: list[SlackServer] = []

    def start(**extra) -> SlackServer:
        settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'onno.db'}",
                            secret_key=SECRET, public_url=PUBLIC, **(notion_settings(notion) | extra))
        servers.append(SlackServer(App(settings)))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


class Browser:
    """What a person's browser does: open our link, Notion's page (the fake decides as `user_will` said), and
    come back to our callback. PUBLIC is where our server is for the browser: here, the local port."""

    def __init__(self, server: SlackServer, notion: NotionServer):
        self.server, self.notion = server, notion
        self.http = httpx.Client(follow_redirects=False, timeout=30)
        self.callback_url = ""

    def local(self, url: str) -> str:
        return url.replace(PUBLIC, self.server.url)

    def connect(self, link: str) -> httpx.Response:
        r = self.http.get(self.local(link))
        assert r.status_code == 302, r.text
        authorize = r.headers["location"]
        assert authorize.startswith(f"{self.notion.url}/v1/oauth/authorize?")
        r = self.http.get(authorize)
        assert r.status_code == 302, r.text
        self.callback_url = r.headers["location"]
        assert self.callback_url.startswith(f"{PUBLIC}/notion/oauth/callback?")
        return self.again()

    def again(self) -> httpx.Response:
        """The callback once more: a reload, the back button, or someone replaying it."""
        return self.http.get(self.local(self.callback_url))

    def pick(self, **form) -> httpx.Response:
        return self.http.post(f"{self.server.url}/notion/oauth/pick", data=form)


def pick_key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html)[1]


def listed_boards(html: str) -> list[str]:
    return re.findall(r'name="data_source" value="([^"]+)"', html)


def workspace_id(app: App) -> int:
    with app.session() as s:
        return repo.get_or_create_workspace(s).id


def connections(app: App) -> dict[str, NotionConnection]:
    with app.session() as s:
        rows = list(s.scalars(select(NotionConnection)))
        s.expunge_all()
        return {c.name: c for c in rows}


def token_requests(notion: NotionServer) -> list[dict]:
    return notion.state.calls("POST", r"^/v1/oauth/token$")


# -- the OAuth round trip -----------------------------------------------------------------------------------------

def test_connect_notion_round_trip_with_the_one_board_shared(web, notion, tmp_path):
    fake = notion.state
    db, ds = fake.add_board(title="Checkout board")
    fake.add_card(ds, "Saved payment cards", "In progress")
    fake.user_will(share=[db])
    server = web()
    browser = Browser(server, notion)
    ws = workspace_id(server.app)

    page = browser.connect(notion_connect_url(server.app.settings, ws))
    assert page.status_code == 200, page.text
    assert "Notion is connected" in page.text and "notion:default" in page.text and "Checkout board" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    # What went to Notion's authorize page, as its Authorization guide asks.
    [authorize] = fake.calls("GET", "/v1/oauth/authorize")
    q = authorize["query"]
    assert (q["client_id"], q["response_type"], q["owner"]) == (fake.client_id, "code", "user")
    assert q["redirect_uri"] == f"{PUBLIC}/notion/oauth/callback" and len(q["state"]) >= 32
    [exchange] = token_requests(notion)
    assert exchange["status"] == 200 and exchange["body"]["grant_type"] == "authorization_code"
    assert exchange["body"]["redirect_uri"] == f"{PUBLIC}/notion/oauth/callback"
    # The connection: the OAuth token, encrypted, with the bot and Notion workspace it answered with.
    conn = connections(server.app)["default"]
    [issued] = fake.grants
    assert decrypt_token(SECRET, conn.token_encrypted) == issued
    assert issued.encode() not in (tmp_path / "onno.db").read_bytes()
    assert (conn.data_source_id, conn.bot_id, conn.notion_workspace, conn.status) == (ds, fake.bot["id"], "Acme", "ok")
    with server.app.session() as s:
        flow = s.scalar(select(NotionOAuthFlow))
        assert (flow.status, flow.token_encrypted, flow.pick_key) == ("done", None, None)
    # It works: the board was pulled with the OAuth token, and pulls again.
    with server.app.session() as s:
        assert [t.title for t in repo.list_tickets(s, repo.get_or_create_workspace(s))] == ["Saved payment cards"]
    assert service.sync(server.app, ws).cards == 1

    # The same callback again (a reload, a replay): the state is used up, and Notion is not asked again.
    replay = browser.again()
    assert replay.status_code == 400 and "expired or was already used" in replay.text
    assert "Start again" in replay.text and len(token_requests(notion)) == 1
    # And Notion itself refuses a code a second time.
    code = parse_qs(urlsplit(browser.callback_url).query)["code"][0]
    with pytest.raises(grants.OAuthRefused) as refused:
        grants.exchange_code(server.app.settings, code)
    assert refused.value.error == "invalid_grant" and "used" in refused.value.reason
    assert fake.violations == []


def test_bad_expired_and_forged_states_and_links_say_start_again(web, notion):
    fake = notion.state
    fake.add_board()
    server = web()
    browser = Browser(server, notion)
    ws = workspace_id(server.app)

    bad = browser.http.get(f"{server.url}/notion/oauth/callback?code=whatever&state=not-one-of-ours")
    assert bad.status_code == 400 and "Start again" in bad.text
    no_state = browser.http.get(f"{server.url}/notion/oauth/callback?code=whatever")
    assert no_state.status_code == 400

    # A flow left on Notion's page past its ten minutes.
    r = browser.http.get(browser.local(notion_connect_url(server.app.settings, ws)))
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    with server.app.session() as s:
        s.scalar(select(NotionOAuthFlow).where(NotionOAuthFlow.state == state)).expires_at = utcnow() - dt.timedelta(
            seconds=1)
    expired = browser.http.get(f"{server.url}/notion/oauth/callback?code=whatever&state={state}")
    assert expired.status_code == 400 and "expired" in expired.text
    assert token_requests(notion) == []  # nothing was traded for a token

    # Our connect link, altered or past its day.
    link = notion_connect_url(server.app.settings, ws)
    forged = browser.http.get(browser.local(link.replace(f"/connect/{ws}?", f"/connect/{ws + 1}?")))
    assert forged.status_code == 404 and "not ours" in forged.text
    old = browser.http.get(browser.local(notion_connect_url(server.app.settings, ws, lifetime=-5)))
    assert old.status_code == 404 and "/onno notion" in old.text


def test_cancelling_on_notions_page_gets_a_friendly_page_and_no_token(web, notion):
    fake = notion.state
    fake.add_board()
    fake.user_will(approve=False)
    server = web()
    browser = Browser(server, notion)
    page = browser.connect(notion_connect_url(server.app.settings, workspace_id(server.app)))
    assert page.status_code == 200
    assert "Notion was not connected" in page.text and "cancelled" in page.text and "Nothing changed" in page.text
    assert "error=access_denied" in browser.callback_url
    assert token_requests(notion) == [] and connections(server.app) == {}
    assert browser.again().status_code == 400  # that state is spent too


def test_several_boards_shared_get_a_page_to_pick_one_or_create_a_new_one(web, notion):
    fake = notion.state
    db1, ds1 = fake.add_board(title="Design board")
    db2, ds2 = fake.add_board(title="Checkout board")
    wiki = fake.add_parent_page("Team wiki")
    fake.add_board(title="Not shared")  # the person did not select it: neither listed nor reachable
    fake.user_will(share=[db1, db2, wiki])
    server = web()
    browser = Browser(server, notion)
    ws = workspace_id(server.app)

    page = browser.connect(notion_connect_url(server.app.settings, ws))
    assert page.status_code == 200 and "Pick a Notion board" in page.text
    assert sorted(listed_boards(page.text)) == sorted([ds1, ds2])
    assert "Not shared" not in page.text and "Create a new board" in page.text and "Team wiki" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    key = pick_key(page.text)
    assert connections(server.app) == {}  # nothing connected before a choice

    # A form not ours (no key, a wrong one) does nothing.
    assert browser.pick(key="forged", data_source=ds1).status_code == 400
    assert browser.pick(data_source=ds1).status_code == 400
    done = browser.pick(key=key, data_source=ds2)
    assert done.status_code == 200 and "Checkout board" in done.text and "notion:default" in done.text
    assert connections(server.app)["default"].data_source_id == ds2
    again = browser.pick(key=key, data_source=ds1)  # a double click, or the back button
    assert again.status_code == 400 and set(connections(server.app)) == {"default"}

    # A second flow: a new board made in the shared page, named after its title ("default" is taken).
    fake.user_will(share=[wiki])
    page = browser.connect(notion_connect_url(server.app.settings, ws))
    assert listed_boards(page.text) == [] and "Create a new board" in page.text
    made = browser.pick(key=pick_key(page.text), parent=wiki, title="Meeting action items")
    assert made.status_code == 200 and "notion:meeting-action-items" in made.text
    conn = connections(server.app)["meeting-action-items"]
    assert fake.databases[conn.database_id]["parent"] == {"type": "page_id", "page_id": wiki}
    assert fake.violations == []


def test_a_duplicated_template_is_connected_at_once(web, notion):
    fake = notion.state
    db, _ = fake.add_board(title="Old board")
    fake.user_will(duplicate_template=True, share=[db])
    server = web()
    page = Browser(server, notion).connect(notion_connect_url(server.app.settings, workspace_id(server.app)))
    assert page.status_code == 200 and "Notion is connected" in page.text
    [exchange] = token_requests(notion)
    conn = connections(server.app)["default"]
    assert conn.board_title == "Meeting action items"
    template = next(p for p, t in fake.page_titles.items() if t == "Onno meetings")
    assert fake.data_sources[conn.data_source_id]["database_parent"]["page_id"] == template


def test_nothing_shared_says_what_to_select(web, notion):
    notion.state.add_board()
    notion.state.user_will(share=[])
    server = web()
    page = Browser(server, notion).connect(notion_connect_url(server.app.settings, workspace_id(server.app)))
    assert page.status_code == 200 and "Nothing was shared" in page.text and "select the board" in page.text


def test_reconnecting_a_broken_board_through_oauth_clears_it_and_keeps_its_cards(web, notion):
    fake = notion.state
    db, ds = fake.add_board(title="Checkout board")
    for title in ("Saved payment cards", "Checkout error tracking"):
        fake.add_card(ds, title, "Not started")
    fake.user_will(share=[db])
    server = web()
    browser = Browser(server, notion)
    ws = workspace_id(server.app)
    assert browser.connect(notion_connect_url(server.app.settings, ws)).status_code == 200
    first = connections(server.app)["default"]
    with server.app.session() as s:
        cards_before = sorted((c.id, c.page_id, c.ticket_id) for c in s.scalars(select(NotionCard)))
    assert len(cards_before) == 2

    # Someone removes Onno in Notion's settings: the token is revoked, the next pull breaks the connection.
    fake.tokens.discard(decrypt_token(SECRET, first.token_encrypted))
    with pytest.raises(PermanentError):
        service.sync(server.app, ws)
    broken = connections(server.app)["default"]
    assert broken.status == "broken" and "401" in broken.broken_reason

    fake.user_will(share=[db])
    page = browser.connect(notion_connect_url(server.app.settings, ws, name="default"))
    assert page.status_code == 200 and "notion:default" in page.text
    fixed = connections(server.app)["default"]
    assert (fixed.id, fixed.status, fixed.broken_reason, fixed.broken_at) == (first.id, "ok", None, None)
    assert fixed.token_encrypted != first.token_encrypted
    with server.app.session() as s:
        assert sorted((c.id, c.page_id, c.ticket_id) for c in s.scalars(select(NotionCard))) == cards_before
    assert service.sync(server.app, ws).cards == 2


def test_connect_link_without_a_public_integration_says_how_to_connect_instead(web, notion):
    server = web(notion_client_id="", notion_client_secret="")
    r = httpx.get(Browser(server, notion).local(notion_connect_url(server.app.settings, workspace_id(server.app))))
    assert r.status_code == 404 and "NOTION_CLIENT_ID" in r.text and "/onno notion connect TOKEN" in r.text


# -- Slack ----------------------------------------------------------------------------------------------------------

@pytest.fixture
def fake_slack():
    fake = FakeSlack()
    fake.add_team(T1, TOKEN1, ["C0000GEN1", "C0000DEV1"], [member("U_MAYA", "Maya Chen", admin=True)])
    yield fake
    fake.close()


@pytest.fixture
def slack(tmp_path, fake_slack, notion):
    servers: list[SlackServer] = []

    def start(**overrides) -> SlackServer:
        values = notion_settings(notion) | overrides
        server = SlackServer(App(slack_settings(tmp_path, fake_slack, **values)))
        server.fake_base = fake_slack.base
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()


def answer(fake: FakeSlack, n: int) -> dict:
    wait_for(lambda: len(fake.responses) > n, 15, "the answer")
    return fake.responses[n]["body"]


def test_slash_notion_shows_the_boards_and_a_connect_button_that_works(slack, fake_slack, notion):
    fake = notion.state
    db, _ = fake.add_board(title="Checkout board")
    server = slack()
    assert server.command(T1, "notion").status_code == 200
    body = answer(fake_slack, 0)
    assert body["response_type"] == "ephemeral" and "No Notion board is connected yet" in body["text"]
    FakeSlack._blocks(body)  # Slack's own limits on blocks
    [button] = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Connect Notion" and button["action_id"] == "onno_open_link"
    # Slack also tells us of the click on a link button: it is acknowledged, nothing more.
    click = server.action(T1, {"user": {"id": "U_MAYA", "team_id": T1}, "channel": {"id": "C0000GEN1"},
                               "actions": [{"action_id": "onno_open_link", "block_id": "b", "type": "button",
                                            "value": "notion-connect", "action_ts": "1.2"}]})
    assert click.status_code == 200
    # The button is the signed link for this Slack workspace: it leads through Notion and connects the board.
    fake.user_will(share=[db])
    page = Browser(server, notion).connect(button["url"])
    assert page.status_code == 200 and "Checkout board" in page.text
    with server.app.session() as s:
        assert [c.workspace_id for c in s.scalars(select(NotionConnection))] == [slack_repo.team_workspace(s, T1).id]

    server.command(T1, "notion")
    text = answer(fake_slack, 1)["text"]
    assert "`default`: *Checkout board* in Acme: ✅ working" in text and "/onno settings notion NAME" in text

    # The App Home shows the same, with the button.
    server.event(T1, {"type": "app_home_opened", "user": "U_MAYA", "channel": "D0HOME", "tab": "home"})
    wait_for(lambda: fake_slack.calls_to("views.publish"), 15, "the home view")
    server.drain()
    view = fake_slack.calls_to("views.publish")[-1]["args"]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    home = json.dumps(view)
    assert "Notion boards" in home and "Checkout board" in home and "Connect Notion" in home
    assert not fake_slack.problems


def test_slash_notion_without_oauth_or_public_url_says_how_to_set_it(slack, fake_slack, tmp_path, monkeypatch):
    server = slack(notion_client_id="")
    server.command(T1, "notion")
    text = answer(fake_slack, 0)["text"]
    assert "NOTION_CLIENT_ID" in text and "/onno notion connect TOKEN" in text
    monkeypatch.delenv("ONNO_PUBLIC_URL", raising=False)
    app = App(Settings(data_dir=tmp_path / "d2", database_url=f"sqlite:///{tmp_path / 'two.db'}", secret_key=SECRET,
                       notion_client_id="x", notion_client_secret="y"))
    try:
        with app.session() as s:
            from bots.slack.notion import notion_blocks

            text, blocks = notion_blocks(s, app.settings, slack_repo.team_workspace(s, T1))
        assert "set ONNO_PUBLIC_URL" in text and not any(b["type"] == "actions" for b in blocks)
    finally:
        app.engine.dispose()


def test_slash_notion_connect_with_a_token_answers_privately_and_never_repeats_it(slack, fake_slack, notion):
    fake = notion.state
    token = fake.add_token(f"ntn_{uuid.uuid4().hex}")
    db1, ds1 = fake.add_board(title="Design board")
    server = slack()

    server.command(T1, f"notion connect {token}")  # one board shared with the integration: that one
    body = answer(fake_slack, 0)
    assert body["response_type"] == "ephemeral"
    assert "Connected `default` to *Design board*" in body["text"] and "not posted anywhere" in body["text"]
    assert token not in json.dumps(fake_slack.responses) and fake_slack.calls_to("chat.postMessage") == []

    db2, ds2 = fake.add_board(title="Checkout board")
    server.command(T1, f"notion connect {token}")  # two now: which one?
    text = answer(fake_slack, 1)["text"]
    assert "can see 2 boards" in text and "Checkout board" in text and token not in text
    link = f"<https://www.notion.so/acme/Checkout-{db2.replace('-', '')}?v=1>"  # as Slack escapes a link
    server.command(T1, f"notion connect {token} {link} checkout")
    text = answer(fake_slack, 2)["text"]
    assert "Connected `checkout` to *Checkout board*" in text and token not in text
    with server.app.session() as s:
        assert {c.name: c.data_source_id for c in s.scalars(select(NotionConnection))} == {"default": ds1,
                                                                                          "checkout": ds2}
    server.command(T1, "notion connect ntn_not_a_real_token")
    text = answer(fake_slack, 3)["text"]
    assert text.startswith("Not connected:") and "401" in text and "ntn_not_a_real_token" not in text

    # The channel's meetings go to the board named in its settings.
    server.command(T1, "settings notion checkout")
    assert "Notion: on (`checkout`)" in answer(fake_slack, 4)["text"]
    server.command(T1, "settings notion marketing", channel="C0000DEV1")
    assert "No board `marketing` is connected yet" in answer(fake_slack, 5)["text"]
    from bots.slack.files import channel_delivery

    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    assert channel_delivery(server.app, ws_id, "C0000GEN1").targets == ["notion:checkout"]
    server.command(T1, "notion disconnect checkout")
    assert "Disconnected `checkout`" in answer(fake_slack, 6)["text"]
    assert fake.violations == []


# -- the plan's boards ------------------------------------------------------------------------------------------------

def subscribe(server: SlackServer, stripe: FakeStripe, plan: str) -> None:
    """The plan as Stripe's signed webhook sets it, through the real handler."""
    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    sub = stripe.subscribe(f"sub_{plan}", plan=plan, workspace_id=ws_id)
    body, sig = signed(event(f"evt_{plan}", "customer.subscription.created", sub))
    r = server.http.post("/stripe/webhook", content=body, headers={"Stripe-Signature": sig,
                                                                    "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text


@pytest.fixture
def stripe():
    fake = FakeStripe()
    yield fake
    fake.close()


def billed(slack, stripe: FakeStripe):
    return slack(stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_url=stripe.url,
                 stripe_price_pro=PRICES["pro"], stripe_price_team=PRICES["team"])


def on_plan(plan: str, slack, fake_slack, notion, stripe) -> tuple[SlackServer, str, str, str]:
    """A Slack workspace on `plan` with one board connected, and a second board the token can see."""
    fake = notion.state
    token = fake.add_token(f"ntn_{uuid.uuid4().hex}")
    db1, _ = fake.add_board(title="Design board")
    db2, _ = fake.add_board(title="Checkout board")
    server = billed(slack, stripe)
    subscribe(server, stripe, plan)
    server.command(T1, f"notion connect {token} {db1}")
    assert "Connected `default`" in answer(fake_slack, 0)["text"]
    return server, token, db1, db2


def test_pro_connects_one_board_everywhere_and_reconnecting_it_is_still_allowed(slack, fake_slack, notion, stripe):
    server, token, db1, db2 = on_plan("pro", slack, fake_slack, notion, stripe)

    # Slack: a second board is refused, with the way up.
    server.command(T1, f"notion connect {token} {db2} checkout")
    text = answer(fake_slack, 1)["text"]
    assert "The Pro plan connects 1 Notion board, and this workspace has 1 (`default`)" in text
    assert "Team connects 10 boards: https://onno.test/billing/" in text and "plan=team" in text
    # OAuth: the same refusal on the board page, and nothing connected.
    notion.state.user_will(share=[db2])
    page = Browser(server, notion).connect(notion_connect_url(server.app.settings, _slack_ws(server)))
    assert page.status_code == 200 and "The Pro plan connects 1 Notion board" in page.text
    assert "Pick a Notion board" in page.text
    # Reconnecting the one it has is always allowed (same name, same board).
    server.command(T1, f"notion connect {token} {db1}")
    assert "Connected `default` to *Design board*" in answer(fake_slack, 2)["text"]
    with server.app.session() as s:
        assert [c.name for c in s.scalars(select(NotionConnection))] == ["default"]


def test_team_connects_a_second_board(slack, fake_slack, notion, stripe):
    server, token, _, db2 = on_plan("team", slack, fake_slack, notion, stripe)
    server.command(T1, f"notion connect {token} {db2} checkout")
    assert "Connected `checkout` to *Checkout board*" in answer(fake_slack, 1)["text"]
    server.command(T1, "notion")
    assert "The Team plan connects 10 boards; 2 connected." in answer(fake_slack, 2)["text"]


def test_cli_refuses_a_second_board_on_pro_before_making_it_in_notion(tmp_path, notion, monkeypatch):
    fake = notion.state
    token = fake.add_token(f"ntn_{uuid.uuid4().hex}")
    db1, _ = fake.add_board(title="Design board")
    stripe = FakeStripe()
    try:
        env = {"ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
               "NOTION_API_URL": notion.url, "ONNO_SECRET_KEY": SECRET, "ONNO_NOTION_RATE": "1000",
               "ONNO_PUBLIC_URL": PUBLIC, "STRIPE_API_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "STRIPE_API_URL": stripe.url, "STRIPE_PRICE_PRO": PRICES["pro"], "STRIPE_PRICE_TEAM": PRICES["team"]}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("NOTION_TOKEN", raising=False)
        app = App()
        try:
            from billing.accounts import get_account

            with app.session() as s:  # the plan as a webhook leaves it (the webhook path is tested above)
                acct = get_account(s, repo.get_or_create_workspace(s), create=True)
                acct.plan, acct.status = "pro", "active"
        finally:
            app.engine.dispose()
        runner = CliRunner()
        ok = runner.invoke(main, ["notion", "connect", "--token", token, "--database", db1])
        assert ok.exit_code == 0, ok.output
        before = len(fake.databases)
        refused = runner.invoke(main, ["notion", "create-board", "--parent", fake.add_parent_page(), "--token",
                                       token, "--name", "second"])
        assert refused.exit_code == 1 and "The Pro plan connects 1 Notion board" in refused.output
        assert len(fake.databases) == before
        again = runner.invoke(main, ["notion", "connect", "--token", token, "--database", db1])
        assert again.exit_code == 0, again.output
    finally:
        stripe.close()


def _slack_ws(server: SlackServer) -> int:
    with server.app.session() as s:
        return slack_repo.team_workspace(s, T1).id


def test_two_connects_at_once_cannot_both_take_the_last_board(tmp_path, notion, database_url):
    """The board limit is checked again under the workspace's lock when the connection is stored."""
    import threading

    from billing.accounts import get_account
    from billing.gate import PlanLimit

    fake = notion.state
    token = fake.add_token(f"ntn_{uuid.uuid4().hex}")
    boards = [fake.add_board(title=f"Board {n}")[0] for n in (1, 2)]
    stripe = FakeStripe()
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, notion_api_url=notion.url,
                       secret_key=SECRET, notion_rate=1000, public_url=PUBLIC, stripe_api_key=API_KEY,
                       stripe_api_url=stripe.url))
    try:
        with app.session() as s:
            ws = repo.get_or_create_workspace(s)
            acct = get_account(s, ws, create=True)
            acct.plan, acct.status, ws_id = "pro", "active", ws.id
        start, outcomes = threading.Barrier(2), []

        def connect(name: str, database: str):
            start.wait()
            try:
                service.connect(app, ws_id, token=token, database=database, name=name)
                outcomes.append("connected")
            except PlanLimit as exc:
                outcomes.append(str(exc))

        threads = [threading.Thread(target=connect, args=(f"b{n}", db)) for n, db in enumerate(boards)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        refused = [o for o in outcomes if o != "connected"]
        assert len(outcomes) == 2 and len(refused) == 1 and "The Pro plan connects 1 Notion board" in refused[0]
        assert len(connections(app)) == 1
    finally:
        app.engine.dispose()
        stripe.close()


def test_send_to_notion_from_the_thread_puts_the_cards_on_the_only_board(slack, fake_slack, notion):
    """A channel that does not deliver to Notion by itself: the thread's button sends that meeting's items."""
    from tests.bots.test_slack_files import VTT

    fake = notion.state
    token = fake.add_token(f"ntn_{uuid.uuid4().hex}")
    db, ds = fake.add_board(title="Design board")
    server = slack()
    server.command(T1, f"notion connect {token} {db}")
    assert "Connected `default`" in answer(fake_slack, 0)["text"]
    fake_slack.add_file(T1, "F0SEND0001", "standup.vtt", VTT.encode(), channel="C0000GEN1", share_ts="1.1",
                        mimetype="text/vtt", filetype="vtt")
    server.event(T1, {"type": "file_shared", "file_id": "F0SEND0001", "user_id": "U_MAYA",
                      "channel_id": "C0000GEN1", "file": {"id": "F0SEND0001"}, "event_ts": "1.1"}, event_id="EvSEND")
    wait_for(lambda: any(c["args"].get("blocks") and c["args"].get("thread_ts")
                         for c in fake_slack.calls_to("chat.postMessage")), 60, "the result in the thread")
    assert not [p for p in fake.cards(ds) if fake.value(p, "Onno ID")]  # nothing went to Notion by itself
    with server.app.session() as s:
        meeting_id = s.scalar(select(Job.meeting_id).where(Job.meeting_id.is_not(None)))

    def click():
        r = server.action(T1, {"user": {"id": "U_MAYA", "team_id": T1}, "channel": {"id": "C0000GEN1"},
                               "container": {"type": "message"},
                               "actions": [{"action_id": "onno_send_notion", "value": str(meeting_id),
                                            "type": "button", "action_ts": "2.2"}]})
        assert r.status_code == 200

    def sent() -> bool:
        from storage.models import Delivery

        with server.app.session() as s:
            return s.scalar(select(Delivery.status).where(Delivery.target.like("notion:%"))) == "delivered"

    click()
    wait_for(sent, 30, "the Notion delivery")
    cards = [p for p in fake.cards(ds) if fake.value(p, "Onno ID")]
    click()  # again: said to be sent already, nothing made twice
    wait_for(lambda: any("Already sent there" in (r["body"].get("text") or "") for r in fake_slack.responses), 15,
             "the second answer")
    assert len([p for p in fake.cards(ds) if fake.value(p, "Onno ID")]) == len(cards) > 0
    assert not fake.violations
