"""Notion OAuth flows in progress: the state we sent to Notion, then the token waiting for a board to be picked."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, utcnow

STATE_LIFETIME = 600.0  # from the connect link to Notion's redirect back: ten minutes, as Slack's own state
PICK_LIFETIME = 1800.0  # from the redirect to pressing a board's button


class NotionOAuthFlow(Base):
    """One press of "Connect Notion": single-use `state`, then a separate `pick_key` the board form posts back.

    status: pending (sent to Notion) → exchanging → authorized (token kept, board not picked yet) → connecting
    → done; or failed. Each step is taken by one conditional UPDATE, so a replayed callback or a double-clicked
    button finds the row already moved on and does nothing.
    """

    __tablename__ = "notion_oauth_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(64), unique=True)
    pick_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))  # the connection name asked for, if any
    status: Mapped[str] = mapped_column(String(20), default="pending")
    token_encrypted: Mapped[str | None] = mapped_column(Text)  # cleared once the board is connected
    refresh_encrypted: Mapped[str | None] = mapped_column(Text)  # the refresh token that came with it, likewise
    notion_workspace: Mapped[str | None] = mapped_column(String(200))
    duplicated_template_id: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def start(s: Session, workspace_id: int, name: str | None) -> str:
    """A new flow; returns the state to send to Notion."""
    state = secrets.token_urlsafe(32)
    s.add(NotionOAuthFlow(state=state, workspace_id=workspace_id, name=name, status="pending",
                          expires_at=utcnow() + dt.timedelta(seconds=STATE_LIFETIME)))
    return state


def _advance(s: Session, where, to: str, **values) -> bool:
    res = s.execute(update(NotionOAuthFlow).where(*where, NotionOAuthFlow.expires_at > utcnow())
                    .values(status=to, **values).execution_options(synchronize_session=False))
    return res.rowcount == 1


def take_state(s: Session, state: str) -> NotionOAuthFlow | None:
    """The pending flow of this state, now ours alone; None when unknown, expired or already used."""
    if not state or not _advance(s, (NotionOAuthFlow.state == state, NotionOAuthFlow.status == "pending"),
                                 "exchanging"):
        return None
    return s.scalar(select(NotionOAuthFlow).where(NotionOAuthFlow.state == state))


def authorized(s: Session, flow_id: int, *, token_encrypted: str, notion_workspace: str | None,
               duplicated_template_id: str | None, refresh_encrypted: str | None = None) -> str:
    """Keep the tokens until a board is picked; returns the key the board form posts back."""
    pick_key = secrets.token_urlsafe(32)
    s.execute(update(NotionOAuthFlow).where(NotionOAuthFlow.id == flow_id).values(
        status="authorized", pick_key=pick_key, token_encrypted=token_encrypted,
        refresh_encrypted=refresh_encrypted, notion_workspace=notion_workspace,
        duplicated_template_id=duplicated_template_id, expires_at=utcnow() + dt.timedelta(seconds=PICK_LIFETIME)))
    return pick_key


def take_pick(s: Session, pick_key: str) -> NotionOAuthFlow | None:
    """The authorized flow of this form, now ours alone until `release` or `finish`."""
    if not pick_key or not _advance(s, (NotionOAuthFlow.pick_key == pick_key,
                                        NotionOAuthFlow.status == "authorized"), "connecting"):
        return None
    return s.scalar(select(NotionOAuthFlow).where(NotionOAuthFlow.pick_key == pick_key))


def release(s: Session, flow_id: int) -> None:
    """The board could not be connected: the page may offer another one with the same form."""
    s.execute(update(NotionOAuthFlow).where(NotionOAuthFlow.id == flow_id, NotionOAuthFlow.status == "connecting")
              .values(status="authorized"))


def finish(s: Session, flow_id: int, status: str = "done") -> None:
    """Done or failed: the token copies are dropped (a connected board keeps its own, encrypted)."""
    s.execute(update(NotionOAuthFlow).where(NotionOAuthFlow.id == flow_id)
              .values(status=status, token_encrypted=None, refresh_encrypted=None, pick_key=None))


def sweep(s: Session) -> int:
    """Forget flows past their time: nothing can take them any more, and a token a flow abandoned at the board
    page still held goes with it."""
    return s.execute(delete(NotionOAuthFlow).where(NotionOAuthFlow.expires_at < utcnow())).rowcount
