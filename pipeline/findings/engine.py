"""Run every detector over a meeting's sentences and gather their findings."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.findings.actions import find_action_items
from pipeline.findings.checklist import follow_up_questions, suggest_questions
from pipeline.findings.confidence import assess
from pipeline.findings.discourse import settle_handovers
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
    findings.action_items = settle_handovers(findings.action_items)
    return complete(findings, sentences, info)


def complete(findings: Findings, sentences: list[Sentence], info: MeetingInfo) -> Findings:
    """What is read off the other findings: checklist gaps, follow-ups and the summary."""
    # Coverage reads the other findings ("an action item has an owner"), so it comes after them.
    findings.suggested_questions = suggest_questions(info.type, sentences, findings)
    findings.follow_ups = follow_up_questions(findings)
    findings.summary = summarize(info, findings)
    return findings


# The languages the findings engine reads (its patterns, word lists and training meetings); others get a notice.
LANGUAGES = ("en",)
LANGUAGE_NAMES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
                  "nl": "Dutch", "ca": "Catalan", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
                  "pl": "Polish", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish", "ar": "Arabic",
                  "he": "Hebrew", "hi": "Hindi", "zh": "Chinese", "ja": "Japanese", "ko": "Korean"}


def not_read(info: MeetingInfo) -> Findings | None:
    """For a meeting in a language the engine does not read: no findings, and a summary that says so plainly."""
    if (info.language or "en") in LANGUAGES:
        return None
    name = LANGUAGE_NAMES.get(info.language, f"this language ({info.language})")
    return Findings(summary=f"This meeting is in {name}. Onno reads action items, decisions and questions in "
                            f"English only so far, so it lists none here rather than guess; the transcript is "
                            f"complete.")


def extract_findings(segments: list[Segment], info: MeetingInfo, board: list[Ticket]) -> Findings:
    """Findings of one meeting from its transcript segments, its facts and the board before it."""
    unread = not_read(info)
    if unread is not None:
        return unread
    sentences = build_sentences(segments)
    people = meeting_people(info, (s.speaker for s in segments), sentences)
    return findings_from_sentences(sentences, people, info, board)
