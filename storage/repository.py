"""Reading and writing what a workspace owns; every query is scoped to one workspace."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.types import MeetingResult
from pipeline.types import Ticket as BoardTicket
from storage.models import Finding, Meeting, Recording, Ticket, TicketHistory, TranscriptSegment, Workspace

# Result keys stored as findings, and the kind each is stored under.
FINDING_KINDS = {"action_items": "action_item", "questions": "question", "suggested_questions": "suggested_question",
                 "follow_ups": "follow_up",
                 "decisions": "decision", "blockers": "blocker", "ticket_updates": "ticket_update",
                 "metrics": "metric", "unconfirmed_ticket_updates": "unconfirmed_ticket_update",
                 "possible_action_items": "possible_action_item", "possible_decisions": "possible_decision",
                 "possible_blockers": "possible_blocker"}


def get_or_create_workspace(s: Session, name: str = "local", *, platform: str = "cli",
                            external_id: str | None = None) -> Workspace:
    external_id = external_id or name
    ws = s.scalar(select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id))
    if ws is None:
        ws = Workspace(name=name, platform=platform, external_id=external_id)
        s.add(ws)
        s.flush()
    return ws


MAX_ID = 2**63 - 1  # the largest row id either database stores; a larger number names no row


def workspace_by_id(s: Session, workspace_id: int) -> Workspace | None:
    return s.get(Workspace, workspace_id) if 0 < workspace_id <= MAX_ID else None


def resolve_workspace(s: Session, workspace: str | int) -> Workspace:
    """A CLI workspace by name (made on first use), or any workspace by its row id."""
    if isinstance(workspace, int):
        ws = workspace_by_id(s, workspace)
        if ws is None:
            raise LookupError(f"no workspace {workspace}")
        return ws
    return get_or_create_workspace(s, workspace)


def add_recording(s: Session, workspace: Workspace, *, kind: str, filename: str, blob_key: str,
                  size: int) -> Recording:
    rec = Recording(workspace_id=workspace.id, kind=kind, filename=filename, blob_key=blob_key, size=size)
    s.add(rec)
    s.flush()
    return rec


def get_recording(s: Session, workspace: Workspace, recording_id: int) -> Recording | None:
    return s.scalar(select(Recording).where(Recording.id == recording_id, Recording.workspace_id == workspace.id))


def mark_recording(s: Session, recording: Recording, status: str, error: str | None = None) -> None:
    recording.status, recording.error = status, error


def delete_recording(s: Session, recording: Recording) -> None:
    s.delete(recording)


def blob_in_use(s: Session, blob_key: str) -> bool:
    """Whether any recording, in any workspace, still refers to this blob."""
    return bool(s.scalar(select(func.count()).select_from(Recording).where(Recording.blob_key == blob_key)))


def tree_blob_keys(s: Session) -> list[str]:
    """The blob keys of every stored tracks folder (their manifests name the member files)."""
    return list(s.scalars(select(Recording.blob_key).where(Recording.kind == "tracks").distinct()))


def save_meeting(s: Session, workspace: Workspace, result: MeetingResult, *,
                 recording: Recording | None = None) -> Meeting:
    """Store a processed meeting and move the board's cards it updates, with history."""
    info = result.info
    d = result.to_dict()
    meeting = Meeting(workspace_id=workspace.id, recording_id=recording.id if recording else None,
                      title=info.title, type=info.type, date=info.date, duration=d["meeting"]["duration"],
                      language=info.language, participants=list(info.participants), source=result.source,
                      summary=result.findings.summary, engine=d.get("engine"))
    meeting.segments = [TranscriptSegment(idx=i, start=seg["start"], end=seg["end"], speaker=seg["speaker"],
                                          text=seg["text"]) for i, seg in enumerate(d["transcript"])]
    meeting.findings = [Finding(kind=kind, idx=i, start=item.get("start"), speaker=item.get("speaker"),
                                text=item.get("text") or item.get("key") or item.get("name") or "", data=item)
                        for key, kind in FINDING_KINDS.items() for i, item in enumerate(d[key])]
    s.add(meeting)
    s.flush()
    tickets = {t.key: t for t in s.scalars(select(Ticket).where(Ticket.workspace_id == workspace.id))}
    for update in result.findings.ticket_updates:
        ticket = tickets.get(update.key)
        if ticket is None or ticket.status == update.to:
            continue
        ticket.history.append(TicketHistory(meeting_id=meeting.id, from_status=ticket.status, to_status=update.to,
                                            source="meeting", evidence=update.evidence))
        ticket.status = update.to
    s.flush()
    return meeting


def record_meeting(s: Session, workspace: Workspace, result: MeetingResult, *, recording_id: int | None,
                   given_board: list[BoardTicket] | None = None) -> Meeting:
    """A processed meeting's one write: the board the user gave, the meeting and its moves, the recording done."""
    if given_board is not None:
        import_board(s, workspace, given_board)
    recording = get_recording(s, workspace, recording_id) if recording_id else None
    meeting = save_meeting(s, workspace, result, recording=recording)
    if recording is not None:
        mark_recording(s, recording, "processed")
    s.flush()
    return meeting


def list_meetings(s: Session, workspace: Workspace, *, limit: int = 50) -> list[Meeting]:
    """Newest first."""
    q = select(Meeting).where(Meeting.workspace_id == workspace.id).order_by(Meeting.id.desc()).limit(limit)
    return list(s.scalars(q))


def get_meeting(s: Session, workspace: Workspace, meeting_id: int) -> Meeting | None:
    if not 0 < meeting_id <= MAX_ID:
        return None
    return s.scalar(select(Meeting).where(Meeting.id == meeting_id, Meeting.workspace_id == workspace.id))


def meeting_result_dict(meeting: Meeting) -> dict:
    """The stored meeting in the result format, as `MeetingResult.to_dict()` gave it."""
    out: dict = {
        "meeting": {"title": meeting.title, "type": meeting.type, "date": meeting.date.isoformat(),
                    "duration": meeting.duration, "language": meeting.language,
                    "participants": list(meeting.participants), "source": meeting.source},
        "transcript": [{"start": g.start, "end": g.end, "text": g.text, "speaker": g.speaker}
                       for g in meeting.segments],
    }
    by_kind: dict[str, list[Finding]] = {}
    for f in meeting.findings:
        by_kind.setdefault(f.kind, []).append(f)
    for key, kind in FINDING_KINDS.items():
        out[key] = [f.data for f in sorted(by_kind.get(kind, []), key=lambda f: f.idx)]
    out["summary"] = meeting.summary
    if meeting.engine is not None:
        out["engine"] = meeting.engine
    return out


def import_board(s: Session, workspace: Workspace, tickets: list[BoardTicket]) -> tuple[int, int]:
    """Upsert tickets by key; return (created, updated)."""
    existing = {t.key: t for t in s.scalars(select(Ticket).where(Ticket.workspace_id == workspace.id))}
    created = updated = 0
    for t in tickets:
        row = existing.get(t.key)
        if row is None:
            row = Ticket(workspace_id=workspace.id, key=t.key, title=t.title, status=t.status)
            row.history.append(TicketHistory(from_status=None, to_status=t.status, source="import"))
            s.add(row)
            created += 1
            continue
        if (row.title, row.status) == (t.title, t.status):
            continue
        if row.status != t.status:
            row.history.append(TicketHistory(from_status=row.status, to_status=t.status, source="import"))
        row.title, row.status = t.title, t.status
        updated += 1
    s.flush()
    return created, updated


def list_tickets(s: Session, workspace: Workspace) -> list[Ticket]:
    return list(s.scalars(select(Ticket).where(Ticket.workspace_id == workspace.id).order_by(Ticket.id)))


def board(s: Session, workspace: Workspace) -> list[BoardTicket]:
    """The stored board as the pipeline sees it."""
    return [BoardTicket(key=t.key, title=t.title, status=t.status) for t in list_tickets(s, workspace)]


def ticket_history(s: Session, workspace: Workspace, key: str) -> list[TicketHistory]:
    q = (select(TicketHistory).join(Ticket).where(Ticket.workspace_id == workspace.id, Ticket.key == key)
         .order_by(TicketHistory.id))
    return list(s.scalars(q))
