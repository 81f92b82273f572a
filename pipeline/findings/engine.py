"""Run every detector over a meeting's sentences and gather their findings."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.findings.actions import find_action_items
from pipeline.findings.checklist import follow_up_questions, suggest_questions
from pipeline.findings.confidence import assess
from pipeline.findings.metrics import find_metrics
from pipeline.findings.notes import find_blockers, find_decisions
from pipeline.findings.people import People, discover_names
from pipeline.findings.questions import find_questions
from pipeline.findings.sentences import Sentence, build_sentences
from pipeline.findings.summary import summarize
from pipeline.findings.tickets import find_ticket_updates
from pipeline.types import Findings, MeetingInfo, Segment, Ticket


def meeting_people(info: MeetingInfo, speakers: Iterable[str | None], sentences: list[Sentence]) -> People:
    """The participants: those we were told, those who spoke, else the names people are addressed by."""
    people = People([*info.participants, *speakers])
    if not len(people):
        # A mixed recording with no participant list: learn the names from how people address each other.
        people = People(discover_names(s.text for s in sentences))
    return people


def rule_findings(sentences: list[Sentence], people: People, info: MeetingInfo, board: list[Ticket]) -> Findings:
    """What the rule detectors find, before the labeller weighs it."""
    findings = Findings()
    findings.action_items = find_action_items(sentences, people, info.date)
    findings.questions = find_questions(sentences)
    findings.decisions = find_decisions(sentences)
    findings.blockers = find_blockers(sentences)
    findings.metrics = find_metrics(sentences)
    findings.ticket_updates, findings.unconfirmed_ticket_updates = find_ticket_updates(sentences, board)
    return findings


def findings_from_sentences(sentences: list[Sentence], people: People, info: MeetingInfo,
                            board: list[Ticket]) -> Findings:
    """Findings of one meeting from its sentences, its participants, its facts and the board before it."""
    findings = rule_findings(sentences, people, info, board)
    assess(sentences, findings, people, info.date)
    return complete(findings, sentences, info)


def complete(findings: Findings, sentences: list[Sentence], info: MeetingInfo) -> Findings:
    """What is read off the other findings: checklist gaps, follow-ups and the summary."""
    # Coverage reads the other findings ("an action item has an owner"), so it comes after them.
    findings.suggested_questions = suggest_questions(info.type, sentences, findings)
    findings.follow_ups = follow_up_questions(findings)
    findings.summary = summarize(info, findings)
    return findings


def extract_findings(segments: list[Segment], info: MeetingInfo, board: list[Ticket]) -> Findings:
    """Findings of one meeting from its transcript segments, its facts and the board before it."""
    sentences = build_sentences(segments)
    people = meeting_people(info, (s.speaker for s in segments), sentences)
    return findings_from_sentences(sentences, people, info, board)
