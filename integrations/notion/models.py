"""Notion tables: a workspace's connections to Notion boards, and which Notion page is which card of ours."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class NotionConnection(Base):
    """One Notion board (a database's data source) a workspace delivers to, with its token and mapping."""

    __tablename__ = "notion_connections"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_notion_connection_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="default")  # the argument of `notion:NAME`
    token_encrypted: Mapped[str] = mapped_column(Text)  # Fernet, keyed from the secret key; never stored plain
    # A public integration's refresh token, encrypted the same way; None for an internal integration's token.
    refresh_encrypted: Mapped[str | None] = mapped_column(Text)
    bot_id: Mapped[str | None] = mapped_column(String(64))
    notion_workspace: Mapped[str | None] = mapped_column(String(200))
    database_id: Mapped[str] = mapped_column(String(64))
    data_source_id: Mapped[str] = mapped_column(String(64))
    board_title: Mapped[str] = mapped_column(String(500), default="")
    mapping: Mapped[dict] = mapped_column(default=dict)  # which property is what, status names (schema.Mapping)
    overrides: Mapped[dict] = mapped_column(default=dict)  # what the user configured by hand, kept on refresh
    status: Mapped[str] = mapped_column(String(20), default="ok")  # ok | broken
    broken_reason: Mapped[str | None] = mapped_column(Text)
    broken_at: Mapped[dt.datetime | None] = mapped_column()
    last_synced_at: Mapped[dt.datetime | None] = mapped_column()
    # When the last complete pull began: the next asks Notion only for cards edited since (a minute before, as
    # Notion rounds edit times down to the minute). None: never pulled, or the mapping changed: pull it all.
    pull_started_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotionCard(Base):
    """A Notion page on a connected board and what it is to us: an action item's card, a ticket's card, or both.

    A row with `onno_id` and no `page_id` is a card we set out to create and may or may not have created
    (the process died between the create call and recording its answer): the next attempt looks it up in
    Notion by that id before creating anything.
    """

    __tablename__ = "notion_cards"
    __table_args__ = (UniqueConstraint("connection_id", "page_id", name="uq_notion_card_page"),
                      UniqueConstraint("connection_id", "onno_id", name="uq_notion_card_onno_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("notion_connections.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[str | None] = mapped_column(String(64))
    onno_id: Mapped[str | None] = mapped_column(String(100))  # written in the card's "Onno ID" property
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="linked")  # creating | linked | new_owner
    # The card's status and title in Notion as we last saw or wrote them: a pull applies only what changed
    # in Notion since, so a move a meeting made and is about to deliver is not undone by the pull before it.
    notion_status: Mapped[str | None] = mapped_column(String(20))
    notion_title: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
