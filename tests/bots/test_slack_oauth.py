"""Installing into many workspaces: OAuth through our routes, the installation stored encrypted, used per team."""

from __future__ import annotations

import re

from sqlalchemy import select

from integrations.slack.tokens import bot_token
from storage.slack import SlackInstallation
from tests.jobs.conftest import wait_for

T3, TOKEN3 = "T0000CCCC", "xoxb-installed-three"


def oauth_answer() -> dict:
    return {"ok": True, "app_id": "A0ONNO", "authed_user": {"id": "U_ADMIN"}, "token_type": "bot",
            "scope": "chat:write,commands,files:read,users:read", "access_token": TOKEN3, "bot_user_id": "UBOT3",
            "team": {"id": T3, "name": "Gamma"}, "enterprise": None, "is_enterprise_install": False}


def test_install_stores_encrypted_tokens_and_requests_use_them(slack_server, fake_slack):
    fake_slack.add_team(T3, TOKEN3, ["C0000GEN3"])
    server = slack_server(slack_bot_token="", slack_client_id=fake_slack.client_id,
                          slack_client_secret=fake_slack.client_secret)
    page = server.http.get("/slack/install")
    assert page.status_code == 200
    url = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text).group(1)
    assert "client_id=111.222" in url and "chat%3Awrite" in url.replace(":", "%3A")
    state = re.search(r"state=([^&\"]+)", url).group(1)
    cookie = page.headers["set-cookie"].split(";")[0]

    # A forged state is refused, and nothing is stored.
    bad = server.http.get("/slack/oauth_redirect", params={"code": "good-code", "state": "forged"},
                          headers={"Cookie": cookie})
    assert bad.status_code >= 400

    fake_slack.oauth_codes["good-code"] = oauth_answer()
    done = server.http.get("/slack/oauth_redirect", params={"code": "good-code", "state": state},
                           headers={"Cookie": cookie})
    assert done.status_code == 200, done.text
    access = fake_slack.calls_to("oauth.v2.access")
    assert access and access[-1]["auth"].startswith("Basic ")  # client id and secret, as Slack wants them

    with server.app.session() as s:
        row = s.scalar(select(SlackInstallation))
        assert row.team_id == T3 and TOKEN3.encode() not in bytes(row.secret)  # encrypted at rest
    assert bot_token(server.app, T3) == TOKEN3
    assert bot_token(server.app, "T0000AAAA") is None  # a team that never installed gets no token

    # A request from the installed team runs with that team's token.
    server.event(T3, {"type": "app_home_opened", "user": "U_ADMIN", "channel": "D0HOME3", "tab": "home"})
    wait_for(lambda: fake_slack.calls_to("views.publish"), 10, "the home view")
    server.drain()
    assert {c["token"] for c in fake_slack.calls_to("views.publish")} == {TOKEN3}

    # A team without an installation gets nothing done in its name.
    n = len(fake_slack.calls)
    r = server.event("T0000ZZZZ", {"type": "app_home_opened", "user": "U_X", "channel": "D0X", "tab": "home"})
    server.drain()
    assert r.status_code != 500
    assert not [c for c in fake_slack.calls[n:] if c["method"] == "views.publish"]
    assert not fake_slack.problems
