"""`/onno status` for both bots: what is processing, the last meeting, the plan and minutes left, and which
integrations are connected, as one model each platform draws with its own markup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from billing.report import plan_lines, plan_summary
from core.links import meeting_url
from integrations.notion.store import list_connections
from storage import jobs as jobs_repo
from storage import repository as repo

OPEN = ("queued", "running")


@dataclass
class Status:
    processing: list[tuple[str, str]]  # (the recording's name, how far it is)
    last_meeting: tuple[str, str, str] | None  # (title, date, link)
    plan: list[str]  # the plan's lines (billing.report)
    integrations: list[str]


def job_state(job) -> str:
    """How far a job is, in words."""
    if job.status == "running" and job.step == "transcribe":
        return f"transcribing… {int(job.progress * 100)}%"
    if job.status == "running":
        return "finding action items…"
    return job.status


def workspace_status(app, ws_id: int, *, platform: str, bold: str, link: Callable[[str], str]) -> Status:
    """The workspace's status as it stands now; `platform` names the chat app in the integrations list."""
    settings = app.settings
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        jobs = [j for j in jobs_repo.list_jobs(s, ws, limit=50) if j.status in OPEN]
        processing = [(j.source_name or j.options.get("title") or j.id, job_state(j)) for j in jobs]
        meetings = repo.list_meetings(s, ws, limit=1)
        last = None
        if meetings:
            m = meetings[0]
            last = (m.title, m.date.isoformat(), meeting_url(settings, ws.id, m.id))
        boards = []
        for c in list_connections(s, ws.id):
            state = f"broken since {c.broken_at:%Y-%m-%d}" if c.status == "broken" else "working"
            boards.append(f"`{c.name}` ({state})")
    integrations = [f"{platform}: connected",
                    "Notion: " + (", ".join(boards) if boards else "no board connected"),
                    "E-mail: " + ("set up" if settings.smtp_url else "not set up on this Onno (ONNO_SMTP_URL)")]
    return Status(processing=processing, last_meeting=last,
                  plan=plan_lines(plan_summary(app, ws_id), bold=bold, link=link), integrations=integrations)


def render(st: Status, *, bold: str, bullet: str, escape: Callable[[str], str],
           meeting_link: Callable[[str, str], str]) -> list[str]:
    """The status as chat lines; `meeting_link(label, url)` is the platform's link markup."""
    out = [f"{bold}Processing{bold}"]
    out += [f"{bullet} {escape(name)}: {state}" for name, state in st.processing] or [f"{bullet} nothing right now"]
    out.append(f"{bold}Last meeting{bold}")
    if st.last_meeting:
        title, date, url = st.last_meeting
        out.append(f"{bullet} {meeting_link(escape(title), url)} ({date})")
    else:
        out.append(f"{bullet} none yet")
    out.append(f"{bold}Plan{bold}")
    out += [f"{bullet} {line}" for line in st.plan]
    out.append(f"{bold}Integrations{bold}")
    out += [f"{bullet} {line}" for line in st.integrations]
    return out
