"""The `slack:` target: its check, Block Kit limits, mentions by name, pacing and Slack's errors translated."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from core.errors import InputError
from core.names import owns
from integrations import deliver
from integrations.errors import PermanentError, TransientError
from integrations.slack.adapter import check, target
from integrations.slack.api import ChannelPacer, translate
from integrations.slack.blocks import result_blocks
from integrations.slack.members import MemberIndex
from tests.bots.slack_fake import member


def test_targets_are_checked_at_intake():
    assert deliver.normalise_target(target("C0123ABCD", "1700000000.000100", "F0AB12CD")) == \
        "slack:C0123ABCD/1700000000.000100/F0AB12CD"
    assert check("C0123ABCD/1700000000.000100") is None
    with pytest.raises(InputError):
        deliver.normalise_target("slack:#general")


def a_result(n_items: int) -> dict:
    return {"meeting": {"title": "Weekly <sync>", "type": "standup", "date": "2026-11-16", "duration": 600,
                        "participants": ["Maya"]},
            "summary": "x" * 5000,
            "action_items": [{"text": f"Item {i} & more", "owner": "Lena" if i % 2 else None, "start": i}
                             for i in range(n_items)],
            "questions": [{"text": "Who owns it?", "asked_by": "Maya", "answered": False, "start": 3},
                          {"text": "Done?", "answered": True}],
            "suggested_questions": [{"text": "What is the deadline?", "topic": "timeline"}], "follow_ups": [],
            "decisions": [{"text": "Ship Friday", "start": 9}], "blockers": [],
            "ticket_updates": [{"key": "CHK-1", "from": "TODO", "to": "DONE"}], "metrics": []}


def test_blocks_stay_within_slack_limits_and_escape_markup():
    index = MemberIndex([member("U_LENA", "Lena Novak"), member("U_LENA2", "Lena Other")])
    text, blocks = result_blocks(a_result(40), link="https://onno.test/m/1", item_ids=list(range(100, 140)),
                                 meeting_id=1, mention=index.mention)
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    flat = str(blocks)
    assert "Weekly <sync>" in blocks[0]["text"]["text"]  # plain_text header: no escaping needed
    assert "Item 1 &amp; more" in flat and "<@U_LENA>" not in flat  # two Lenas: no guess
    assert "*Lena*" in flat and "Unanswered questions" in flat and "Done?" not in flat
    assert "`CHK-1` TODO → *DONE*" in flat and "What is the deadline?" in flat
    assert "and 30 more" in flat


def test_mentions_only_for_one_matching_member():
    index = MemberIndex([member("U_MAYA", "Maya Chen"), member("U_DAN", "Daniel Park", display="dan"),
                         {"id": "U_BOT", "name": "maya", "is_bot": True, "profile": {"real_name": "Maya"}}])
    assert index.mention("Maya") == "<@U_MAYA>"
    assert index.mention("maya chen") == "<@U_MAYA>"
    assert index.mention("Dan") == "<@U_DAN>"
    assert index.mention("Priya") is None and index.mention(None) is None
    assert owns("Lena", ["Lena Novak"]) and owns("Lena Novak", ["lena"]) and not owns("Maya", ["Lena Novak"])


def test_pacer_spaces_posts_per_channel():
    pacer = ChannelPacer(interval=1.0)
    assert pacer.reserve("C1") == 0.0
    assert pacer.reserve("C1") == pytest.approx(1.0, abs=0.05)
    assert pacer.reserve("C2") == 0.0


def error(status: int, data: dict, headers: dict | None = None) -> SlackApiError:
    resp = SlackResponse(client=None, http_verb="POST", api_url="https://slack.test/api/chat.postMessage",
                         req_args={}, data=data, headers=headers or {}, status_code=status)
    return SlackApiError("failed", resp)


def test_slack_errors_become_transient_or_permanent():
    limited = translate(error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}), "chat.postMessage")
    assert isinstance(limited, TransientError) and limited.retry_after == 7.0
    assert isinstance(translate(error(503, {"ok": False, "error": "x"}), "m"), TransientError)
    assert isinstance(translate(error(200, {"ok": False, "error": "not_in_channel"}), "m"), PermanentError)
    assert isinstance(translate(error(200, {"ok": False, "error": "token_revoked"}), "m"), PermanentError)
    assert isinstance(translate(ConnectionResetError("reset"), "m"), TransientError)
