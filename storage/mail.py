"""People on file per workspace (who may be e-mailed, and who opted out) and per-recipient e-mail receipts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import aware
from core.names import called, fold
from pipeline.types import one_line
from storage.models import Base, Workspace, utcnow


class Person(Base):
    """Someone a workspace can e-mail: matched to meeting participants by name; once opted out, never mailed."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "email", name="uq_person_workspace_email"),
                      Index("uq_people_workspace_chat_user", "workspace_id", "chat_user", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))  # stored lower-cased: one row per mailbox
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The Slack or Discord user who put themselves on file (`/onno email`); None for the CLI's and opt-outs' rows.
    chat_user: Mapped[str | None] = mapped_column(String(64))
    # When the inbox's owner proved the address theirs (the mailed link), or the address came from a source we
    # trust (the CLI, a Slack profile); None: typed in chat and not yet confirmed, so never mailed summaries.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()
    confirm_sent_at: Mapped[dt.datetime | None] = mapped_column()  # the last confirmation mail: resends wait


class EmailSend(Base):
    """What happened to one recipient of one delivery: the record that keeps a retry from mailing them twice."""

    __tablename__ = "email_sends"
    __table_args__ = (UniqueConstraint("delivery_key", "recipient", name="uq_email_send_key_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_key: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))  # sent | rejected (a 5xx for this address)
    message_id: Mapped[str] = mapped_column(String(400))
    reply: Mapped[str | None] = mapped_column(Text)  # the server's answer, e.g. "550 5.1.1 no such user"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def normal_email(address: str) -> str:
    return address.strip().lower()


def add_person(s: Session, workspace: Workspace, name: str, email: str) -> tuple[Person, bool]:
    """Put a person on file, or rename the one with this address; (person, created). An opt-out stays."""
    email = normal_email(email)
    person = person_by_email(s, workspace, email)
    if person is None:
        person = Person(workspace_id=workspace.id, name=" ".join(name.split()), email=email, opted_out=False,
                        confirmed_at=utcnow())
        s.add(person)
        s.flush()
        return person, True
    person.name = " ".join(name.split())
    person.confirmed_at = person.confirmed_at or utcnow()  # whoever runs Onno vouches for it
    return person, False


def remove_person(s: Session, workspace: Workspace, email: str) -> bool:
    person = person_by_email(s, workspace, email)
    if person is None:
        return False
    s.delete(person)
    return True


def person_by_email(s: Session, workspace: Workspace | int, email: str) -> Person | None:
    ws_id = workspace if isinstance(workspace, int) else workspace.id
    return s.scalar(select(Person).where(Person.workspace_id == ws_id, Person.email == normal_email(email)))


def list_people(s: Session, workspace: Workspace | int) -> list[Person]:
    ws_id = workspace if isinstance(workspace, int) else workspace.id
    return list(s.scalars(select(Person).where(Person.workspace_id == ws_id).order_by(Person.name, Person.email)))


def people_for_participants(s: Session, workspace_id: int, participants: list[str]) -> dict[str, list[Person]]:
    """Each participant's people on file: the same name (any case), else the only person with that first name."""
    people = [(p.name, p) for p in list_people(s, workspace_id)]
    out: dict[str, list[Person]] = {}
    for participant in participants:
        found = called(participant, people)
        # "Sarah" in a transcript is "Sarah Chen" on file, unless two Sarahs make that a guess
        out[participant] = found if len({fold(p.name) for p in found}) == 1 else []
    return out


def mailable(person: Person) -> bool:
    """Gets summaries and digests: not opted out, and the address confirmed."""
    return not person.opted_out and person.confirmed_at is not None


def opt_out(s: Session, workspace_id: int, email: str) -> Person:
    """Never mail this address from this workspace again; remembered even for an address not on file."""
    email = normal_email(email)
    person = person_by_email(s, workspace_id, email)
    if person is None:
        person = Person(workspace_id=workspace_id, name=email.split("@")[0], email=email)
        s.add(person)
    if not person.opted_out:
        person.opted_out, person.opted_out_at = True, utcnow()
    s.flush()
    return person


# -- self-service from chat (`/onno email`): a member puts only themselves on file, or takes themselves off ----------


@dataclass
class Outcome:
    """What `/onno email` did: `kind` says which, `person` is the row it is about (None when there is none)."""

    # added | updated | resubscribed | pending (a typed address, to be confirmed by mail) | unsubscribed | taken |
    # listed | removed | kept | not_on_file
    kind: str
    person: Person | None = None
    released: list[str] = field(default_factory=list)  # their addresses no longer theirs on file (removed, or untied)


def person_by_chat_user(s: Session, workspace: Workspace | int, chat_user: str) -> Person | None:
    ws_id = workspace if isinstance(workspace, int) else workspace.id
    return s.scalar(select(Person).where(Person.workspace_id == ws_id, Person.chat_user == str(chat_user)))


def chat_people(s: Session, workspace: Workspace | int, chat_user: str, verified_email: str | None) -> list[Person]:
    """A member's rows: the one they put on file from chat, and the one with the address their chat profile
    proves is theirs (e.g. put on file with `onno people add`): the chat one first."""
    rows = [person_by_chat_user(s, workspace, chat_user)]
    if verified_email:
        rows.append(person_by_email(s, workspace, verified_email))
    return list({p.id: p for p in rows if p is not None}.values())


def _release(s: Session, person: Person) -> None:
    """Off file, like `remove_person`, except that an opted-out address stays on file (so it stays opted out)."""
    if person.opted_out:
        person.chat_user = None
    else:
        s.delete(person)
    s.flush()


def put_on_file(s: Session, workspace: Workspace, *, chat_user: str, name: str, email: str, verified: bool,
                resubscribe: bool = False) -> Outcome:
    """Put a chat member on file with `email` under `name`, tied to their chat user id.

    `verified`: the chat service says the address is theirs (their Slack profile's). Only then may they take over
    a row someone else put on file, or undo an unsubscribe here (`resubscribe`), and only then is the row
    confirmed at once. A typed address can't be proven to be the member's: it never changes another's row, and
    is put on file unconfirmed ("pending"), an address that unsubscribed staying so, until the inbox's owner
    follows the mailed confirmation link (integrations.email.confirm).
    """
    email, name, chat_user = normal_email(email), " ".join(name.split()), str(chat_user)
    try:
        with s.begin_nested():  # all or nothing, so a clash leaves the old address on file
            return _put_on_file(s, workspace, chat_user, name, email, verified, resubscribe)
    except IntegrityError:  # the same member, or the same address, twice at once: decide again, seeing theirs
        with s.begin_nested():
            return _put_on_file(s, workspace, chat_user, name, email, verified, resubscribe)


def _put_on_file(s: Session, workspace: Workspace, chat_user: str, name: str, email: str, verified: bool,
                 resubscribe: bool) -> Outcome:
    mine = person_by_chat_user(s, workspace, chat_user)
    row = person_by_email(s, workspace, email)
    if row is not None and row is not mine and not verified and (row.chat_user or not row.opted_out):
        return Outcome("taken" if row.chat_user else "listed", row)
    if row is not None and row.opted_out and verified and not resubscribe:
        return Outcome("unsubscribed", row)
    released: list[str] = []
    if mine is not None and mine is not row:  # a new address: the old one goes (one row per member)
        released.append(mine.email)
        _release(s, mine)
    if row is None:
        row = Person(workspace_id=workspace.id, name=one_line(name), email=email, opted_out=False, chat_user=chat_user,
                     confirmed_at=utcnow() if verified else None)
        s.add(row)
        s.flush()
        return Outcome("added" if verified else "pending", row, released)
    row.name, row.chat_user = name, chat_user
    if not verified and (row.opted_out or row.confirmed_at is None):
        # Unsubscribed (or never confirmed): it stays so until the inbox's owner confirms by mail.
        row.confirmed_at = None
        s.flush()
        return Outcome("pending", row, released)
    kind = "resubscribed" if row.opted_out else "updated"
    row.opted_out, row.opted_out_at = False, None
    row.confirmed_at = row.confirmed_at or utcnow()
    s.flush()
    return Outcome(kind, row, released)


def confirmable(person: Person | None, issued: dt.datetime) -> bool:
    """Whether a confirmation link mailed at `issued` may still confirm this row: not when the row was put on file
    after it, nor when the address unsubscribed after it (an old link brings nothing back)."""
    if person is None:
        return False
    since, created = aware(person.opted_out_at), aware(person.created_at)
    if person.opted_out and since is not None and since > issued:
        return False
    return created is None or created <= issued + dt.timedelta(seconds=1)


def confirm(s: Session, workspace_id: int, email: str, issued: dt.datetime) -> Person | None:
    """The inbox's owner followed the link mailed at `issued`: mail this address (again); None if it may not."""
    person = person_by_email(s, workspace_id, email)
    if not confirmable(person, issued):
        return None
    person.opted_out, person.opted_out_at = False, None
    person.confirmed_at = person.confirmed_at or utcnow()
    s.flush()
    return person


def claim_confirm_slot(s: Session, workspace_id: int, email: str, *, every: dt.timedelta) -> bool:
    """Take the right to mail this address a confirmation now: at most one per `every`, even when asked twice
    at once (one conditional UPDATE)."""
    now = utcnow()
    done = s.execute(update(Person).where(
        Person.workspace_id == workspace_id, Person.email == normal_email(email), Person.confirmed_at.is_(None),
        or_(Person.confirm_sent_at.is_(None), Person.confirm_sent_at <= now - every)).values(confirm_sent_at=now))
    return done.rowcount == 1


def release_confirm_slot(s: Session, workspace_id: int, email: str) -> None:
    """The confirmation could not be sent: a new request may try again at once."""
    s.execute(update(Person).where(Person.workspace_id == workspace_id, Person.email == normal_email(email))
              .values(confirm_sent_at=None))


def take_off_file(s: Session, workspace: Workspace, *, chat_user: str, verified_email: str | None = None) -> Outcome:
    """Take a chat member's rows off file; an address that unsubscribed stays (untied), so it stays unsubscribed."""
    rows = chat_people(s, workspace, str(chat_user), verified_email)
    if not rows:
        return Outcome("not_on_file")
    kept = [p for p in rows if p.opted_out]
    for p in rows:
        _release(s, p)
    return Outcome("kept" if kept else "removed", kept[0] if kept else None,
                   [p.email for p in rows if not p.opted_out])


def sends_for(s: Session, delivery_key: str) -> dict[str, EmailSend]:
    """Recipients of this delivery already dealt with, by address."""
    return {r.recipient: r for r in s.scalars(select(EmailSend).where(EmailSend.delivery_key == delivery_key))}


def record_send(s: Session, delivery_key: str, recipient: str, *, status: str, message_id: str,
                reply: str | None = None) -> None:
    s.add(EmailSend(delivery_key=delivery_key, recipient=normal_email(recipient), status=status,
                    message_id=message_id, reply=reply))
    s.flush()
