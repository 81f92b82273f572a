"""`/onno ask`: find what was said in this workspace's meetings, by words of the question."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import Finding, Meeting, TranscriptSegment, Workspace

STOP = frozenset("""a about after again all also am an and any are as at be because been before being but by can could did
do does doing done for from had has have having he her here hers him his how i if in into is it its just me more most
my no nor not now of off on once only or other our out over own said same say says she should so some such than that
the their them then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours anyone anybody someone talk talked mention mentioned meeting meetings
tell us last week""".split())  # noqa: SIM905

KIND_WEIGHT = {"decision": 1.0, "action_item": 0.8, "blocker": 0.8, "question": 0.5, "ticket_update": 0.6,
               "metric": 0.5}


def terms(question: str) -> list[str]:
    words = re.findall(r"[a-z0-9][a-z0-9'\-]*", question.lower())
    out = [w for w in words if w not in STOP and len(w) > 1]
    return list(dict.fromkeys(out))[:8]


def stem(word: str) -> str:
    """A crude stem so 'launching' finds 'launch' and 'prices' finds 'price'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def search(s: Session, workspace: Workspace, question: str, *, limit: int = 5) -> list[dict]:
    """The best matching transcript lines and findings of this workspace only, best first."""
    words = terms(question)
    if not words:
        return []
    stems = [stem(w) for w in words]
    hits: list[dict] = []
    seg_q = (select(TranscriptSegment, Meeting).join(Meeting, TranscriptSegment.meeting_id == Meeting.id)
             .where(Meeting.workspace_id == workspace.id,
                    or_(*[TranscriptSegment.text.ilike(f"%{w}%") for w in stems])).limit(2000))
    for seg, meeting in s.execute(seg_q):
        hits.append({"meeting": meeting, "text": seg.text, "speaker": seg.speaker, "start": seg.start,
                     "kind": "said", "weight": 0.0})
    find_q = (select(Finding, Meeting).join(Meeting, Finding.meeting_id == Meeting.id)
              .where(Meeting.workspace_id == workspace.id, or_(*[Finding.text.ilike(f"%{w}%") for w in stems]))
              .limit(1000))
    for f, meeting in s.execute(find_q):
        hits.append({"meeting": meeting, "text": f.text, "speaker": f.speaker or f.data.get("owner"),
                     "start": f.start, "kind": f.kind, "weight": KIND_WEIGHT.get(f.kind, 0.3)})
    for h in hits:
        low = h["text"].lower()
        matched = sum(1 for st in stems if st in low)
        h["score"] = matched / len(stems) + 0.25 * h["weight"] + 0.02 * min(len(low), 200) / 200
    hits.sort(key=lambda h: (-h["score"], -h["meeting"].id, h["start"] or 0))
    out, seen = [], set()
    for h in hits:
        key = (h["meeting"].id, int(h["start"] or 0))
        if key in seen:
            continue
        seen.add(key)
        out.append(h)
        if len(out) == limit:
            break
    return out
