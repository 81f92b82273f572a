"""Decisions ("let's go with…", "it goes into the sprint") and blockers ("stuck on…", "waiting on…")."""

from __future__ import annotations

import re

from pipeline.findings.procedure import is_procedural
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import HESITATION, strip_filler, tidy, word_count
from pipeline.types import Note

# "let's" that runs the meeting or hands out work rather than deciding anything.
LETS_NOT_DECISION = re.compile(
    # "let's not get ahead of ourselves" is talk; "let's not ship on Fridays" decides.
    r"^(?:hope|pray|assume|imagine|pretend|suppose|have\s+a\s+look|go\s+back|try\s+to|not\s*(?:[.!?,;]|$)|not\s+(?:get|go|worry|panic|waste|forget|overthink|rush|dwell|jump|be|talk|bother|lose|spend|make\s+this|"
    r"hold|keep\s+(?:everyone|you|us)|drag|open\s+that)\b|get\s+(?:started|going|into)|(?:just\s+)?start\b|begin\b|go\s+(?:through|over|around|on)\b|"
    r"move\s+on|see\b|wrap|recap|take\s+a\s+(?:look|break|step)|talk|discuss|dive|jump|kick|continue|call\s+it|"
    r"catch\s+up|hear|look\s+at|(?:have|make)\s+(?!a\s|the\s|it\s|this\s|that\s)[A-Z]\w+|revisit|come\s+back|table\s+(?:it|this|that)|"
    r"keep\s+(?:it|this)\s+to\b|split|divide|share\s+(?:it|this|that|the\s+work)|"
    r"do\s+(?:that|it|this)\b|keep\s+(?:it|this)\s+(?:short|brief|quick)|be\s+honest|not\s+get|think|"
    r"get\s+back|circle\s+back|park\s+(?:it|that)|touch\s+base|meet|sync|reconvene|pick\s+(?:this|it)\s+up|"
    r"(?:just\s+)?check|make\s+sure|find\s+out|ask|review\s+(?:it|this)\s+(?:again|later)|stop\s+there|"
    r"leave\s+it\s+there|say\s+(?!that's\s+decided))", re.I)
LETS = re.compile(r"\b(?:let's|let\s+us)\s+(?:just\s+|then\s+|definitely\s+|all\s+)?", re.I)
DECIDED = re.compile(
    r"\b(?:(?:we(?:'ve|\s+have)?|i(?:'ve|\s+have)?)\s+(?:decided|agreed)|(?:that's|it's|that\s+is)\s+(?:decided|"
    r"settled|agreed)|we\s+agreed|so\s+agreed|decision\s+(?:is|was)\s+(?:made|to)|we(?:'re|\s+are)\s+going\s+"
    r"(?:to\s+go\s+)?with|we(?:'ll|\s+will)\s+go\s+with|we\s+go\s+with|the\s+plan\s+is\s+to|from\s+now\s+on,?\s+"
    r"we|going\s+forward,?\s+we|final\s+answer|we(?:'re|\s+are)\s+not\s+going\s+to|we\s+won't\s+be|"
    r"we(?:'re|\s+are)\s+(?:all\s+)?agreed|(?:^|[,:]\s*)agreed\s*[,:]|we(?:'ll|\s+will)\s+(?:stick|stay)\s+with|"
    r"we(?:'ll|\s+will|'re|\s+are)\s+(?:going\s+ahead|moving\s+forward)\s+with|"
    r"(?:^|[.:]\s*)(?:okay,?\s+|so,?\s+)?(?:the\s+)?(?:final\s+)?(?:decision|call|verdict)(?:\s+is)?\s*:)(?:\b|(?<=[:,]))", re.I)
# Scheduling moves: "it goes into the sprint", "that one stays in the backlog", "pushed to January".
SCHEDULED = re.compile(
    r"\b(?:goes|go|going|stays?|moves?|moving|pushed|push|bumped?|deferred?|postponed?)\s+(?:back\s+)?(?:into|in|to|"
    r"until)\s+(?:the\s+)?(?:next\s+|this\s+|current\s+)?(?:sprint|backlog|release|quarter|roadmap|milestone|"
    r"version|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"q[1-4])\b", re.I)
PAST = re.compile(r"\b(?:last\s+(?:week|month|year|time|quarter|sprint)|ago|yesterday|previously|back\s+then|"
                  r"in\s+the\s+past|they\s+(?:said|told|decided))\b", re.I)
ASKS = re.compile(r"^(?:should|shall|do|can|could)\s+we\b", re.I)
PROPOSAL = re.compile(r"\b(?:i'd\s+suggest|i\s+suggest|maybe\s+we|we\s+could|should\s+we|what\s+if|how\s+about|"
                      r"i\s+think\s+you\s+should|you\s+could)\b", re.I)
# Agreeing to what was just proposed: "Yes, let's do that.", "Agreed.", "Deal.", "Sounds good, let's try it."
ACCEPTS = re.compile(r"^(?:(?:yes|yeah|yep|ok(?:ay)?|sure|fine|great|perfect|you're\s+right|fair\s+enough)[,.!]?\s*)*"
                     r"(?:(?:let's\s+(?:do|go\s+with|try)\s+(?:that|it|this)|(?:that's|it's)\s+(?:decided|settled|agreed)|"
                     r"agreed|deal|(?:let's\s+)?go\s+for\s+it|i'm\s+in|works\s+for\s+me|sounds\s+good|good\s+idea|"
                     r"makes\s+sense|let's(?=[.!]?$)|let's\s+do\s+(?:it|that)|i\s+agree|absolutely|definitely|"
                     r"that's\s+the\s+plan|fine\s+(?:by|with)\s+me|i'm\s+happy\s+with\s+that)(?:,?\s+then)?[,.!]?\s*)+$", re.I)
# A bare yes: enough to confirm a decision put as a question ("So we're going with the postal service?"), not
# to take up a proposal.
CONFIRMS = re.compile(r"^(?:(?:yes|yeah|yep|yup|right|correct|exactly|that's\s+right|i\s+think\s+so)[,.!]?\s*)+$",
                      re.I)
# A decision put back to the room as a question: "So we're going with the postal-code service?".
CONFIRMING = re.compile(
    r"^(?:so,?\s+|and,?\s+|okay,?\s+)*(?:(?P<go>we(?:'re|\s+are)\s+(?:going\s+(?:to\s+go\s+)?with|sticking\s+with)|"
    r"we(?:'ll|\s+will)\s+(?:go|stick)\s+with|we\s+(?:go|stick)\s+with|are\s+we\s+(?:going|sticking)\s+with)|"
    r"(?:we(?:'re|\s+are)\s+going\s+to|we(?:'ll|\s+will)|we(?:'ve|\s+have)\s+(?:decided|agreed)\s+to|"
    r"we(?:'re|\s+are)\s+(?:all\s+)?(?:agreed|agreeing)\s+(?:on|to)|are\s+we\s+(?:all\s+)?agreed\s+(?:on|to)|"
    r"(?:is\s+)?everyone\s+(?:okay|happy|fine)\s+with|are\s+we\s+(?:all\s+)?(?:okay|happy|fine)\s+with))\s+"
    r"(?P<what>[^?]+?)(?:,?\s+(?:then|right|yes|yeah|correct|agreed|everyone))?\s*\?$", re.I)
# What is said of a topic just raised ("What about dark mode?" "That one stays."): the verdict on it.
VERDICT = re.compile(r"^(?:that|this|it)(?:\s+one)?(?:\s+(?:stays|goes|waits|ships|can\s+wait|is\s+(?:in|out|staying|"
                     r"going|cut|dropped|done|fine\s+as\s+(?:it\s+)?is)|gets?\s+(?:cut|dropped|shipped|done)|"
                     r"(?:will|can)\s+(?:stay|go|wait|ship))\b[^?]*)$", re.I)
# After a word that points back, a verb: the topic can stand in its place ("That one stays" -> "Dark mode stays").
SUBJECT_VERB = re.compile(r"\s+(?:is|stays|goes|will|can|gets|moves|waits|should|has|ships|isn't|won't|stay)\b", re.I)
# How a decision is said, whatever it decides: "we're going with", "let's", "it has to be", "we decided". Amid
# hesitant talk the labeller's own decision must be said so: there its score alone is mostly noise.
DECIDING = re.compile(r"\b(?:we(?:'ll|\s+will|'re\s+(?:going\s+to|gonna|having|using|keeping|dropping|doing)|\s+are\s+"
                      r"(?:going\s+to|having|using|keeping|dropping))|let's|decided|agreed|settled|go(?:ing)?\s+(?:with|for)|"
                      r"stick\s+with|we\s+(?:should|need\s+to|have\s+to|must|want\s+to|keep|use|drop)|(?:it|that|this)\s+"
                      r"(?:has|needs)\s+to|(?:will|must|has\s+to|should)\s+be|definitely|final)\b", re.I)
# Put as a condition, a question or a hedge, a decision-sounding sentence decides nothing yet.
HEDGED = re.compile(r"^(?:if|when|whether|unless|or)\b|\b(?:shall\s+we|should\s+we|do\s+you|would\s+you|wondering|"
                    r"whether|i\s+suppose|i\s+guess|maybe|perhaps|might|could)\b", re.I)


def said_as_decision(text: str) -> bool:
    """Whether a sentence is worded as a decision taken (not hedged; a "let's" that runs the meeting not counted)."""
    said = strip_filler(HESITATION.sub(" ", text).strip(" ,.;"))
    if HEDGED.search(said) or is_procedural(said):
        return False
    for m in reversed(list(LETS.finditer(said))):
        if LETS_NOT_DECISION.match(said[m.end():]):
            said = said[:m.start()] + said[m.end():]
    return bool(DECIDING.search(said))


VAGUE_WHEN = re.compile(r"\b(?:at\s+some\s+point|someday|some\s+day|one\s+day|eventually|sometime)\b", re.I)
# A proposal put to the others, and what it proposes.
PROPOSED = re.compile(r"^(?:should\s+we|shall\s+we|what\s+if\s+we|how\s+about\s+(?:we\s+)?|why\s+don't\s+we|"
                      r"do\s+we\s+want\s+to|i\s+(?:think|suggest|propose)\s+(?:that\s+)?we\s+"
                      r"(?:should\s+)?|maybe\s+we\s+(?:should|could)|we\s+should|i'd\s+suggest\s+(?:that\s+)?(?:we\s+)?)"
                      r"(?P<what>[^?.!]+)[?.!]?$", re.I)
POINTS_BACK = re.compile(r"^(?:that|this|it)(?:\s+one)?\b", re.I)
# A topic put on the table before a decision about it: "Next, the refund flow for partial orders."
TOPIC = re.compile(r"^(?:(?:next|now|then|finally|lastly|last|and|okay|so|right)\b[,:]?\s*)*(?:is\s+|on\s+|about\s+)?"
                   r"(?P<topic>(?:the|our|that)\s+[^.?!]{3,60})[.!]?$", re.I)
# A question that raises a topic: "And what about the fraud rules review?", "Where are we on the invoice export?".
ABOUT = re.compile(r"\b(?:what|how)\s+about\s+(?P<topic>[^?]{3,60})\?|\bwhere\s+are\s+we\s+(?:on|with)\s+"
                   r"(?P<topic2>[^?]{3,60})\?", re.I)
# A verb that makes a would-be topic ("the refund flow") a statement ("the flow has been waiting for ages").
FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|been|will|would|can|could|should|must|do|does|did|"
                    r"isn't|aren't|wasn't|hasn't|haven't|won't|don't|doesn't|didn't)\b|'(?:s|re|ve|ll|d)\b", re.I)
ANAPHORIC = re.compile(r"\b(?:that|it|this|them|decided|settled|agreed)\b[\s,]*(?:then|now|instead)?[.!]?$", re.I)

BLOCKED = re.compile(
    r"\b(?:blocked|blocker|blocking|stuck|waiting\s+(?:on|for)|still\s+waiting|held\s+up|holding\s+(?:us|me|them|"
    r"things|it|everything)\s+(?:up|back)|can't\s+(?:\w+\s+){1,5}until|"
    r"haven't\s+heard\s+(?:anything\s+)?back|still\s+hasn't|still\s+haven't\s+(?:heard|got|received|had)|"
    r"(?:is|are)\s+delayed|depends\s+on|dependent\s+on|no\s+access|(?:don't|do\s+not)\s+have\s+access|"
    r"not\s+deployed\s+yet)\b|"
    # tiny.en hears "blocked" as "locked": "I'm kind of locked there".
    r"\b(?:i'm|we're|i\s+am|we\s+are)\s+(?:a\s+bit\s+|kind\s+of\s+|sort\s+of\s+|a\s+little\s+)?locked\s+(?:on|there|by)\b",
    re.I)
UNBLOCKED = re.compile(r"\b(?:was|were|got|no\s+longer|not|isn't|aren't|un)\s*(?:blocked|stuck)\b|\bunblock|"
                       r"\b(?:nothing|no\s+one|nobody|nothing's)\s+(?:is\s+|'s\s+)?(?:really\s+)?block|\bno\s+blockers?\b|"
                       r"\bif\b|\bwhat\s+if\b|\bwould\s+be\s+stuck\b|\bcould\s+get\s+stuck\b", re.I)
CAUSE = re.compile(r"\b(?:hasn't|haven't|still|not\s+(?:yet|deployed|ready|done)|need|needs|without|until|only\s+"
                   r"fails?|from\s+the)\b", re.I)


def _decision_cue(s: Sentence) -> bool:
    """Whether a sentence takes a decision now (not a proposal, a question or one taken before)."""
    text = s.text
    if s.is_question or PAST.search(text):
        return False
    cue_at = None
    for m in LETS.finditer(text):
        rest = text[m.end():]
        if not LETS_NOT_DECISION.match(rest) or re.match(r"say\s+that's\s+decided", rest, re.I):
            cue_at = m.end()
            break
    if cue_at is None:
        m = DECIDED.search(text) or SCHEDULED.search(text)
        cue_at = m.end() if m else None
    if cue_at is None:
        return False
    # "We could maybe…" before the decision words makes it a proposal; after them it is an aside. Opening with
    # "should we" it is a question, even where the transcript has no question mark ("Should we go with the yellow").
    if ASKS.match(strip_filler(HESITATION.sub(" ", text).strip(" ,."))):
        return False
    return not PROPOSAL.search(text[:cue_at]) or bool(DECIDED.search(text[:cue_at]))


def _same_breath(a: Sentence, b: Sentence) -> bool:
    """Two sentences said by one person in one go (or, unlabelled, one after the other).

    A labelled speaker's sentences may have one short line of someone else's between them: per-speaker
    tracks interleave that way when the recogniser's segment times run long.
    """
    if a.speaker is None and b.speaker is None:
        return b.index == a.index + 1
    return a.speaker == b.speaker and 0 < b.index - a.index <= 2


def find_decisions(sentences: list[Sentence]) -> list[Note]:
    """Decisions taken in the meeting, each said as plainly as the words allow.

    A sentence that only declares ("let's go with that", "that's decided, then") gives way to the sentence
    after it, which says what was decided; one that points back ("that one stays in the backlog") gets the
    topic just introduced ("Next, the fraud rules review.") in front of it.
    """
    notes: list[Note] = []
    last: Sentence | None = None
    for i, s in enumerate(sentences):
        if last is not None and s.index <= last.index or is_procedural(s.text):
            continue
        if not _decision_cue(s):
            # "Should we switch to weekly releases?" "Yes, let's do that.": the proposal is what was decided.
            agreed = _agreement(s.text)
            proposal = _proposal_before(sentences, i, weak=agreed == "weak") if agreed else None
            if proposal is None and VERDICT.match(strip_filler(s.text)):
                topic = _topic_before(sentences, i)
                proposal = _point_back(topic, strip_filler(s.text)) if topic else None
            if proposal:
                notes.append(Note(text=tidy(proposal), start=s.start, speaker=s.speaker))
                last = s
                while last.index + 1 < len(sentences) and sentences[last.index + 1].turn == s.turn and \
                        _agreement(sentences[last.index + 1].text):
                    last = sentences[last.index + 1]
            continue
        text = _first_person(strip_filler(s.text), s.speaker)
        if last is not None and _same_breath(last, s):
            notes[-1].text = tidy(notes[-1].text.rstrip(".") + ". " + text)
            last = s
            continue
        nxt = sentences[i + 1] if i + 1 < len(sentences) else None
        last = s
        if ANAPHORIC.search(text) and word_count(text) <= 8 and nxt is not None and _same_breath(s, nxt) \
                and not nxt.is_question:
            text = _first_person(strip_filler(nxt.text), nxt.speaker)
            last = nxt
        elif POINTS_BACK.match(text):
            topic = _topic_before(sentences, i)
            if topic:
                text = _point_back(topic, text)
            elif ANAPHORIC.search(text) and word_count(text) <= 8:
                text = _proposal_before(sentences, i) or text
        notes.append(Note(text=tidy(text), start=s.start, speaker=s.speaker))
    return notes


def _agreement(text: str) -> str | None:
    """"strong" for a sentence that only agrees ("Yes, let's."), "weak" for a bare yes, else None."""
    said = HESITATION.sub(" ", text).strip(" ,")
    if ACCEPTS.match(said):
        return "strong"
    return "weak" if CONFIRMS.match(said) else None


def _point_back(topic: str, text: str) -> str:
    """The topic in place of the word pointing back at it ("That one stays." -> "Dark mode stays."), else in front."""
    m = POINTS_BACK.match(text)
    if m and SUBJECT_VERB.match(text[m.end():]):
        return topic + text[m.end():]
    return f"{topic}: {text}"


def _proposal_before(sentences: list[Sentence], i: int, *, weak: bool = False) -> str | None:
    """What the other speaker just proposed, when sentence i opens a new turn: "should we switch to weekly releases?".

    A decision put as a question ("So we're going with the postal service?") is taken by a bare yes too (`weak`).
    """
    s = sentences[i]
    first = i
    while first > 0 and sentences[first - 1].turn == s.turn and first > i - 2:
        first -= 1
    if first == 0 or sentences[first - 1].turn == s.turn:
        return None
    prev = sentences[first - 1]
    if s.speaker is not None and prev.speaker == s.speaker:
        return None
    said = strip_filler(HESITATION.sub(" ", prev.text).strip(" ,"))
    confirming = CONFIRMING.match(said)
    if confirming and not is_procedural(prev.text):
        what = confirming.group("what").strip(" ,")
        verb = confirming.group("go")
        if word_count(what) >= 2 and not VAGUE_WHEN.search(what):
            return f"{'stick' if verb and 'stick' in verb.lower() else 'go'} with {what}" if verb else what
    m = None if weak or is_procedural(prev.text) else PROPOSED.match(said)
    if not m or word_count(m.group("what")) < 2 or VAGUE_WHEN.search(m.group("what")):
        return None
    return m.group("what").strip(" ,")


def _topic_before(sentences: list[Sentence], i: int) -> str | None:
    """The thing just put on the table: "Next, the refund flow." or "And what about the fraud review?"."""
    for prev in reversed(sentences[max(0, i - 3):i]):
        m = TOPIC.match(prev.text.strip()) if prev.speaker == sentences[i].speaker or prev.speaker is None else None
        if m and FINITE.search(m.group("topic")):
            m = None  # "That ticket has been sitting there for ages." says something; it names no topic
        m = m or ABOUT.search(prev.text)
        if m:
            return strip_filler(m.group("topic") or m.group("topic2")).rstrip(".?! ")
    return None


def _first_person(text: str, speaker: str | None) -> str:
    """'I'll lead the rollout' as 'Josh will lead the rollout' when we know who said it."""
    if not speaker:
        return text
    return re.sub(r"\bI(?:'ll|\s+will)\b", f"{speaker} will", text)


def find_blockers(sentences: list[Sentence]) -> list[Note]:
    """What stops work: one note per stretch of blocker talk, with its cause when said right after."""
    notes: list[Note] = []
    last: Sentence | None = None
    for i, s in enumerate(sentences):
        if s.is_question or not BLOCKED.search(s.text) or UNBLOCKED.search(s.text) or \
                last is not None and s.index <= last.index:
            continue
        text = strip_filler(s.text)
        if last is not None and _same_breath(last, s):
            notes[-1].text = tidy(notes[-1].text.rstrip(".") + ". " + text)
            last = s
            continue
        nxt = sentences[i + 1] if i + 1 < len(sentences) else None
        if nxt is not None and _same_breath(s, nxt) and not nxt.is_question and CAUSE.search(nxt.text) \
                and not BLOCKED.search(nxt.text):
            text = text.rstrip(".") + ". " + strip_filler(nxt.text)
            last = nxt
        else:
            last = s
        notes.append(Note(text=tidy(text), start=s.start, speaker=s.speaker))
    return notes
