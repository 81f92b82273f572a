"""SMTP sending on its own: the ONNO_SMTP_URL forms against a real server with STARTTLS, login, implicit TLS."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest

from integrations.email import compose
from integrations.email.adapter import check
from integrations.email.smtp import RecipientFailed, SmtpConfig, SmtpSession
from integrations.errors import PermanentError, TransientError
from tests.integrations.mailbox import Mailbox, self_signed, server_tls


def a_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "onno@onno.test", "maya@example.com", "Hello"
    msg.set_content("Hello, Maya.")
    return msg


@pytest.fixture
def trusted_cert(tmp_path, monkeypatch):
    """A self-signed certificate the client trusts, as a private CA bundle would be (SSL_CERT_FILE)."""
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return server_tls(cert, key)


def test_smtp_url_forms():
    assert SmtpConfig.from_url("smtp://user%40corp:p%3Ass@mail.example.com:587") == SmtpConfig(
        host="mail.example.com", port=587, username="user@corp", password="p:ss")
    assert SmtpConfig.from_url("smtps://mail.example.com") == SmtpConfig(host="mail.example.com", port=465,
                                                                         implicit_tls=True)
    assert SmtpConfig.from_url("smtp://relay").port == 25
    for bad in ("http://mail.example.com", "smtp://", "mail.example.com:25", "smtp://host:99999"):
        with pytest.raises(ValueError):
            SmtpConfig.from_url(bad)


def test_targets_are_participants_or_one_address():
    assert check("participants") is None and check("maya@example.com") is None
    for bad in ("nobody", "maya@", "@example.com", "maya@localhost", "a b@example.com", "x@y.com,z@w.com"):
        assert check(bad), bad


def test_starttls_and_login(trusted_cert):
    box = Mailbox(auth=True, tls_context=trusted_cert, require_starttls=True).start()
    try:
        with SmtpSession(SmtpConfig.from_url(f"smtp://onno:s3cret@127.0.0.1:{box.port}")) as smtp:
            reply = smtp.send(a_message(), sender="onno@onno.test", recipient="maya@example.com")
        assert reply.startswith("250 ") and box.logins == [("onno", "PLAIN")]
        assert box.received[0].message["Subject"] == "Hello"
        with pytest.raises(PermanentError, match="refused the login: 535"), \
                SmtpSession(SmtpConfig.from_url(f"smtp://onno:wrong@127.0.0.1:{box.port}")) as smtp:
            smtp.send(a_message(), sender="onno@onno.test", recipient="maya@example.com")
    finally:
        box.stop()


def test_implicit_tls(trusted_cert):
    box = Mailbox(ssl_context=trusted_cert).start()
    try:
        with SmtpSession(SmtpConfig.from_url(f"smtps://127.0.0.1:{box.port}")) as smtp:
            smtp.send(a_message(), sender="onno@onno.test", recipient="maya@example.com")
            smtp.send(a_message(), sender="onno@onno.test", recipient="lena@example.com")  # the same connection
        assert [r.rcpt_to for r in box.received] == [["maya@example.com"], ["lena@example.com"]]
    finally:
        box.stop()


def test_an_untrusted_certificate_is_not_sent_to(tmp_path):
    cert, key = self_signed(tmp_path)  # not in the client's trust store
    box = Mailbox(ssl_context=server_tls(cert, key)).start()
    try:
        with pytest.raises(TransientError, match="could not connect.*CERTIFICATE_VERIFY_FAILED"), \
                SmtpSession(SmtpConfig.from_url(f"smtps://127.0.0.1:{box.port}")) as smtp:
            smtp.send(a_message(), sender="onno@onno.test", recipient="maya@example.com")
        assert box.received == []
    finally:
        box.stop()


def test_replies_are_sorted_into_per_recipient_and_shared_failures():
    box = Mailbox().start()
    box.refuse["gone@example.com"] = "550 5.1.1 mailbox unavailable"
    box.refuse["full@example.com"] = "452 4.2.2 mailbox full"
    try:
        with SmtpSession(SmtpConfig.from_url(box.url)) as smtp:
            with pytest.raises(RecipientFailed) as gone:
                smtp.send(a_message(), sender="onno@onno.test", recipient="gone@example.com")
            with pytest.raises(RecipientFailed) as full:
                smtp.send(a_message(), sender="onno@onno.test", recipient="full@example.com")
            smtp.send(a_message(), sender="onno@onno.test", recipient="maya@example.com")  # still usable after
        assert gone.value.permanent and gone.value.reply == "550 5.1.1 mailbox unavailable"
        assert not full.value.permanent and full.value.code == 452
        assert [r.rcpt_to for r in box.received] == [["maya@example.com"]]
    finally:
        box.stop()


def test_summary_context_groups_owners_reader_first_and_unassigned_last():
    result = {"meeting": {"title": "T", "type": "general", "date": "2026-11-16", "duration": 60.0,
                          "participants": ["Ana", "Ben"]},
              "action_items": [{"text": "a", "owner": None, "due": None, "start": 1.0},
                               {"text": "b", "owner": "Ben", "due": "2027-01-04", "start": 2.0},
                               {"text": "c", "owner": "Ana", "due": "2026-11-20", "start": 3.0},
                               {"text": "d", "owner": "Ben", "due": "soon", "start": None}],
              "summary": "S"}
    ctx = compose.context(result, link=lambda at: f"u#{at}", reader="ben", unsubscribe="x")
    assert [(g.owner, g.you, [line.text for line in g.lines]) for g in ctx["action_groups"]] == [
        ("Ben", True, ["b", "d"]), ("Ana", False, ["c"]), ("Unassigned", False, ["a"])]
    ben = ctx["action_groups"][0].lines
    assert (ben[0].note, ben[0].url, ben[0].time) == ("due Mon 4 Jan 2027", "u#2.0", "0:02")
    assert (ben[1].note, ben[1].url) == ("due soon", None)
    assert ctx["meeting_url"] == "u#None" and ctx["sections"] == []
    assert compose.nice_date("2026-11-20", dt.date(2026, 11, 16)) == "Fri 20 Nov"
