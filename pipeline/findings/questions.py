"""Questions put to the meeting, who asked them, and whether someone else answered."""

from __future__ import annotations

import re

from pipeline.findings.actions import is_request
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import strip_filler, tidy, word_count
from pipeline.types import Question

# How a question opens when the recogniser dropped its question mark.
INTERROGATIVE = re.compile(
    r"^(?:(?:what|where|when|who|whom|whose|which|why|how)(?:'s|'re|'ll|'d)?\s+(?:\w+\s+)?"
    r"(?:is|are|was|were|do|does|did|can|could|will|would|should|have|has|much|many|long|big|far|often|about)\b|"
    r"(?:do|does|did|is|are|was|were|can|could|will|would|should|have|has|had)(?:n't)?\s+"
    r"(?:you|we|they|he|she|it|anyone|anybody|everyone|there|that|this|our|your|their)\b)", re.I)
# Tags and stock phrases that ask nothing: "remember?", "right?", "who doesn't?".
RHETORICAL = re.compile(
    r"(?:^|[,.]\s*)(?:right|remember|you\s+know|yeah|no|eh|huh|okay|ok|see|correct)\s*\?$|"
    r"^(?:who\s+doesn't|who\s+knows|why\s+not|what\s+could\s+go\s+wrong|how\s+hard\s+can\s+it\s+be|"
    r"who\s+cares|guess\s+what|you\s+know\s+what)\b|\bdo\s+you\s+remember\b|\bremember\s+(?:when|that|how)\b|"
    r"\bwho\s+designed\s+that\b", re.I)
# Running the meeting, not asking about work: "can everyone see it?", "do you want to kick us off?".
FACILITATION = re.compile(
    r"\b(?:can|could)\s+(?:everyone|everybody|you\s+all|you)\s+(?:see|hear)\b|"
    r"\b(?:do\s+you|does\s+anyone|who)\s+want(?:s)?\s+to\s+(?:go|start|kick|begin|lead|share|take\s+it)\b|"
    r"\bwho(?:'s|\s+is|\s+wants\s+to\s+go)\s+(?:next|first)\b|\b(?:shall|should)\s+we\s+(?:start|begin|get\s+going|"
    r"move\s+on|wrap\s+up|get\s+started)\b|\bis\s+everyone\s+here\b|\bam\s+i\s+(?:audible|on\s+mute)\b|"
    r"\bready\s*\?$|\brepeat\s+(?:that|the\s+question|yourself)\b|^(?:sorry,?\s+)?what\s+was\s+that\b|\bsay\s+that\s+again\b|^come\s+again\b|"
    r"\b(?:does\s+that|that)\s+makes?\s+sense\s*\?$|^(?:why\s+don't\s+we|how\s+about\s+we|shall\s+we)\b|"
    r"^(?:any|other)\s+(?:more\s+|other\s+)?questions\b|^(?:is\s+|are\s+)?(?:everyone|everybody|you\s+all|all)\s+(?:okay|ok|good|happy|fine|on\s+board|"
    r"aligned)\s+with\b|\bany\s+objections\b|^(?:does\s+that\s+|that\s+)?sounds?\s+good\s*\?$|^agreed\s*\?$|\bany(?:thing)?\s+(?:else|other\s+business)\b.*\?$", re.I)
SMALL_TALK = re.compile(
    r"\bhow(?:'s|\s+is|\s+was|\s+were|\s+are)\s+(?:the|your|you|things|it|everyone|everybody)\s*"
    r"(?:week|weekend|day|trip|holiday|holidays|vacation|conference|morning|evening|flight|break|doing|going|"
    r"been)?\b(?:\s+(?:going|so\s+far|last\s+week))?|\bhow\s+are\s+you\b|\bhow\s+have\s+you\s+been\b|"
    r"\bhow(?:'s|\s+is)\s+it\s+going\b", re.I)
SMALL_TALK_TOPIC = re.compile(r"\b(?:week|weekend|day|trip|holiday|holidays|vacation|conference|flight|break|"
                              r"you|things|everyone|everybody|been|it\s+going)\b", re.I)
# Replies that leave a question open: "I don't know", "good question", "let me check".
NON_ANSWER = re.compile(
    r"\b(?:(?:don't|do\s+not|dunno|didn't)\s+know|no\s+idea|not\s+sure|no\s+clue|good\s+question|great\s+question|"
    r"(?:have|need|'d\s+have)\s+to\s+check|let\s+me\s+check|i'll\s+check|get\s+back\s+to\s+you|find\s+out|"
    r"(?:would|'d)\s+rather\s+not|can't\s+say|cannot\s+say|couldn't\s+say|hard\s+to\s+say|nobody\s+knows|"
    r"no\s+one\s+knows|haven't\s+(?:done|looked|checked|worked|figured|got|decided)|not\s+(?:yet\s+)?decided|"
    r"look\s+(?:it|that|this)\s+up|(?:it's|that's|it\s+is|still)\s+unclear|unclear\s+(?:at\s+this\s+point|for\s+now|"
    r"so\s+far)|^unclear|(?:yet\s+)?to\s+be\s+(?:decided|determined|confirmed)|\btbd|double[\s-]check|"
    r"circle\s+back|follow\s+up\s+on\s+(?:that|this|it)|(?:i'll|let\s+me|i\s+will|i\s+can)\s+(?:confirm|"
    r"dig\s+into|look\s+into|ask\s+around)|no\s+word\s+yet|"
    r"i\s+haven't\s+thought|no\s+answer|(?:don't|do\s+not)\s+want\s+to\s+guess|can't\s+tell|i'm\s+not\s+the\s+right|"
    r"not\s+my\s+area|beats\s+me|revisit\s+(?:that|this|it)|come\s+back\s+to\s+(?:that|this|it)|"
    r"(?:table|park)\s+(?:that|this|it)|i\s+wish\s+i\s+knew|(?:nobody|no\s+one)\s+(?:replied|answered|knows|has\s+"
    r"(?:told|given|said|answered|replied|got\s+back)))\b",
    re.I)


# A question that a recogniser closed with a full stop, told by a comma splice after a plainly asking clause:
# "Who's taking it, though, Mark is already pretty full." (a wh-word and a verb in -ing, or a verb before its subject).
SPLICED = re.compile(
    r"^(?:(?:who|what|where|when|how|why)(?:'s|'re|\s+is|\s+are)\s+\w+ing\b|"
    r"(?:do|does|did|is|are|was|were|has|have|can|could|will|would|should)(?:n't)?\s+(?:you|we|they|anyone|anybody|"
    r"everyone|there|it|he|she|our|your|their)\s+\w+\b)[^,]*,", re.I)
# Asking without a question's form: "I was wondering whether the API has webhooks."
INDIRECT = re.compile(r"^(?:i\s+was\s+|i'm\s+|i\s+am\s+|just\s+|we\s+were\s+|we're\s+)?(?:wondering|curious)\s+"
                      r"(?:about|whether|if|how|what|when|who|why|where|which)\b|"
                      r"^(?:i'd|i\s+would|we'd)\s+(?:like|love)\s+to\s+(?:know|understand|hear)\s+"
                      r"(?:whether|if|how|what|when|who|why|where|which)\b", re.I)
# Replies that only make sense after a question: "Not yet.", "No idea.", "Good question."
PRESUPPOSES_QUESTION = re.compile(
    r"^(?:not\s+yet|no\s+idea|no\s+clue|(?:good|great|fair|tough)\s+question|beats\s+me|"
    r"(?:i\s+)?(?:honestly\s+|genuinely\s+|really\s+)?(?:don't|do\s+not)\s+know)\b", re.I)


# A topic raised for the next speaker to take up: "And the founders?" (the mark often lost).
ELLIPTIC = re.compile(r"^(?:(?:ok|okay|so|right|cool|great|and)\b[,.]?\s*)*\band\s+(?:the|your|their|our|his|her)\s+"
                      r"[\w'-]+(?:\s+[\w'-]+){0,3}[.!]?$", re.I)


def is_question(s: Sentence) -> bool:
    """Whether a sentence asks something, by its mark or, when the recogniser dropped it, by how it opens."""
    text = s.text.strip()
    if text.endswith("?"):
        return True
    bare = strip_filler(text)
    if INDIRECT.match(bare):
        return True
    # Only unfinished text gets the benefit of the doubt; a sentence closed with a full stop was not asked…
    if text.endswith((".", "!")):
        # … unless it plainly opens as a question and runs on into the next sentence with a comma.
        return text.endswith(".") and bool(SPLICED.match(bare))
    if word_count(text) < 3:
        return False
    if INTERROGATIVE.match(bare) and not bare.lower().startswith("which"):
        return True
    # Unfinished and run on with commas: "Next I told you, what does growth look like month to month,".
    return any(INTERROGATIVE.match(strip_filler(c)) and not strip_filler(c).lower().startswith("which")
               for c in re.split(r"[,;]\s+", bare)[1:])


def asked(sentences: list[Sentence], i: int) -> bool:
    """Whether sentence i asks something: by its own words, or because the reply only makes sense after a question.

    Recognisers often drop the question mark ("And anyone started on dark mode yet."); "Not yet." from someone
    else right after shows it was asked.
    """
    s = sentences[i]
    if is_question(s):
        return True
    text = s.text.strip()
    if text.endswith("!") or word_count(text) < 3 or i + 1 >= len(sentences):
        return False
    nxt = sentences[i + 1]
    if nxt.turn == s.turn or (s.speaker is not None and nxt.speaker == s.speaker):
        return False
    if ELLIPTIC.match(text):
        return True
    # A question just before is what the reply is about: "What limit do we want? Nobody told me." "No idea."
    if any(is_real_question(p) for p in sentences[max(0, i - 2):i]):
        return False
    reply = nxt.text.strip()
    return bool(PRESUPPOSES_QUESTION.match(reply) or PRESUPPOSES_QUESTION.match(strip_filler(reply)))


def question_part(text: str) -> str:
    """The asking part of a sentence: from the first clause that opens like a question.

    A question run on into a statement with a comma ("Who's taking it, though, Mark is full.") stops before it.
    """
    clauses = re.split(r"(?<=[,;])\s+", text)
    for n, clause in enumerate(clauses):
        bare = strip_filler(clause)
        if INTERROGATIVE.match(bare) or re.match(r"^(?:and\s+)?(?:what|where|when|who|which|why|how)\b", bare, re.I):
            rest = clauses[n + 1:]
            if text.rstrip().endswith(".") and SPLICED.match(bare + " ".join(rest[:1])):
                # Keep the tags that still belong to the question ("though", "then"), drop the statement after.
                kept = []
                for c in rest:
                    if word_count(c) > 2:
                        break
                    kept.append(c)
                return re.sub(r"[,;.]$", "?", " ".join([bare, *kept]).rstrip())
            return " ".join([bare, *rest])
    return strip_filler(text) or text


def is_real_question(s: Sentence, by_reply: bool = False) -> bool:
    """A question that asks the meeting something: not a tag, a joke, small talk, a request or a turn hand-off.

    `by_reply`: the reply already showed it was asked (see `asked`).
    """
    if not by_reply and not is_question(s):
        return False
    text = s.text.strip()
    asking = question_part(text)
    if RHETORICAL.search(asking) or FACILITATION.search(asking):
        return False
    if SMALL_TALK.search(asking) and SMALL_TALK_TOPIC.search(asking) and word_count(asking) <= 8:
        return False
    if is_request(asking):
        return False
    # "Which starts on Monday, …" is a relative clause the recogniser cut loose, not a question.
    if re.match(r"^which\s+\w+s\b", asking, re.I):
        return False
    return word_count(asking) >= 2


# What a reply may open with before it gets to the point: "Hmm.", "Good question.", "Honestly,".
OPENER = re.compile(r"^(?:(?:hmm+|um+|uh+|well|so|oh|ah|honestly|frankly|sorry|right|okay|ok|yeah|yes|no|sure|look|"
                    r"that's\s+a\s+(?:good|great|fair|tough)\s+question|(?:good|great|fair|tough)\s+question|"
                    r"let\s+me\s+think|(?:no|not)\s+(?:idea|sure)|(?:i\s+)?(?:don't|do\s+not)\s+know)\b[\s,.!?]*)+$", re.I)


def _answer_of(sentences: list[Sentence], last: int, asker: str | None) -> list[Sentence]:
    """The reply to a question that ends at sentence `last`: the next speaker's first sentences."""
    reply: list[Sentence] = []
    for s in sentences[last + 1:last + 8]:
        if asker is not None and s.speaker == asker:
            if reply:
                break
            continue
        if reply and s.turn != reply[0].turn:
            break
        reply.append(s)
        if len(reply) >= 3:
            break
    if asker is None:
        # Without speakers the asker may go on talking; judge on the next few sentences whoever said them.
        reply = sentences[last + 1:last + 4]
    return reply


def answered(sentences: list[Sentence], last: int, asker: str | None) -> bool:
    """Whether someone other than the asker answered, rather than deferring or admitting they don't know."""
    reply = _answer_of(sentences, last, asker)
    if not reply:
        return False
    # Deferrals come first in a reply ("Good question. I don't know"); later words are the answer's own. A short
    # first sentence that answers ("Double bookings, mostly.") is the answer, whatever follows.
    head = reply[:2] if word_count(reply[0].text) <= 5 and OPENER.match(reply[0].text.strip()) else reply[:1]
    if any(NON_ANSWER.search(s.text) for s in head):
        return False
    first = reply[0]
    # A reply that is itself only a new question from someone else leaves this one open.
    return not (first.text.strip().endswith("?") and is_real_question(first) and len(reply) == 1)


def _joins(prev: Sentence, cur: Sentence) -> bool:
    """Whether two questions in a row are one question said in two breaths ("Who's on call? Is it me?")."""
    if prev.index + 1 != cur.index or prev.speaker != cur.speaker or prev.turn != cur.turn:
        return False
    if cur.start - prev.start > 8:
        return False
    bare = strip_filler(cur.text)
    opens_anew = INTERROGATIVE.match(bare) or re.match(r"^(?:what|where|when|who|which|why|how)\b", bare, re.I)
    return bool(re.match(r"^(?:or)\b", cur.text.strip(), re.I)) or not opens_anew or \
        word_count(cur.text) <= 4 or word_count(prev.text) <= 4


def find_questions(sentences: list[Sentence]) -> list[Question]:
    """Real questions asked in the meeting, consecutive parts of one question joined."""
    groups: list[list[Sentence]] = []
    for i, s in enumerate(sentences):
        if not is_real_question(s, by_reply=asked(sentences, i)):
            continue
        if groups and _joins(groups[-1][-1], s):
            groups[-1].append(s)
        else:
            groups.append([s])
    out: list[Question] = []
    for group in groups:
        first, last = group[0], group[-1]
        text = tidy(" ".join(question_part(s.text) for s in group))
        out.append(Question(text=text, asked_by=first.speaker, answered=answered(sentences, last.index, first.speaker),
                            start=first.start, speaker=first.speaker))
    return out
