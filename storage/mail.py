"""People on file per workspace (who may be e-mailed, and who opted out) and per-recipient e-mail receipts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, Workspace, utcnow


class Person(Base):
    """Someone a workspace can e-mail: matched to meeting participants by name; once opted out, never mailed."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "email", name="uq_person_workspace_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))  # stored lower-cased: one row per mailbox
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


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


def normal_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def add_person(s: Session, workspace: Workspace, name: str, email: str) -> tuple[Person, bool]:
    """Put a person on file, or rename the one with this address; (person, created). An opt-out stays."""
    email = normal_email(email)
    person = person_by_email(s, workspace, email)
    if person is None:
        person = Person(workspace_id=workspace.id, name=" ".join(name.split()), email=email, opted_out=False)
        s.add(person)
        s.flush()
        return person, True
    person.name = " ".join(name.split())
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
    people = list_people(s, workspace_id)
    by_name: dict[str, list[Person]] = {}
    by_first: dict[str, list[Person]] = {}
    for p in people:
        by_name.setdefault(normal_name(p.name), []).append(p)
        by_first.setdefault(normal_name(p.name).split(" ")[0], []).append(p)
    out: dict[str, list[Person]] = {}
    for participant in participants:
        key = normal_name(participant)
        found = by_name.get(key)
        if not found and " " not in key:
            # "Sarah" in a transcript is "Sarah Chen" on file, unless two Sarahs make that a guess
            candidates = by_first.get(key, [])
            if len({normal_name(p.name) for p in candidates}) == 1:
                found = candidates
        out[participant] = found or []
    return out


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


def sends_for(s: Session, delivery_key: str) -> dict[str, EmailSend]:
    """Recipients of this delivery already dealt with, by address."""
    return {r.recipient: r for r in s.scalars(select(EmailSend).where(EmailSend.delivery_key == delivery_key))}


def record_send(s: Session, delivery_key: str, recipient: str, *, status: str, message_id: str,
                reply: str | None = None) -> None:
    s.add(EmailSend(delivery_key=delivery_key, recipient=normal_email(recipient), status=status,
                    message_id=message_id, reply=reply))
    s.flush()
