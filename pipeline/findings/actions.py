"""Action items: commitments ("I'll…"), requests ("Peter, can you…"), assignments ("let's have Priya…")."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pipeline.findings.dates import find_dates
from pipeline.findings.people import People, next_speaker
from pipeline.findings.procedure import is_procedural
from pipeline.findings.reference import resolve, resolve_thing
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import content_stems, overlap, tidy, word_count, word_set
from pipeline.types import ActionItem

ADVERBS = r"(?:(?:also|just|then|probably|definitely|quickly|still|first|actually|really|personally|now|today|" \
          r"happily|gladly|certainly|right|go\s+ahead\s+and|please)\s+)*"
SELF = re.compile(r"\b(?:i(?:'ll|\s+will|\s+shall)|i'm\s+going\s+to|i\s+am\s+going\s+to|i'm\s+gonna|i\s+can|"
                  r"let\s+me|i\s+need\s+to|i\s+have\s+to|i've\s+got\s+to|i'm\s+happy\s+to|i'd\s+be\s+happy\s+to|"
                  r"i\s+promise\s+to|i\s+plan\s+to|i'm\s+planning\s+to)\s+" + ADVERBS, re.I)
REQUEST = re.compile(r"\b(?:would\s+you\s+mind|(?:can|could|would|will)\s+you|why\s+don't\s+you|"
                     # Work put to the room: whoever answers takes it ("Can someone look into…?" "I'll take it.").
                     r"(?:can|could|would|will)\s+(?:someone|somebody|anyone|anybody)|"
                     r"(?:we|i)\s+(?:also\s+|still\s+|really\s+)?need\s+(?:someone|somebody|a\s+volunteer)\s+to|"
                     r"(?:is|would)\s+(?:anyone|anybody|someone)\s+(?:be\s+)?(?:able|willing|free)\s+to|"
                     r"(?:does|do)\s+(?:anyone|anybody)\s+(?:want|have\s+time)\s+to|"
                     r"i'd\s+like\s+you\s+to|i\s+need\s+you\s+to|you\s+need\s+to|make\s+sure\s+(?:that\s+)?you|"
                     r"don't\s+forget\s+to|remember\s+to|(?:^|(?<=[,.]\s))please(?!\s+do\b))\s+(?:maybe\s+)?" + ADVERBS, re.I)
OFFER = re.compile(r"\b(?:do\s+you\s+want\s+me\s+to|want\s+me\s+to|would\s+you\s+like\s+me\s+to|should\s+i|"
                   r"shall\s+i)\s+" + ADVERBS, re.I)
# Verbs that after "I'll"/"can you" are not a piece of work to track.
NOT_TASKS = word_set("""
be regret love like want know think guess see say imagine miss hope bet admit remember wait believe agree go mean
feel assume understand hear live repeat recap summarize summarise stop kick hand pass leave keep get-used
explain clarify elaborate describe talk join stay quote skip
""")
# In-meeting moves rather than work: "let me share my screen", "I'll start with the updates".
LOGISTICS = re.compile(r"^(?:share\s+(?:my|the|your)\s+screen|start\s+(?:with|us|off|the\s+meeting)|"
                       r"go\s+(?:first|next|through|over)|take\s+notes|be\s+quick|keep\s+it\s+short|"
                       r"just\s+(?:say|add)|see\b|check\s+(?:the\s+)?time|get\s+(?:started|going)|"
                       r"dial|mute|unmute|get\s+used|walk\s+(?:us|me|you|them|everyone)\s+through|show\s+(?:us|me|you)\b|"
                       r"tell\s+(?:us|me|you)\b|give\s+(?:us|me|you)\s+(?:a|an|the)\s+(?:quick\s+|short\s+|brief\s+)?"
                       r"(?:update|overview|summary|rundown|intro)|introduce\s+(?:yourself|myself)|"
                       r"add\s+(?:one|a|something)\s+(?:more\s+)?(?:thing|point|comment|note)|pull\s+up|"
                       r"open\s+(?:the|my|up)\b|scroll|zoom|click|switch\s+(?:screens|tabs)|answer\s+(?:that|this)|"
                       r"jump\s+in|chime\s+in|be\s+brief|"
                       r"let\s+(?:you|you\s+all|everyone|everybody|them|us|people)\s+know\s*$)", re.I)


def _named_pattern(people: People) -> re.Pattern:
    """A named person and a modal: "Michael will…", "Ana is going to…", "Priya and Tom can…"."""
    return re.compile(rf"\b(?P<name>{people.pattern})(?:\s+and\s+(?P<name2>{people.pattern}))?(?:\s+"
                      r"(?:will|'ll|is\s+going\s+to|are\s+going\s+to|is\s+gonna|can|should|needs\s+to|has\s+to|"
                      r"is\s+to)|'ll|'s\s+(?:going\s+to|gonna))\s+" + ADVERBS)


def _note_style_pattern(people: People) -> re.Pattern:
    """How note-takers hand out work aloud: "action item for Nina: …", "so Nina to update the pricing page"."""
    return re.compile(rf"\baction\s+items?\s+(?:for|on)\s+(?P<name>{people.pattern})\s*[:,-]?\s+(?:to\s+)?|"
                      rf"(?:^|[,.;:]\s*|\b(?:so|and|then)\s+)(?P<name2>{people.pattern})\s+to\s+(?!be\b|the\b|a\b)",
                      re.I)


def _lets_have_pattern(people: People) -> re.Pattern:
    """Work handed to someone: "let's have Priya own that", "let's make Victor the owner of…"."""
    both = rf"(?P<name>{people.pattern})(?:\s+and\s+(?P<name2>{people.pattern}))?\s+"
    return re.compile(rf"\b(?:let's|let\s+us|we'll|we\s+will)\s+(?:have|get|ask|make)\s+{both}"
                      r"(?:to\s+|(?=(?:the\s+)?owners?\s+of\b))?|"
                      # "I'd like Omar to…", "we need Priya to…", "can we get Tom to…": the "to" makes it work.
                      rf"\b(?:(?:i'd|i\s+would|we'd|we\s+would)\s+like|(?:i|we)\s+(?:want|need)|"
                      rf"(?:can|could)\s+we\s+(?:have|get|ask))\s+{both.replace('name', 'o_name')}to\s+", re.I)


# "Ethan writes the test plan, and Mark builds the refund logic": work handed out in the present tense.
ASSIGN_VERBS = ("takes|writes|builds|handles|does|owns|sends|reviews|tests|fixes|sets\\s+up|prepares|drafts|"
                "covers|runs|picks\\s+up|looks\\s+into|updates|checks|organi[sz]es|books|calls|emails|follows\\s+up|"
                "designs|documents|investigates|contacts|schedules|coordinates|chases|finishes|creates")


def _assign_pattern(people: People) -> re.Pattern:
    """A name and a present-tense verb of work: "Ethan writes the test plan"."""
    # Case-blind: recognisers write "and mark builds…"; the verb after the name keeps this safe.
    return re.compile(rf"\b(?P<name>{people.pattern})\s+(?=(?:{ASSIGN_VERBS})\b)", re.I)


IMPERATIVES = ("send|review|write|update|check|fix|book|call|email|share|prepare|draft|schedule|follow\\s+up|"
               "look\\s+into|ask|find|make\\s+sure|create|add|test|finish|post|pick|reach\\s+out|chase|organi[sz]e|"
               "circulate|set\\s+up|put\\s+together|get|take|talk\\s+to|loop\\s+in|ping|remind")


def _vocative_imperative(people: People) -> re.Pattern:
    """'Peter, please review the draft' — a name, a comma, then a plain verb of work."""
    return re.compile(rf"(?:^|[,.]\s*)(?P<name>{people.pattern}),\s+(?:please\s+)?(?=(?:{IMPERATIVES})\b)")


# Where a task's words stop: the reason or condition after it is not the task.
CUT = re.compile(r",?\s+(?:so\s+that|so\s+(?:they|we|you|i|it|he|she|that)\b|since|because|as\s+soon\s+as|once|"
                 r"while|which|if|but|although|though|unless|when)\b|,\s+so\b|[.;!?]|,\s+(?:and\s+)?then\b|"
                 # A new clause run on with a comma (recognisers write commas for full stops):
                 # "…by Friday, a meeting is much harder to ignore", "…the list, it's for the pilot".
                 r",\s+(?=(?:(?:a|an|the|this|that|it|he|she|they|we|i|there)(?:\s+\w+){0,3}?\s+(?:is|are|was|were|has|"
                 r"have|had|will|would|can|could|should|does|do|did)\b|(?:it's|that's|there's|i'm|we're|they're|"
                 r"he's|she's|i've|we've)\b))", re.I)
# Said after the task, a purpose or a condition carries its own date: "…, so we can take it to the partners on
# the 7th" is not when the task is due.
NOT_DUE_AFTER = re.compile(r"^,?\s+(?:so\s+that|so\s+(?:they|we|you|i|it|he|she)\b|since|because|as\s+soon\s+as|"
                           r"once|while|which|if|unless|when|although|though|"
                           r"so\s+(?:\w+\s+){1,3}?(?:can|could|will|would|has|have|gets?|is|are|don't|doesn't|won't)\b)",
                           re.I)
HYPOTHETICAL = re.compile(r"^(?:maybe|possibly|perhaps|someday|one\s+day|probably\s+not|never|not)\b", re.I)
IF_CLAUSE = re.compile(r"\bif\b[^.;]*,\s*$", re.I)
NOT_COMMITTED = re.compile(r"\b(?:if|unless|think|thinks|thought|worried|afraid|wish|whether|hope|hoped)\s+(?:that\s+)?"
                           r"(?:\w+\s+){0,2}$", re.I)
ACCEPT = re.compile(r"^(?:sure|yes|yeah|yep|yup|ok(?:ay)?|of\s+course|absolutely|definitely|no\s+problem|will\s+do|"
                    r"deal|fine|sounds\s+good|can\s+do|happy\s+to|certainly|alright|all\s+right|that\s+works|"
                    r"works\s+for\s+me|please\s+do|consider\s+it\s+done|on\s+it|got\s+it|you\s+bet|for\s+sure|i\s+can\s+do\s+that)"
                    r"\b", re.I)
REFUSE = re.compile(r"^(?:no\b(?!\s+problem)|not\s+me\b|sorry|i\s+can't|i\s+cannot|not\s+really|unfortunately|i\s+won't)", re.I)
NEW_ITEM = re.compile(r"^(?:[\w']+[,.]?\s+){0,2}(?:and|plus|oh,?\s+and)\b|\balso\b|\bas\s+well\b|\btoo[.!]?$", re.I)
VAGUE = re.compile(r"^(?:own|take|handle|cover|share|lead)(?:\s+\w+)?$|^(?:\w+\s+){0,1}(?:it|that|this|them|those|one|so|you|him|her|us)"
                   r"(?:\s+(?:up|over|out|on|off|for\s+you|done|ready|finished|sorted))*"
                   r"(?:\s+with\s+\w+(?:\s+\w+)?)?$", re.I)
PERSON_END = re.compile(r"\b(?:you|him|her|us|me)$", re.I)
# Words a task never starts with: a commitment cut off by the recogniser ("I can And you…").
NOT_VERBS = word_set("and but or so you i we they he she it the a an this that these those my our your their already")
# A second step that hands the result over: "…, I'll send it over", "and post them back".
HANDOVER = re.compile(r"^\w+\s+(?:it|them|that|this)\s+(?:over|out|across|along|back|round|around|through|on)$",
                      re.I)
BY_DATE = re.compile(r"\b(?:by|before|no\s+later\s+than|in\s+time\s+for|done\s+(?:on|for)|ready\s+(?:on|for))\s+\w",
                     re.I)
THANKS = re.compile(r"^(?:thanks|thank\s+you|cheers|nice\s+one|well\s+done)\b", re.I)
DUE_HINT = re.compile(r"\b(?:is\s+fine|works|(?:would\s+)?be\s+(?:great|good|ideal|nice)|ideally|at\s+the\s+latest|latest|"
                      r"no\s+rush|is\s+okay|is\s+ok|should\s+be\s+fine|if\s+possible)\b", re.I)
WHO_WILL = re.compile(r"\bwho(?:'s|\s+is|\s+will|\s+can|\s+wants\s+to)\s+(?:going\s+to\s+|gonna\s+)?"
                      r"(?P<verb>[a-z]+)\s+(?P<object>(?:the|a|an|this|that|our)\s+[^?,.]{2,50})", re.I)
QUESTION_WORD = re.compile(r"\b(?:who|what|when|how|why|whether|which)\b", re.I)
DECIDED = re.compile(r"\b(?:decided|settled|agreed)\b[\s,]*(?:then|now)?[.!]?$", re.I)
TRAILING = re.compile(r"(?:\s+(?:too|as\s+well|please|then|now|anyway|again|for\s+me|for\s+us|at\s+some\s+point|"
                      r"later|ideally|first|soon|right\s+away|asap))+$", re.I)


@dataclass
class Candidate:
    """An action item in the making, before duplicates and agreements are folded together."""

    sentence: Sentence
    text: str
    owner: str | None
    kind: str  # "self", "named", "request", "assign", "offer"
    due: dt.date | None
    vague: bool
    accepting: bool = False
    new_item: bool = False


def _task_text(clause: str, today: dt.date) -> tuple[str, dt.date | None]:
    """The task phrase of a clause and its deadline, with the deadline words and trailing reasons removed."""
    cut = CUT.search(clause)
    task = clause[:cut.start()] if cut else clause
    dates = find_dates(task, today)
    if not dates and cut:
        rest = clause[cut.start():]
        if NOT_DUE_AFTER.match(rest):
            # Skip the purpose or condition itself; a deadline may still follow it ("…, Monday's fine").
            after = re.search(r"[,;.]\s+", rest[1:])
            rest = rest[after.end() + 1:] if after else ""
        dates = find_dates(rest, today)
    due = dates[0].date if dates else None
    # "I'll try to…", "I'll need to…", "I'll have to…": the work is the verb after.
    task = re.sub(r"^\s*(?:try\s+(?:to|and)|need\s+to|have\s+to|want\s+to)\s+", "", task, flags=re.I)
    for d in sorted(find_dates(task, today), key=lambda d: d.start, reverse=True):
        before = re.sub(r"(?:[\s,]+(?:by|on|before|until|till|for|in|so|my|from|the|and|due))+$", "",
                        " " + task[:d.start].rstrip(" ,"), flags=re.I).strip()
        after = re.sub(r"^\s+(?:night|morning|afternoon|evening|at\s+the\s+latest)\b", "", task[d.end:], flags=re.I)
        task = before + after
    task = re.sub(r"[\s,]+(?:and|or|but|then|so)$", "", task.strip(" ,"), flags=re.I)
    task = TRAILING.sub("", task.strip(" ,"))
    return tidy(task), due


def _base_verb(verb: str) -> str:
    """'taking' as 'take', 'writing' as 'write', 'running' as 'run': good enough for a task's first word."""
    verb = verb.lower()
    if not verb.endswith("ing") or len(verb) <= 4:
        return verb
    stem = verb[:-3]
    if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in "ls":
        return stem[:-1]
    if len(stem) <= 4 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", stem):
        return stem + "e"
    return stem


def _jaccard(a: str, b: str) -> float:
    """Shared content words over all content words of two phrases."""
    sa, sb = content_stems(a), content_stems(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _base_form(task: str) -> str:
    """'Writes the test plan' as the instruction 'Write the test plan'."""
    first, _, rest = task.partition(" ")
    lower = first.lower()
    if lower in ("does", "goes") or re.search(r"(?:ch|sh|x|ss)es$", lower):
        base = lower[:-2]
    elif lower.endswith("ies"):
        base = lower[:-3] + "y"
    else:
        base = lower[:-1] if lower.endswith("s") else lower
    return tidy(f"{base} {rest}")


def _verb_ok(task: str) -> bool:
    """Whether a task phrase starts with a verb of real work."""
    first = (task.split() or [""])[0].lower().strip(",.")
    if not first or first in NOT_TASKS or first in NOT_VERBS or LOGISTICS.match(task):
        return False
    return not HYPOTHETICAL.match(task)


class ActionFinder:
    """Finds action items in a meeting's sentences."""

    def __init__(self, sentences: list[Sentence], people: People, today: dt.date) -> None:
        self.sentences = sentences
        self.people = people
        self.today = today
        self.named = _named_pattern(people)
        self.lets_have = _lets_have_pattern(people)
        self.note_style = _note_style_pattern(people)
        self.assign = _assign_pattern(people)
        self.imperative = _vocative_imperative(people)

    # --- one sentence -------------------------------------------------------------------------------------------

    def anchors(self, s: Sentence) -> list[tuple[int, int, str, str | None]]:
        """(start, end, kind, owner) for every place a task is taken on or handed out in a sentence."""
        found: list[tuple[int, int, str, str | None]] = []
        text = s.text
        for m in SELF.finditer(text):
            if re.match(r"\s*can't|\s*cannot", text[m.start() + 1:]):
                continue
            found.append((m.start(), m.end(), "self", s.speaker))
        for m in REQUEST.finditer(text):
            found.append((m.start(), m.end(), "request", None))
        for m in OFFER.finditer(text):
            found.append((m.start(), m.end(), "offer", s.speaker))
        for m in self.named.finditer(text):
            found.append((m.start(), m.end(), "named", self.people.canonical(m["name"]) if not m["name2"] else None))
        for m in self.lets_have.finditer(text):
            name, name2 = m["name"] or m["o_name"], m["name2"] or m["o_name2"]
            found.append((m.start(), m.end(), "named", self.people.canonical(name) if not name2 else None))
        for m in self.note_style.finditer(text):
            found.append((m.start(), m.end(), "named", self.people.canonical(m["name"] or m["name2"])))
        for m in self.assign.finditer(text):
            found.append((m.start(), m.end(), "assign", self.people.canonical(m["name"])))
        for m in self.imperative.finditer(text):
            found.append((m.end(), m.end(), "named", self.people.canonical(m["name"])))
        found.sort()
        # Overlapping anchors ("Sophie, can you" found as both request and vocative) keep the first.
        kept: list[tuple[int, int, str, str | None]] = []
        for a in found:
            if kept and a[0] < kept[-1][1]:
                continue
            kept.append(a)
        return kept

    def candidates(self, i: int) -> list[Candidate]:
        """The action candidates said in sentence i."""
        s = self.sentences[i]
        if self._after_decision(i) or is_procedural(s.text):
            return []
        anchors = self.anchors(s)
        out: list[Candidate] = []
        for n, (begin, end, kind, owner) in enumerate(anchors):
            stop = anchors[n + 1][0] if n + 1 < len(anchors) else len(s.text)
            before = s.text[anchors[n - 1][1] if n else 0:begin]
            if NOT_COMMITTED.search(before) or IF_CLAUSE.search(before):
                continue
            if kind in ("self", "named") and s.is_question and QUESTION_WORD.search(before):
                continue
            task, due = _task_text(s.text[end:stop], self.today)
            if due is None and n == 0:
                lead = find_dates(before, self.today)
                due = lead[-1].date if lead else None
            if not task or not _verb_ok(task):
                continue
            if kind == "assign":
                task = _base_form(task)
            elif kind == "request" and re.match(r"would\s+you\s+mind", s.text[begin:end], re.I):
                first, _, rest = task.partition(" ")
                task = tidy(f"{_base_verb(first)} {rest}")
            task = re.sub(r"^(?:the\s+)?owners?\s+of\b", "Own", task, flags=re.I)
            if kind == "self" and n == 0:
                asked = self._who_asked(i)
                if asked and VAGUE.match(task):
                    task = asked
                elif asked and overlap(task, asked) < 0.5:
                    task = f"{asked}: {task[:1].lower()}{task[1:]}"
            if kind == "request":
                owner = self.people.vocative(s.text) or self._previous_vocative(i)
            task = re.sub(rf"[\s,]+(?:{self.people.pattern})$", "", task)
            if s.speaker:
                task = re.sub(r"\b(send|give|forward|email|mail|show|ping|copy|cc|pass|hand|to)\s+me\b",
                              rf"\1 {s.speaker}", task, flags=re.I)
            task = resolve_thing(resolve(task, self.sentences, i, self.people, [owner]), self.sentences, i)
            accepting = self._accepting(i)
            out.append(Candidate(sentence=s, text=task, owner=owner, kind=kind, due=due,
                                 vague=bool(VAGUE.match(task)) or word_count(task) <= 1 or (
                                     accepting and task.lower().startswith("make sure")),
                                 accepting=accepting, new_item=bool(NEW_ITEM.search(s.text))))
        return out

    def _accepting(self, i: int) -> bool:
        """Whether sentence i belongs to a turn that opens by agreeing ("Sure. I'll…")."""
        s = self.sentences[i]
        opener = s
        for prev in reversed(self.sentences[max(i - 2, 0):i]):
            if prev.turn != s.turn:
                break
            opener = prev
        return bool(ACCEPT.match(opener.text))

    def _after_decision(self, i: int) -> bool:
        """A commitment right after "that's decided, then." states the decision rather than new work."""
        s = self.sentences[i]
        return i > 0 and self.sentences[i - 1].turn == s.turn and bool(DECIDED.search(self.sentences[i - 1].text))

    def _who_asked(self, i: int) -> str | None:
        """The work a "who…?" question in the turn before asked for: "Who is going to write the launch note?"."""
        s = self.sentences[i]
        first_of_turn = next((x for x in self.sentences[max(0, i - 3):i + 1] if x.turn == s.turn), s)
        if first_of_turn.index == 0:
            return None
        for prev in reversed(self.sentences[max(0, first_of_turn.index - 2):first_of_turn.index]):
            m = WHO_WILL.search(prev.text)
            if m and (prev.speaker != s.speaker or s.speaker is None):
                return tidy(f"{_base_verb(m['verb'])} {m['object']}")
        return None

    def _previous_vocative(self, i: int) -> str | None:
        """A name that closed the speaker's sentence before: "One last thing, James. Can you…"."""
        s = self.sentences[i]
        for prev in reversed(self.sentences[max(0, i - 3):i]):
            if prev.speaker == s.speaker and (prev.turn == s.turn or s.speaker is not None):
                return self.people.trailing_vocative(prev.text)
        return None

    # --- across sentences ---------------------------------------------------------------------------------------

    def _following_due(self, i: int) -> dt.date | None:
        """A deadline said right after a request by the same speaker: "…? Monday is fine."."""
        here = self.sentences[i]
        for s in self.sentences[i + 1:i + 3]:
            if (s.turn != here.turn and s.speaker is not None) or self.anchors(s):
                break
            dates = find_dates(s.text, self.today)
            if dates and (word_count(s.text) <= 6 or DUE_HINT.search(s.text)):
                return dates[0].date
        return None

    def _reply_due(self, i: int) -> dt.date | None:
        """A deadline the person asked gives in their reply: "Sure. You'll have it by Thursday."."""
        response = self._response(i)
        if not response or REFUSE.match(response[0].text):
            return None
        for s in response[:3]:
            dates = find_dates(s.text, self.today)
            if dates and (BY_DATE.search(s.text) or DUE_HINT.search(s.text) or word_count(s.text) <= 5):
                return dates[0].date
        return None

    def _response(self, i: int) -> list[Sentence]:
        """The first sentences of the next turn after sentence i."""
        s = self.sentences[i]
        later = [x for x in self.sentences[i + 1:i + 6] if x.turn != s.turn]
        if not later:
            return []
        if s.speaker is None and later[0].speaker is None:
            # Unlabelled turns are guesses: a reply said in short sentences ("Yes, please." "Keep it rough."
            # "Friday is fine.") reads as several turns, so take the reply until someone asks or hands out work.
            reply = []
            for x in later[:4]:
                if reply and (x.is_question or self.anchors(x)):
                    break
                reply.append(x)
            return reply
        return [x for x in later if x.turn == later[0].turn][:4]

    def _addressed_speaker(self, i: int) -> str | None:
        """Who is talking in unlabelled sentence i, when the turn before handed them the floor by name.

        "Great, Peter, you're up." "So the backup monitoring is done… I'll update the runbook." — the "I" is Peter.
        """
        s = self.sentences[i]
        first = i
        while first > 0 and self.sentences[first - 1].turn == s.turn and i - first < 6:
            first -= 1
        if first == 0 or self.sentences[first - 1].turn == s.turn:
            return None
        prev = self.sentences[first - 1]
        if THANKS.match(prev.text):
            return None  # "Thanks, Peter." closes Peter's turn; it does not open one
        return self.people.vocative(prev.text) or self.people.trailing_vocative(prev.text)

    def _answering(self, i: int, items: list[Candidate]) -> str | None:
        """Who is talking in unlabelled sentence i when it answers a request made to a named person.

        "Victor, can you write it up?" "Will do. I'll also add a test." — the "I" is Victor.
        """
        s = self.sentences[i]
        opener = s
        for prev in reversed(self.sentences[max(0, i - 2):i]):
            if not ACCEPT.match(prev.text) or word_count(prev.text) > 4:
                break
            opener = prev
        if not ACCEPT.match(opener.text) and opener is s:
            return None
        asked = opener.index - 1
        for c in reversed(items[-3:]):
            if c.sentence.index == asked and c.kind in ("request", "named") and c.owner:
                return c.owner
        return None

    def find(self) -> list[ActionItem]:
        """All action items of the meeting, agreements and restatements folded into the first statement."""
        items: list[Candidate] = []
        for i in range(len(self.sentences)):
            for c in self.candidates(i):
                if c.kind == "self" and c.owner is None and c.sentence.speaker is None:
                    c.owner = self._answering(i, items) or self._addressed_speaker(i)
                if c.kind in ("request", "offer") and not self._settle_exchange(c, i):
                    continue
                if c.due is None and c.kind in ("request", "named", "assign", "self"):
                    c.due = self._following_due(i)
                if c.due is None and c.kind in ("request", "named"):
                    c.due = self._reply_due(i)
                if not self._fold(c, items):
                    items.append(c)
        # "Share it" with nobody named says nothing a reader could act on.
        return [self._item(c) for c in items
                if not (c.vague and (c.owner is None or word_count(c.text) <= 1 or PERSON_END.search(c.text)))]

    def _settle_exchange(self, c: Candidate, i: int) -> bool:
        """Fill a request's owner from who answers it; keep an offer only when it is accepted."""
        response = self._response(i)
        first = response[0] if response else None
        answered_by = first.speaker if first else None
        if c.kind == "offer":
            if first is None or not ACCEPT.match(first.text) and not re.match(r"^(?:please|that\s+would)", first.text,
                                                                               re.I):
                return False
            if c.due is None:
                for s in response:
                    dates = find_dates(s.text, self.today)
                    if dates:
                        c.due = dates[0].date
                        break
            c.kind = "self"
            return True
        if first is not None and REFUSE.match(first.text):
            return False
        if c.owner is None:
            speaker = c.sentence.speaker
            if answered_by and answered_by != speaker:
                c.owner = answered_by
            else:
                c.owner = self.people.other_than(speaker) or (next_speaker(self.sentences, i)
                                                              if next_speaker(self.sentences, i) != speaker else None)
        return True

    def _fold(self, c: Candidate, items: list[Candidate]) -> bool:
        """Merge c into an earlier item it only agrees to, restates or refines; True when merged."""
        s = c.sentence
        for prev in reversed(items[-6:]):
            p = prev.sentence
            if s.index - p.index > 6:
                break
            same_owner = c.owner is None or prev.owner is None or c.owner == prev.owner
            if not same_owner:
                continue
            unlabelled = s.speaker is None and p.speaker is None
            other_turn = s.turn != p.turn
            acknowledges = c.vague or c.accepting and not c.new_item and (
                overlap(c.text, prev.text) >= 0.34 or c.owner is not None and c.owner == prev.owner)
            agrees = other_turn and prev.kind in ("request", "named", "assign") and acknowledges and \
                s.index - p.index <= 5
            restates = _jaccard(c.text, prev.text) >= 0.5 and not (c.new_item and not other_turn)
            refines = (not other_turn or unlabelled) and (prev.vague or c.vague) and s.index - p.index <= 3 \
                and not c.new_item
            if agrees or restates or refines:
                if prev.vague and not c.vague:
                    prev.text = c.text
                    prev.vague = False
                elif refines and c.vague and HANDOVER.match(c.text) and not prev.vague:
                    # "I have to check the number, I'll send it over": one task in two steps.
                    prev.text = f"{prev.text} and {c.text[:1].lower()}{c.text[1:]}"
                prev.due = prev.due or c.due
                prev.owner = prev.owner or c.owner
                return True
        return False

    def _item(self, c: Candidate) -> ActionItem:
        return ActionItem(text=c.text, owner=c.owner, due=c.due.isoformat() if c.due else None,
                          start=c.sentence.start, speaker=c.sentence.speaker)


def find_action_items(sentences: list[Sentence], people: People, today: dt.date) -> list[ActionItem]:
    """Action items said in a meeting."""
    return ActionFinder(sentences, people, today).find()


def is_request(text: str) -> bool:
    """Whether a question is really a request for work ("Peter, can you review the draft?")."""
    m = REQUEST.search(text) or OFFER.search(text)
    if not m:
        return False
    task = text[m.end():]
    return _verb_ok(task)
