"""The meeting type's checklist: which topics were covered, and a question to ask for each one that was not."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.findings.sentences import Sentence
from pipeline.types import Findings, SuggestedQuestion


def _w(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


@dataclass(frozen=True)
class Topic:
    """A checklist topic: words that show it was discussed, what to ask when it was not, and how much it matters."""

    name: str
    cues: re.Pattern
    question: str
    priority: str
    reason: str
    # Evidence from the other detectors ("an action item has an owner") that also counts as covered.
    covered_by: Callable[[Findings], bool] | None = None


# "our target is", "the goal": a goal someone sets, not "anyone's target on…" misheard.
GOAL_WORDS = (r"\b(?:our|the|a|an|main|success|your|their)\s+(?:\w+\s+)?(?:targets?|goals?)\b|"
              r"\b(?:targets?|goals?)\s+(?:is|are|was|of|for)\b")
RISK_WORDS = (r"\brisks?\b|\brisky\b|\bworr(?:y|ies|ied|ying)\b|\bconcern(?:s|ed)?\b|\btight\b|\bslip(?:s|ping|page)?\b|"
              r"\bmight\s+not\s+make\b|\bwon't\s+make\s+it\b|\bdon't\s+think\s+(?:they|we|it)(?:'ll|\s+will)\s+make\b|"
              r"\bbehind\s+schedule\b|\bdanger\w*\b|\bthreat\w*\b|\bnervous\b|\bat\s+stake\b|\bfall\s+behind\b|"
              r"\bslow\s+(?:you|us|them|things)\s+down\b|\bbiggest\s+(?:challenge|threat|problem)\b|"
              r"\bcould\s+(?:hurt|kill|derail|sink)\b|\bkeeps?\s+(?:you|me)\s+up\s+at\s+night\b")

TEAM = (
    Topic("owners", _w(r"\bwho(?:'s|\s+is|\s+will|\s+can)?\s+(?:taking|owning|doing|handling|on|picking|going\s+to\s+"
                       r"(?:do|take|own|write|handle|lead))\b|\bowners?\b|\bownership\b|\bresponsible\b|\bassign"),
          "Who owns each of the open items, and who is the single point of contact?", "critical",
          "No owners were named for the work discussed.", lambda f: any(a.owner for a in f.action_items)),
    Topic("deadlines", _w(r"\bdeadlines?\b|\bdue\s+(?:date|by|on)\b|\bship\s+date\b|\brelease\s+(?:date|on)\b|"
                          r"\btimeline\b|\beta\b|\bwhen\s+(?:will|can|do\s+you\s+think)\b"),
          "When is each item due, and which dates are fixed?", "critical",
          "No dates were set for the work discussed.", lambda f: any(a.due for a in f.action_items)),
    Topic("blockers", _w(r"\bblock(?:ed|er|ers|ing)\b|\bstuck\b|\bwaiting\s+(?:on|for)\b|\bimpediments?\b|"
                         r"\bholding\s+(?:you|us|things)\s+(?:up|back)\b"),
          "Is anything blocking progress right now?", "important",
          "Nobody said whether anything is blocked.", lambda f: bool(f.blockers)),
    Topic("dependencies", _w(r"\bdepend(?:s|ency|encies|ent|ing)?\b|\bwaiting\s+(?:on|for)\b|\bneeds?\s+(?:\w+\s+){0,4}"
                             r"from\b|\bfrom\s+the\s+\w+(?:\s+\w+)?\s+team\b|\bhasn't\s+(?:sent|delivered|given|shared)\b|"
                             r"\bwithout\s+(?:it|them|that|the)\b|\buntil\s+(?:the|it|they|our)\b|\bhand[\s-]?offs?\b|"
                             r"\bupstream\b|\bthird[\s-]party\b|\bonce\s+the\b"),
          "Which other teams or deliveries does this work depend on?", "important",
          "Dependencies on other teams or work were not discussed."),
    Topic("risks", _w(RISK_WORDS),
          "What could make us miss the plan, and what is the fallback?", "important",
          "Risks to the plan were not discussed."),
    Topic("success_metrics", _w(r"\bsuccess\b|\bmetrics?\b|\bmeasur\w*\b|\bkpis?\b|" + GOAL_WORDS + r"|"
                                r"\bconversion\b|\bokrs?\b|\bbenchmarks?\b|\bnorth\s+star\b"),
          "How will we measure whether this worked, and what number counts as success?", "follow_up",
          "No success measure was agreed."),
)

SCREENING = (
    Topic("revenue", _w(r"\brevenues?\b|\bmrr\b|\barr\b|\bbillings?\b|\bturnover\b|\bbookings\b"),
          "What is current revenue (MRR or ARR), and how much of it is recurring?", "critical",
          "Revenue was not covered.", lambda f: any(m.name in ("mrr", "arr", "revenue") for m in f.metrics)),
    Topic("growth", _w(r"\bgr[eo]w(?:th|ing|n|s)?\b|\bmonth[\s-]over[\s-]month\b|\btraction\b|\bdoubl\w+\b"),
          "How fast is revenue growing month over month?", "critical",
          "Growth rate was not covered.", lambda f: any(m.name == "growth_rate" for m in f.metrics)),
    Topic("unit_economics", _w(r"\bunit\s+economics\b|\bcac\b|\bltv\b|\bacquisition\s+costs?\b|\blifetime\s+value\b|"
                               r"\bpayback\b|\bmargins?\b|\bcosts?\s+(?:you|them|us)?\s*to\s+(?:win|acquire|land)\b|"
                               r"\bcustomer\s+economics\b"),
          "What does it cost to acquire a customer, and what is a customer worth over their lifetime?", "critical",
          "Unit economics (CAC, LTV, margin) were not covered.",
          lambda f: any(m.name in ("cac", "ltv", "gross_margin") for m in f.metrics)),
    Topic("churn", _w(r"\bchurn\w*\b|\bretention\b|\bretain\w*\b|\bcancel\w*\b|\battrition\b"),
          "What is monthly churn, and why do customers leave?", "critical",
          "Retention and churn were not discussed.", lambda f: any(m.name == "churn_rate" for m in f.metrics)),
    Topic("burn_runway", _w(r"\bburn\w*\b|\brunway\b|\bcash\s+(?:in\s+the\s+bank|left|on\s+hand)\b|"
                            r"\bmonths\s+of\s+(?:cash|money)\b"),
          "What is the monthly burn, and how many months of runway are left?", "critical",
          "Burn and runway were not covered.",
          lambda f: any(m.name in ("burn_rate", "runway_months") for m in f.metrics)),
    Topic("market_size", _w(r"(?<!gross\s)\bmarket\s+(?:size|is|model|opportunity)\b|\bsize\s+of\s+the\s+market\b|"
                            r"\bhow\s+big\s+is\s+the\s+market\b|(?-i:\b(?:TAM|SAM|SOM)\b)|\btotal\s+addressable\b|"
                            r"\b(?:billion|million)(?:\s+dollar)?\s+market\b"),
          "How big is the addressable market, worked out bottom up?", "important",
          "Market size was not discussed."),
    Topic("competition", _w(r"\bcompet\w*\b|\brivals?\b|\bup\s+against\b|\bwho\s+(?:are|is)\s+\w+\s+against\b|\balternatives?\b|\bincumbents?\b|"
                            r"\bdifferentiat\w*\b|\bmoat\b|\bother\s+(?:players|vendors|tools)\b"),
          "Who are the main competitors, and why do customers pick this product over them?", "important",
          "Competition was not discussed."),
    Topic("team", _w(r"\bfounders?\b|\bco-?founders?\b|\bhir(?:e|ed|es|ing)\b|\bheadcount\b|\bthe\s+team\b|"
                     r"\bhow\s+big\s+are\s+you\b|\bengineers\b|\bmanagement\b"),
          "Who is on the founding team, and what key hires are planned?", "important",
          "The team was not discussed.", lambda f: any(m.name == "headcount" for m in f.metrics)),
    Topic("fundraising", _w(r"\brais(?:e|ing)\b|\bround\b|\binvestors?\b|\bvaluation\b|\bterm\s+sheet\b|"
                            r"\bpre[\s-]money\b|\bangels?\b"),
          "How much are they raising, on what terms, and who else is in the round?", "important",
          "The raise and its terms were not discussed.",
          lambda f: any(m.name in ("raise_amount", "valuation") for m in f.metrics)),
    Topic("risks", _w(RISK_WORDS + r"|\bholding\s+(?:you|them|us)\s+back\b|\bconcentration\b|\bchallenges?\b|"
                      r"\bdownside\b|\bkeeps?\s+you\s+up\b|\bwhat\s+could\s+go\s+wrong\b"),
          "What are the biggest risks to the business, and how are they being handled?", "important",
          "Key risks were not discussed."),
)

SALES = (
    Topic("pain_points", _w(r"\bpain\w*\b|\bproblems?\b|\bchallenges?\b|\bfrustrat\w*\b|\bstruggl\w*\b|"
                            r"\bheadaches?\b|\bnot\s+working\b|\bcomplain\w*\b|\bbreaks?\b"),
          "What is the biggest problem with how this works today?", "critical",
          "The customer's pain points were not explored."),
    Topic("budget", _w(r"\bbudget\w*\b|\bcosts?\b|\bprices?\b|\bpricing\b|\bspend\w*\b|\bafford\b|\bset\s+aside\b|"
                       r"\bper\s+(?:seat|user|month|year)\b"),
          "What budget is set aside for this, and who controls it?", "critical",
          "Budget was not discussed."),
    Topic("timeline", _w(r"\btimeline\b|\bwhen\s+would\s+you\b|\bup\s+and\s+running\b|\bgo[\s-]live\b|"
                         r"\bdeadlines?\b|\bstart\s+date\b|\brollout\b|\bimplementation\b|"
                         r"\bwhen\s+do\s+you\s+(?:need|want)\b"),
          "By when do they need a solution in place, and what drives that date?", "important",
          "The buying timeline was not discussed."),
    Topic("decision_process", _w(r"\bdecision[\s-]?(?:makers?|process)\b|\bwho\s+(?:decides|signs|approves|else)\b|"
                                 r"\bsign[\s-]off\b|\bapprov\w*\b|\bprocurement\b|\bstakeholders?\b|"
                                 r"\blegal\s+review\b|\bbuying\s+process\b|\bdecide\w*\b"),
          "Who else is involved in the decision, and what does their approval process look like?", "critical",
          "The decision process and the people who sign off were not discussed."),
    Topic("current_solution", _w(r"\bcurrently\b|\bright\s+now\b|\bat\s+the\s+moment\b|\bspreadsheets?\b|"
                                 r"\bexisting\s+(?:tool|system|vendor|solution|setup)\b|\banother\s+tool\b|"
                                 r"\bwhat\s+(?:do|are)\s+you\s+(?:use|using)\b|\bwe\s+use\b|\bswitch\w*\s+from\b"),
          "What do they use today, and what made them look for something else?", "important",
          "Their current solution was not discussed."),
    Topic("success_criteria", _w(r"\bsuccess\w*\b|\bcriteria\b|\bwhat\s+(?:would\s+)?good\s+look\s+like\b|"
                                 r"\bmeasur\w*\b|\bkpis?\b|\bhow\s+will\s+you\s+know\b|" + GOAL_WORDS),
          "What would make this a success for them, and how will they measure it?", "important",
          "Success criteria were not agreed."),
    Topic("next_steps", _w(r"\bnext\s+steps?\b|\bfollow[\s-]?up\b|\bpilot\b|\btrial\b|\bcontract\b|\bproposal\b"),
          "What are the agreed next steps, with owners and dates?", "critical",
          "No next steps were agreed.", lambda f: bool(f.action_items)),
)

MENTORING = (
    Topic("goals", _w(r"\bgoals?\b|\baim\w*\b|\bambitions?\b|\bwant\s+to\s+(?:become|be|get|grow|move)\b|"
                      r"\bcareer\b|\blong[\s-]term\b|\bpromotion\b"),
          "What are you aiming for over the next six to twelve months?", "critical",
          "Goals were not discussed."),
    Topic("progress", _w(r"\bprogress\w*\b|\bhow\s+did\b|\bhow\s+(?:is|are)\s+\w+\s+going\b|\bfeedback\b|"
                         r"\bsince\s+(?:last|we)\b|\bimprov\w*\b|\bpresented\b|\bwent\b"),
          "What has moved forward since we last met?", "important",
          "Progress since the last session was not reviewed."),
    Topic("blockers", _w(r"\bblock(?:ed|er|ers|ing)\b|\bstuck\b|\bobstacles?\b|\bholding\s+you\s+back\b|"
                         r"\bwaiting\s+(?:on|for)\b|\bin\s+your\s+way\b"),
          "What is getting in your way right now?", "important",
          "Obstacles were not discussed.", lambda f: bool(f.blockers)),
    Topic("decisions", _w(r"\bdecid\w*\b|\bdecisions?\b|\bshould\s+i\b|\bapply\b|\bpros\s+and\s+cons\b|"
                          r"\bchoos\w*\b|\bwhether\b"),
          "Which decisions are you facing, and what would help you make them?", "important",
          "No decisions were worked through.", lambda f: bool(f.decisions)),
    Topic("support_needed", _w(r"\bhow\s+can\s+i\s+help\b|\bcan\s+i\s+help\b|\bneed\s+from\s+me\b|\bsupport\b|"
                               r"\bhelp\s+(?:you|with)\b|\bintroduc\w+\s+you\b|\bresources\b|\bsponsor\w*\b|"
                               r"\bput\s+in\s+a\s+(?:good\s+)?word\b|\bconnect\s+you\b|\banything\s+i\s+can\s+do\b"),
          "What support do you need from me or others to get there?", "important",
          "Support the mentee needs was not discussed."),
)

CHECKLISTS: dict[str, tuple[Topic, ...]] = {
    "standup": TEAM, "planning": TEAM, "retro": TEAM, "product_review": TEAM, "general": TEAM,
    "investment_screening": SCREENING, "sales": SALES, "mentoring": MENTORING,
}


def topics_said(meeting_type: str, text: str) -> set[str]:
    """The checklist topics whose words a text uses."""
    return {t.name for t in CHECKLISTS.get(meeting_type, ()) if t.cues.search(text)}


def covered_topics(meeting_type: str, sentences: list[Sentence], findings: Findings,
                   said: set[str] | None = None) -> set[str]:
    """The checklist topics a meeting touched, by its words or by what the other detectors found.

    `said`, when given, holds the topics whose words were already found (the live engine keeps it up to date).
    """
    topics = CHECKLISTS.get(meeting_type, ())
    covered: set[str] = set()
    for topic in topics:
        if topic.covered_by is not None and topic.covered_by(findings):
            covered.add(topic.name)
            continue
        if said is not None:
            if topic.name in said:
                covered.add(topic.name)
        elif any(topic.cues.search(s.text) for s in sentences):
            covered.add(topic.name)
    return covered


def suggest_questions(meeting_type: str, sentences: list[Sentence], findings: Findings,
                      said: set[str] | None = None) -> list[SuggestedQuestion]:
    """One question for each checklist topic the meeting left out, most important first."""
    topics = CHECKLISTS.get(meeting_type, ())
    covered = covered_topics(meeting_type, sentences, findings, said)
    order = {"critical": 0, "important": 1, "follow_up": 2}
    missing = sorted((t for t in topics if t.name not in covered), key=lambda t: order[t.priority])
    return [SuggestedQuestion(text=t.question, topic=t.name, priority=t.priority, reason=t.reason) for t in missing]


def follow_up_questions(findings: Findings) -> list[SuggestedQuestion]:
    """A follow-up for every question the meeting left unanswered (topic None: it is not a checklist gap)."""
    return [SuggestedQuestion(text=f"Follow up: {q.text}", topic=None, priority="follow_up",
                              reason=f"Asked by {q.asked_by or 'someone'} and not answered in the meeting.",
                              start=q.start, speaker=q.speaker)
            for q in findings.questions if not q.answered]
