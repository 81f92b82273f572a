"""A connected Notion board kept in step with our tickets: pull what moved in Notion, push a meeting's cards."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.clock import aware, clock
from core.links import meeting_url
from integrations.notion import schema
from integrations.notion.api import BrokenConnection, NotFound, NotionAPI
from integrations.notion.models import NotionCard, NotionConnection
from integrations.notion.schema import CardView, Mapping, build_mapping, read_card
from integrations.notion.store import NEW_OWNER, card_by_onno_id, card_by_ticket, cards
from storage.models import Finding, Meeting, Ticket, TicketHistory, utcnow

log = logging.getLogger(__name__)

GONE = ("The Notion board was deleted, moved to the trash, or is no longer shared with the integration "
        "(404 object_not_found). Share it again or pick another board with `onno notion connect`.")
# Notion rounds last_edited_time down to the minute: a pull asks from this long before the last one began.
EDIT_ROUNDING = dt.timedelta(minutes=1)


def onno_id(meeting_id: int, idx: int) -> str:
    """The stable id of an action item's card, written on the card: a retry finds the card by it."""
    return f"ONNO-{meeting_id}-{idx + 1}"


@dataclass
class SyncReport:
    cards: int = 0  # cards of the board we know, after the pull
    read: int = 0  # cards Notion sent: the whole board on a full pull, else those edited since the last one
    full: bool = True
    new_tickets: list[str] = field(default_factory=list)
    moved: list[tuple[str, str | None, str]] = field(default_factory=list)  # key, from, to
    renamed: list[str] = field(default_factory=list)
    linked: int = 0

    def summary(self) -> str:
        read = "whole board read" if self.full else f"{self.read} edited since the last pull read"
        return (f"{self.cards} cards ({read}): {len(self.new_tickets)} new tickets, {len(self.moved)} moved, "
                f"{len(self.renamed)} renamed, {self.linked} newly linked")


@dataclass
class DeliveryReport:
    created: list[str] = field(default_factory=list)  # onno ids of cards made now
    existing: int = 0  # cards this meeting already had (a retry)
    recovered: list[str] = field(default_factory=list)  # found in Notion after an attempt that died mid-way
    moved: list[tuple[str, str]] = field(default_factory=list)  # key, to
    unmapped: list[str] = field(default_factory=list)  # ticket keys with no card on the board
    sync: SyncReport | None = None


class Board:
    """One connection's board. Network calls happen outside database transactions, each write in its own."""

    def __init__(self, app, api: NotionAPI, connection_id: int):
        self.app, self.api, self.connection_id = app, api, connection_id
        with app.session() as s:
            conn = s.get(NotionConnection, connection_id)
            self.workspace_id, self.data_source_id = conn.workspace_id, conn.data_source_id
            self.overrides = dict(conn.overrides or {})
            self.mapping = Mapping.from_dict(conn.mapping)
        self._users: list[dict] | None = None

    # -- schema -------------------------------------------------------------------------------------------

    def refresh_schema(self) -> Mapping:
        """Read the data source again: a property renamed or added in Notion is picked up before we write."""
        try:
            ds = self.api.data_source(self.data_source_id)
        except NotFound as exc:
            raise BrokenConnection(GONE, status=404) from exc
        if ds.get("in_trash") or ds.get("archived"):
            raise BrokenConnection(GONE, status=404)
        self.mapping = build_mapping(ds, overrides=self.overrides)
        with self.app.session() as s:
            conn = s.get(NotionConnection, self.connection_id)
            if conn.mapping != self.mapping.to_dict():
                conn.mapping = self.mapping.to_dict()
                conn.pull_started_at = None  # cards we skipped or read by the old mapping: read them all again
        return self.mapping

    # -- pull ---------------------------------------------------------------------------------------------

    def pull(self) -> SyncReport:
        """Bring the board's cards into our tickets: what changed in Notion since we last looked wins.

        Notion is asked only for the cards edited since the last complete pull began (kept on the connection,
        so another worker or a restart does the same); a board never pulled is read whole."""
        started = utcnow()
        with self.app.session() as s:
            since = s.get(NotionConnection, self.connection_id).pull_started_at
        flt = None if since is None else edited_since(since - EDIT_ROUNDING)
        try:
            # By page id: a card edited while the pages are read can come twice.
            pages = {p["id"]: p for p in self.api.query(self.data_source_id, filter=flt)}
        except NotFound as exc:
            raise BrokenConnection(GONE, status=404) from exc
        views = [read_card(p, self.mapping) for p in pages.values()]
        report = SyncReport(read=len(views), full=since is None)
        with self.app.session() as s:
            tickets = {t.key: t for t in s.scalars(select(Ticket).where(Ticket.workspace_id == self.workspace_id))}
            by_id = {t.id: t for t in tickets.values()}
            rows = cards(s, self.connection_id)
            by_page = {c.page_id: c for c in rows if c.page_id}
            by_onno = {c.onno_id: c for c in rows if c.onno_id}
            linked = {c.ticket_id for c in rows if c.ticket_id and c.page_id}
            for view in views:
                card = by_page.get(view.page_id)
                if (card is not None and card.ticket_id in by_id and view.title == card.notion_title
                        and view.state in (None, card.notion_status)):
                    continue  # as we last saw or wrote it (our own creates and moves come back edited)
                if card is None and view.onno_id and view.onno_id in by_onno and by_onno[view.onno_id].page_id is None:
                    card = by_onno[view.onno_id]  # created by an attempt that died before recording it
                    card.page_id, card.state = view.page_id, "linked"
                ticket = by_id.get(card.ticket_id) if card is not None and card.ticket_id else None
                if ticket is None:
                    ticket = self._match_ticket(view, tickets, linked)
                    if ticket is None and view.state is None:
                        continue  # a card in a column we do not map, never seen before: leave it be
                    if ticket is None:
                        ticket = self._new_ticket(s, view, tickets, card.finding_id if card is not None else None)
                        report.new_tickets.append(ticket.key)
                        by_id[ticket.id] = ticket
                    elif view.state and ticket.status != view.state:
                        report.moved.append((ticket.key, ticket.status, view.state))
                        self._move_ticket(ticket, view.state)
                    report.linked += 1
                    linked.add(ticket.id)
                else:
                    if view.state and view.state != card.notion_status and view.state != ticket.status:
                        report.moved.append((ticket.key, ticket.status, view.state))
                        self._move_ticket(ticket, view.state)
                    if view.title and view.title != card.notion_title and view.title != ticket.title:
                        ticket.title = view.title
                        report.renamed.append(ticket.key)
                if card is None:
                    card = NotionCard(connection_id=self.connection_id, page_id=view.page_id, state="linked",
                                      attempts=0)
                    s.add(card)
                    by_page[view.page_id] = card
                card.ticket_id = ticket.id
                card.notion_status = view.state or card.notion_status
                card.notion_title = view.title
            conn = s.get(NotionConnection, self.connection_id)
            conn.last_synced_at, conn.pull_started_at = dt.datetime.now(dt.UTC), started
            report.cards = len(by_page)
        return report

    @staticmethod
    def _match_ticket(view: CardView, tickets: dict[str, Ticket], linked: set[int]) -> Ticket | None:
        """A stored ticket this card is, by key, else by a title only one unlinked ticket has."""
        for key in (view.key, view.onno_id):
            if key and key in tickets and tickets[key].id not in linked:
                return tickets[key]
        title = view.title.casefold().strip()
        same = [t for t in tickets.values() if t.id not in linked and t.title.casefold().strip() == title]
        return same[0] if title and len(same) == 1 else None

    def _new_ticket(self, s, view: CardView, tickets: dict[str, Ticket], finding_id: int | None = None) -> Ticket:
        key = view.key or view.onno_id or f"N-{view.page_id.replace('-', '')[:8]}"
        if key in tickets:
            key = f"N-{view.page_id.replace('-', '')[:12]}"
        ticket = Ticket(workspace_id=self.workspace_id, key=key, title=view.title or key,
                        status=view.state or "TODO")
        finding = s.get(Finding, finding_id) if finding_id else None
        if finding is not None:  # our own card, made by an attempt that died before recording it
            ticket.history.append(TicketHistory(meeting_id=finding.meeting_id, from_status=None,
                                                to_status=ticket.status, source="meeting", evidence=finding.text))
        else:
            ticket.history.append(TicketHistory(from_status=None, to_status=ticket.status, source="notion",
                                                evidence="card added in Notion"))
        s.add(ticket)
        s.flush()
        tickets[key] = ticket
        return ticket

    @staticmethod
    def _move_ticket(ticket: Ticket, to: str) -> None:
        ticket.history.append(TicketHistory(from_status=ticket.status, to_status=to, source="notion",
                                            evidence="card moved in Notion"))
        ticket.status = to

    # -- push a meeting -----------------------------------------------------------------------------------

    def deliver(self, *, meeting_id: int, result: dict) -> DeliveryReport:
        """A card for each of the meeting's action items (once, whatever happens), then its ticket moves."""
        report = DeliveryReport()
        with self.app.session() as s:
            meeting = s.get(Meeting, meeting_id)
            title, date = meeting.title, meeting.date
            items = [(f.id, f.idx, dict(f.data)) for f in s.scalars(
                select(Finding).where(Finding.meeting_id == meeting_id, Finding.kind == "action_item")
                .order_by(Finding.idx))]
            known = {c.onno_id: (c.page_id, c.state) for c in cards(s, self.connection_id) if c.onno_id}
        todo, uncertain = [], []
        for finding_id, idx, item in items:
            oid = onno_id(meeting_id, idx)
            page_id, state = known.get(oid, (None, None))
            if page_id and state == NEW_OWNER:
                self._write_owner(oid, page_id, item)
                report.existing += 1
            elif page_id:
                report.existing += 1
            elif state == "creating":
                uncertain.append((finding_id, oid, item))
            else:
                todo.append((finding_id, oid, item))
        if uncertain:
            found = self._look_up(meeting_id, uncertain)
            for finding_id, oid, item in uncertain:
                if oid in found:
                    self._record(found[oid], oid, finding_id, item, meeting_id)
                    report.recovered.append(oid)
                else:
                    todo.append((finding_id, oid, item))
        for finding_id, oid, item in todo:
            if self._create(oid, finding_id, item, meeting_id=meeting_id, meeting_title=title, meeting_date=date,
                            transcript=result.get("transcript", [])):
                report.created.append(oid)
            else:
                report.existing += 1
        for update in result.get("ticket_updates", []):
            self._push_move(update["key"], report)
        return report

    def _look_up(self, meeting_id: int, uncertain: list) -> dict[str, dict]:
        """Cards an earlier attempt may have created without recording them: by Onno ID, else by title."""
        m = self.mapping
        if m.onno_id:
            flt = {"property": m.onno_id, "rich_text": {"starts_with": f"ONNO-{meeting_id}-"}}
            pages = list(self.api.query(self.data_source_id, filter=flt))
            return {v.onno_id: p for p in pages if (v := read_card(p, m)).onno_id}
        found = {}
        for _finding_id, oid, item in uncertain:
            flt = {"property": m.title, "title": {"equals": _title(item)[: schema.MAX_TEXT]}}
            pages = list(self.api.query(self.data_source_id, filter=flt, page_size=10))
            if pages:
                found[oid] = pages[0]
        return found

    def _create(self, oid: str, finding_id: int, item: dict, *, meeting_id: int, meeting_title: str,
                meeting_date: dt.date, transcript: list[dict]) -> bool:
        """Create one card; False when another attempt already holds it. The intent row is written first."""
        try:
            with self.app.session() as s:
                card = card_by_onno_id(s, self.connection_id, oid)
                if card is not None and card.page_id:
                    return False
                if card is None:
                    s.add(NotionCard(connection_id=self.connection_id, onno_id=oid, finding_id=finding_id,
                                     state="creating", attempts=1))
                else:
                    card.attempts += 1
        except IntegrityError:
            return False  # another worker wrote the intent row a moment ago: that attempt creates the card
        properties, children = self._card(oid, item, meeting_id=meeting_id, meeting_title=meeting_title,
                                          meeting_date=meeting_date, transcript=transcript)
        try:
            page = self.api.create_page(self.data_source_id, properties, children)
        except NotFound as exc:
            raise BrokenConnection(GONE, status=404) from exc
        self._record(page, oid, finding_id, item, meeting_id)
        return True

    def _record(self, page: dict, oid: str, finding_id: int, item: dict, meeting_id: int) -> None:
        """Remember the card's page, and put it on our board as a ticket the next meetings can move."""
        view = read_card(page, self.mapping)
        with self.app.session() as s:
            card = card_by_onno_id(s, self.connection_id, oid)
            if card is None:
                card = NotionCard(connection_id=self.connection_id, onno_id=oid, finding_id=finding_id, attempts=0)
                s.add(card)
            other = s.scalar(select(NotionCard).where(NotionCard.connection_id == self.connection_id,
                                                      NotionCard.page_id == view.page_id, NotionCard.id != card.id))
            if other is not None:  # a pull linked the page before this attempt recorded it
                card.ticket_id = card.ticket_id or other.ticket_id
                s.delete(other)
                s.flush()
            card.page_id, card.state = view.page_id, "linked"
            card.finding_id = card.finding_id or finding_id
            card.notion_status, card.notion_title = view.state or "TODO", view.title
            if card.ticket_id is None:
                key = view.key or oid
                ticket = s.scalar(select(Ticket).where(Ticket.workspace_id == self.workspace_id, Ticket.key == key))
                if ticket is None:
                    ticket = Ticket(workspace_id=self.workspace_id, key=key, title=view.title or _title(item),
                                    status=view.state or "TODO")
                    ticket.history.append(TicketHistory(meeting_id=meeting_id, from_status=None,
                                                        to_status=ticket.status, source="meeting",
                                                        evidence=item.get("text", "")))
                    s.add(ticket)
                    s.flush()
                card.ticket_id = ticket.id

    def _card(self, oid: str, item: dict, *, meeting_id: int, meeting_title: str, meeting_date: dt.date,
              transcript: list[dict]) -> tuple[dict, list[dict]]:
        """The card's properties by the board's mapping, and its text: where it came from, linked."""
        m = self.mapping
        settings = self.app.settings
        url = meeting_url(settings, self.workspace_id, meeting_id, at=item.get("start"))
        props: dict = {m.title: schema.title_value(_title(item)), m.status: schema.status_value(m, "TODO")}
        if m.onno_id:
            props[m.onno_id] = schema.text_value(oid)
        if m.key and m.key_type == "rich_text":
            props[m.key] = schema.text_value(oid)
        owner = item.get("owner")
        assignee = self._assignee(owner) if owner else {}
        props.update(assignee)
        owner_in_text = bool(owner) and not assignee
        due, due_in_text = item.get("due"), False
        if due and m.due:
            props[m.due] = {"date": {"start": due}}
        elif due:
            due_in_text = True
        if m.link:
            props[m.link] = {"url": url}
        if m.meeting:
            if m.meeting_type == "select":  # option names may not hold commas
                props[m.meeting] = {"select": {"name": meeting_title.replace(",", " ")[:100]}}
            else:
                props[m.meeting] = schema.text_value(meeting_title)
        at = item.get("start")
        said = _said_at(transcript, at)
        intro = [{"type": "text", "text": {"content": f"From the meeting “{meeting_title}” ({meeting_date:%Y-%m-%d})"
                                                      + (f" at {clock(at)}" if at is not None else "") + ": "}},
                 {"type": "text", "text": {"content": "open this moment in the transcript", "link": {"url": url}}}]
        children: list[dict] = [_block("paragraph", intro)]
        if said:
            children.append(_block("quote", schema.rich_text(said)))
        facts = ([f"Owner: {owner}"] if owner_in_text else []) + ([f"Due: {due}"] if due_in_text else [])
        if facts:
            children.append(_block("paragraph", schema.rich_text(" · ".join(facts))))
        return props, children

    def _assignee(self, owner: str) -> dict:
        """The card properties that say who owns it: the Notion person, else the owner text; {} if neither."""
        m = self.mapping
        user_id = schema.match_user(owner, self.users()) if m.assignee_people else None
        if user_id:
            return {m.assignee_people: {"people": [{"object": "user", "id": user_id}]}}
        if m.assignee_text:
            return {m.assignee_text: schema.text_value(owner)}
        return {}

    def _write_owner(self, oid: str, page_id: str, item: dict) -> None:
        """A card's new owner after a speaker was renamed: the card is updated, never made again."""
        # A board with neither property has the owner in the card's text, which stays as it was written.
        props = self._assignee(item["owner"]) if item.get("owner") else {}
        if props:
            try:
                self.api.update_page(page_id, props)
            except NotFound:
                log.info("card %s of %s is gone from Notion; its owner is not written", page_id, oid)
        with self.app.session() as s:
            card = card_by_onno_id(s, self.connection_id, oid)
            if card is not None and card.state == NEW_OWNER:
                card.state = "linked"

    def users(self) -> list[dict]:
        """The workspace's users, read once per delivery and only when an owner needs matching."""
        if self._users is None:
            self._users = self.api.users()
        return self._users

    def _push_move(self, key: str, report: DeliveryReport) -> None:
        with self.app.session() as s:
            ticket = s.scalar(select(Ticket).where(Ticket.workspace_id == self.workspace_id, Ticket.key == key))
            card = card_by_ticket(s, self.connection_id, ticket.id) if ticket is not None else None
            if card is None:
                report.unmapped.append(key)
                return
            # The ticket as it stands after the pull: a move made in Notion since the meeting is not undone.
            want, page_id, card_id = ticket.status, card.page_id, card.id
            if card.notion_status == want:
                return
        try:
            self.api.update_page(page_id, {self.mapping.status: schema.status_value(self.mapping, want)})
        except NotFound:  # the card was deleted in Notion: forget it rather than fail the meeting
            with self.app.session() as s:
                s.delete(s.get(NotionCard, card_id))
            report.unmapped.append(key)
            return
        with self.app.session() as s:
            s.get(NotionCard, card_id).notion_status = want
        report.moved.append((key, want))


def edited_since(when: dt.datetime) -> dict:
    """Notion's query filter for pages last edited on or after `when` (stored times may come back naive: UTC)."""
    stamp = aware(when).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": stamp}}


def _title(item: dict) -> str:
    return (item.get("text") or "Action item").strip()


def _block(kind: str, text: list[dict]) -> dict:
    return {"object": "block", "type": kind, kind: {"rich_text": text}}


def _said_at(transcript: list[dict], at: float | None) -> str | None:
    """The transcript line at `at`, as "Speaker: words", for the card's quote."""
    if at is None or not transcript:
        return None
    line = next((seg for seg in transcript if seg["start"] <= at < seg["end"]), None)
    if line is None:
        line = min(transcript, key=lambda seg: abs(seg["start"] - at))
    return f"{line['speaker']}: {line['text']}" if line.get("speaker") else line["text"]
