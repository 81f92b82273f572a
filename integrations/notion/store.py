"""Notion connections and cards in the database; integration tokens encrypted at rest."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import keys
from integrations.notion.models import NotionCard, NotionConnection
from storage.models import utcnow


class TokenUnreadable(Exception):
    """The stored token cannot be decrypted: the secret key changed since it was stored."""


def _fernet(secret_key: str) -> Fernet:
    return keys.fernet(secret_key, b"onno/notion-token/v1:")


def encrypt_token(secret_key: str, token: str) -> str:
    return _fernet(secret_key).encrypt(token.encode()).decode()


def decrypt_token(secret_key: str, stored: str) -> str:
    try:
        return _fernet(secret_key).decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise TokenUnreadable("the stored Notion token cannot be decrypted (ONNO_SECRET_KEY changed?)") from exc


# -- connections ------------------------------------------------------------------------------------------

def get_connection(s: Session, workspace_id: int, name: str = "default") -> NotionConnection | None:
    return s.scalar(select(NotionConnection).where(NotionConnection.workspace_id == workspace_id,
                                                   NotionConnection.name == name))


def list_connections(s: Session, workspace_id: int) -> list[NotionConnection]:
    return list(s.scalars(select(NotionConnection).where(NotionConnection.workspace_id == workspace_id)
                          .order_by(NotionConnection.name)))


def mark_broken(s: Session, connection_id: int, reason: str) -> bool:
    """Flag the connection broken; True only for the call that flipped it, so the team is told once."""
    res = s.execute(update(NotionConnection).where(NotionConnection.id == connection_id,
                                                   NotionConnection.status == "ok")
                    .values(status="broken", broken_reason=reason, broken_at=utcnow())
                    .execution_options(synchronize_session=False))
    return res.rowcount == 1


# -- cards ------------------------------------------------------------------------------------------------

def cards(s: Session, connection_id: int) -> list[NotionCard]:
    return list(s.scalars(select(NotionCard).where(NotionCard.connection_id == connection_id)))


# A card whose action item has a new owner (a speaker was renamed): the next delivery writes the owner.
NEW_OWNER = "new_owner"


def mark_new_owner(s: Session, finding_ids: list[int]) -> int:
    """Mark the cards of these action items, on every board, for their new owner; how many there are."""
    if not finding_ids:
        return 0
    res = s.execute(update(NotionCard).where(NotionCard.finding_id.in_(finding_ids), NotionCard.page_id.is_not(None))
                    .values(state=NEW_OWNER).execution_options(synchronize_session=False))
    return res.rowcount


def card_by_onno_id(s: Session, connection_id: int, onno_id: str) -> NotionCard | None:
    return s.scalar(select(NotionCard).where(NotionCard.connection_id == connection_id,
                                             NotionCard.onno_id == onno_id))


def card_by_ticket(s: Session, connection_id: int, ticket_id: int) -> NotionCard | None:
    return s.scalar(select(NotionCard).where(NotionCard.connection_id == connection_id,
                                             NotionCard.ticket_id == ticket_id, NotionCard.page_id.is_not(None))
                    .order_by(NotionCard.id).limit(1))
