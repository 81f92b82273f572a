"""A speaker renamed after delivery: the Notion cards get the new assignee, updated in place, never made again."""

from __future__ import annotations

from sqlalchemy import select

from onno.speakers import rename_speaker
from storage.models import Delivery
from tests.integrations.test_notion import action_cards, app, board, connect, info, job, notion  # noqa: F401

MIXED = """\
[00:00:01] Maya: Morning everyone. Quick update on saved payment cards: that is finished and merged.
[00:00:09] Speaker 2: Great. I will write the release notes for the payment cards by Friday.
[00:00:17] Lena: I'll fix the flaky checkout test tomorrow.
"""


def test_renaming_the_owner_updates_the_card_s_assignee_and_creates_no_card(app, notion, board, tmp_path):  # noqa: F811
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    source = tmp_path / "standup.txt"
    source.write_text(MIXED)
    job_id = app.runner.submit(source, info(), targets=["notion"])
    meeting_id = job(app, job_id)["meeting_id"]
    notes = next(p for p in action_cards(fake, ds) if fake.value(p, "Name").startswith("Write the release notes"))
    assert fake.value(notes, "Assignee") == []  # "Speaker 2" is nobody in Notion
    creates = len(fake.calls("POST", "^/v1/pages$"))

    done = rename_speaker(app, meeting_id, "Speaker 2", "Daniel")

    assert done.lines == 1 and done.findings >= 1 and done.redelivered == ["notion:default"]
    assert job(app, job_id)["deliveries"][0]["status"] == "delivered"
    notes = fake.pages[notes["id"]]
    assert fake.value(notes, "Assignee") == [fake.daniel]
    assert len(fake.calls("POST", "^/v1/pages$")) == creates and len(action_cards(fake, ds)) == 2
    assert fake.violations == []
    # Renaming to the same name changes nothing and sends nothing again.
    assert rename_speaker(app, meeting_id, "Daniel", "Daniel").redelivered == []
    with app.session() as s:
        assert s.scalar(select(Delivery).where(Delivery.job_id == job_id)).status == "delivered"
