"""A Slack workspace's and a Discord server's ticket board: imported from chat (a shared or attached JSON file, or
JSON pasted) or from the CLI with `--workspace`; `/onno tickets` shows it and a meeting's moves reach the chat."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from onno.cli import main
from storage import discord as discord_repo
from storage import repository as repo
from storage import slack as slack_repo
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.conftest import T1, T2, answer
from tests.bots.test_discord_bot import Harness
from tests.bots.test_discord_settings import ADMIN, _closing, upload
from tests.bots.test_slack_files import CHANNEL, VTT, share, thread_replies
from tests.jobs.conftest import wait_for

pytestmark = test_discord_bot.pytestmark

BOARD = [{"key": "ENG-7", "title": "Address form", "status": "IN_PROGRESS"},
         {"key": "ENG-8", "title": "Error page design", "status": "TODO"}]


def tickets_of(app, ws) -> dict[str, tuple[str, str]]:
    with app.session() as s:
        return {t.key: (t.title, t.status) for t in repo.list_tickets(s, ws(s))}


def slack_ws(s):
    return slack_repo.team_workspace(s, T1)


def test_slack_board_from_pasted_json_and_a_shared_file_moves_in_the_thread(slack_server, fake_slack):
    server = slack_server()
    empty = answer(server, fake_slack, "tickets")
    assert empty.startswith("No board yet. A workspace admin imports one with `/onno board import`")
    assert "`onno board import FILE --workspace " in empty

    # Daniel is not an admin: the workspace's board is not his to replace.
    n = len(fake_slack.responses)
    server.command(T1, "board import []", user="U_DANIEL")
    wait_for(lambda: len(fake_slack.responses) > n, 20, "the refusal")
    assert "Only workspace admins and owners can change that" in fake_slack.responses[-1]["body"]["text"]

    # Pasted as Slack sends a command's text: & < > escaped, quotes made curly by a phone.
    pasted = '[{“key”: “ENG-9”, “title”: “Payment &amp; tests”, “status”: “todo”}]'
    assert answer(server, fake_slack, f"board import {pasted}").startswith(
        "Imported 1 tickets: 1 new, 0 updated. `/onno tickets` shows the board")
    assert answer(server, fake_slack, "board import [{\"key\": \"ENG-1\"}]").startswith(
        'Nothing was imported: the pasted board: ticket #1 needs a non-empty "key" and "title".')
    assert answer(server, fake_slack, "board import").startswith("I see no .json file shared in this channel.")

    # A JSON file shared in the channel is not a recording (nothing is said), and `/onno board import` takes it.
    fake_slack.add_file(T1, "F0BOARD001", "board.json", json.dumps(BOARD).encode(), channel=CHANNEL,
                        share_ts="1763900002.000100", mimetype="application/json", filetype="json")
    assert answer(server, fake_slack, "board import").startswith("Imported 2 tickets: 2 new, 0 updated.")
    assert tickets_of(server.app, slack_ws) == {"ENG-9": ("Payment & tests", "TODO"),
                                                "ENG-7": ("Address form", "IN_PROGRESS"),
                                                "ENG-8": ("Error page design", "TODO")}
    with server.app.session() as s:  # another team's board is its own
        assert repo.list_tickets(s, slack_repo.team_workspace(s, T2)) == []
    listed = answer(server, fake_slack, "tickets")
    assert "*IN_PROGRESS* (1)\n• `ENG-7` Address form" in listed

    # Daniel says he finished the address form: the card moves, in the thread and on the board.
    share(server, fake_slack, "F0VTTBOARD", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    [reply] = wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    moves = [b for b in reply["args"]["blocks"] if "Ticket moves" in json.dumps(b)]
    assert [b["text"]["text"].split(" · ")[0] for b in moves] == ["*Ticket moves* (1)\n• `ENG-7` IN_PROGRESS → *DONE*"]
    assert tickets_of(server.app, slack_ws)["ENG-7"] == ("Address form", "DONE")
    assert "• `ENG-7` Address form _(moved IN_PROGRESS → DONE in meeting" in answer(server, fake_slack, "tickets")
    assert not fake_slack.problems


def test_cli_imports_a_chat_workspaces_board_with_workspace(slack_server, fake_slack, tmp_path, monkeypatch):
    server = slack_server()
    with server.app.session() as s:
        ws_id = slack_ws(s).id
    monkeypatch.setenv("ONNO_DATABASE_URL", str(server.app.settings.database_url))
    monkeypatch.setenv("ONNO_DATA_DIR", str(server.app.settings.data_dir))
    board = tmp_path / "board.json"
    board.write_text(json.dumps(BOARD))
    cli = CliRunner()
    out = cli.invoke(main, ["board", "import", str(board), "--workspace", str(ws_id)], catch_exceptions=False)
    assert out.exit_code == 0 and "2 new, 0 updated" in out.output
    listed = cli.invoke(main, ["board", "list", "--workspace", str(ws_id)], catch_exceptions=False).output
    assert "IN_PROGRESS (1)" in listed and "ENG-7" in listed
    assert "The board is empty" in cli.invoke(main, ["board", "list"], catch_exceptions=False).output
    missing = cli.invoke(main, ["board", "import", str(board), "--workspace", "99999"])
    assert missing.exit_code == 1 and "There is no workspace 99999" in missing.output
    assert "*IN_PROGRESS* (1)\n• `ENG-7` Address form" in answer(server, fake_slack, "tickets")


def discord_ws(s):
    return discord_repo.guild_workspace(s, F.GUILD_ID)


def attached(fake: F.FakeDiscord, name: str, content: bytes) -> tuple[list[dict], dict]:
    url = fake.add_file(name, content, "application/json")
    att = {"id": "1300000000000000888", "filename": name, "size": len(content), "url": url, "proxy_url": url,
           "content_type": "application/json"}
    return [{"name": "file", "type": 11, "value": att["id"]}], {"attachments": {att["id"]: att}}


def test_discord_board_from_an_attached_file_and_its_moves_in_the_channel(tmp_path, fake):
    h = Harness(tmp_path, fake)

    async def main():
        await h.start(sync_commands=True)
        [onno] = fake.commands
        command = next(o for o in onno["options"] if o["name"] == "board")
        assert [(o["name"], o["type"], o.get("required")) for o in command["options"]] == [("file", 11, True)]
        empty = await h.command("tickets")
        assert empty.startswith("No board yet. Someone with Manage Server imports one with `/onno board file:`")

        options, resolved = attached(fake, "board.json", json.dumps(BOARD).encode())
        no = await h.command("board", options, resolved=resolved, uid=F.LENA)
        assert "needs **Manage Server**" in no
        bad, bad_resolved = attached(fake, "broken.json", b"[{\"key\": \"ENG-7\", \"title\": \"x\", \"status\": 1}")
        no = await h.command("board", bad, resolved=bad_resolved, permissions=ADMIN)
        assert no.startswith("Nothing was imported: **broken.json** is not valid JSON")
        ok = await h.command("board", options, resolved=resolved, permissions=ADMIN)
        assert ok.startswith("Imported 2 tickets: 2 new, 0 updated.")
        assert "**IN_PROGRESS** (1)\n- `ENG-7` Address form" in await h.command("tickets")

        options, resolved = upload(fake)
        assert "Processing **standup.vtt**" in await h.command("process", options, resolved=resolved)
        await test_discord_bot.until(lambda: not h.bot.tasks, 60, "the job")
        posted = "\n".join(m["content"] for m in fake.in_channel(F.TEXT_ID))
        assert "**Ticket updates**\n- ENG-7: IN\\_PROGRESS → DONE" in posted
        assert "(moved IN_PROGRESS → DONE in meeting" in await h.command("tickets")

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert tickets_of(h.app, discord_ws)["ENG-7"] == ("Address form", "DONE")
    assert not fake.problems, fake.problems
