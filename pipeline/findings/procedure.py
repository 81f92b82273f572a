"""Lines that only run the meeting ("Let's move on", "I'll share my screen"), never an action item or a decision; and
findings too vague or too broken off to act on ("Put it in there", "Re-explain me the"), never delivered."""

from __future__ import annotations

import re

from pipeline.findings.text import STOPWORDS, clean_spoken, word_set, words

# Who is about to do the meeting move: "let's", "I'll", "can we", "I think we should"…
_WHO = (r"(?:(?:let's|let\s+us|let\s+me|i'll|i\s+will|we'll|we\s+will|we\s+can|we\s+could|we\s+should|we\s+need\s+to|"
        r"can\s+we|could\s+we|shall\s+we|should\s+we|can\s+i|i'm\s+going\s+to|i'm\s+gonna|we're\s+going\s+to|"
        r"we're\s+gonna|i\s+want\s+to|i'd\s+like\s+to|we\s+have\s+to|(?:i\s+think\s+|maybe\s+)we\s+(?:should|can|could)|"
        r"why\s+don't\s+we|how\s+about\s+we|i\s+suggest\s+we)\s+)?")
_SOFT = r"(?:(?:just|quickly|now|then|maybe|probably|perhaps|actually|quickly|briefly|already)\s+)*"
_IT = r"(?:this|that|it|these|those|them|the\s+rest|this\s+one|that\s+one|the\s+details)"
# The move itself. Those that name where the talk goes next ("move on to the budget") may run on.
_MOVE = "|".join((
    r"mov(?:e|ing)\s+on(?:\s+to\b.*)?", r"(?:go|get|jump|skip|turn)\s+(?:on\s+)?to\s+(?:the\s+)?next\b.*",
    r"next\s+(?:item|topic|point|question|thing|slide|agenda\s+item|one)\b.*", r"(?:back|get\s+back)\s+to\s+the\s+agenda\b.*",
    rf"take\s+(?:{_IT}|\w+(?:\s+\w+){{0,3}}?)\s+offline(?:\s+\w+){{0,3}}", rf"(?:discuss|talk\s+about|continue|handle|do)\s+{_IT}\s+offline",
    rf"(?:{_IT}|that's|this\s+is)\s+(?:is\s+)?(?:one\s+)?for\s+(?:offline|another\s+(?:time|meeting|day))",
    rf"(?:come|circle|get)\s+back\s+(?:to|on)\s+{_IT}(?:\s+later)?", r"circle\s+back(?:\s+later)?",
    rf"park\s+{_IT}(?:\s+for\s+now)?", rf"(?:put\s+)?{_IT}\s+(?:in|on)\s+the\s+parking\s+lot",
    r"share\s+(?:my|the|your)\s+screen", r"stop\s+sharing(?:\s+my\s+screen)?",
    r"(?:can|do)\s+(?:you|everyone|everybody|you\s+all)\s+(?:see\s+my\s+screen|hear\s+me)",
    r"(?:check|look\s+at)\s+(?:the|on\s+the)\s+time", r"keep\s+an\s+eye\s+on\s+(?:the\s+)?(?:time|clock)",
    r"watch\s+the\s+(?:time|clock)", r"(?:we're|we\s+are)\s+(?:running\s+)?(?:out\s+of|short\s+on|over)\s+time",
    r"get\s+(?:started|going)", r"start\s+(?:the\s+meeting|with\s+(?:the\s+)?(?:agenda|updates|introductions|intros))",
    r"kick\s+(?:things\s+|it\s+|this\s+)?off", r"begin",
    r"wrap\s+(?:up|this\s+up|it\s+up|things\s+up)", r"call\s+it\s+a\s+day", r"end\s+(?:here|there|the\s+meeting)",
    r"stop\s+(?:here|there)", r"leave\s+it\s+there", r"close\s+the\s+meeting",
    r"take\s+a\s+(?:short\s+|quick\s+|\w+[-\s]minute\s+)?break",
    r"go\s+(?:a)?round\s+the\s+(?:room|table)", r"do\s+(?:a\s+)?(?:quick\s+)?(?:round|intros?|introductions)",
    r"(?:un)?mute(?:\s+(?:myself|yourself))?", r"you're\s+(?:still\s+)?on\s+mute",
    r"take\s+(?:the\s+|some\s+)?(?:notes?|minutes)(?:\s+as\s+we\s+go(?:\s+through)?)?",
    r"mov(?:e|ing)\s+to\s+(?:the\s+)?next\b.*", r"go\s+for\s+(?:our|the)\s+(?:\w+\s+){0,2}meeting",
    r"(?:go|move|hand|pass|turn|come)\s+(?:it\s+)?(?:over\s+)?to\s+(?:the\s+|our\s+)?(?:\w+\s+){0,2}(?:designers?|experts?|"
    r"specialists?|manager|presenters?|presentations?|slides?)\b.*",
    r"let\s+(?:you|you\s+all|everyone|them|him|her)\s+(?:to\s+)?(?:do|give|start|present|go)\b.*",
    r"(?:direct|guide|take|walk)\s+(?:you|everyone|us)\s+through\s+(?:the|this|our)\s+(?:project|meeting|agenda|slides?)",
    r"(?:meet|see)\s+(?:you|everyone|you\s+all)\s+(?:back\s+)?(?:in|at|after)\b.*", r"record\s+(?:this|the\s+meeting)",
    r"(?:act|be)\s+as\s+(?:the\s+)?(?:secretary|note-?taker|chair)(?:\s+for\s+(?:this|the)\s+meeting)?",
    r"play\s+(?:the\s+)?role\s+of\s+(?:the\s+)?(?:secretary|note-?taker|chair)", r"sit\s+down",
    r"(?:open|close|chair|run)\s+(?:the|this|our)\s+(?:\w+\s+){0,2}meeting", r"go\s+back\s+to\s+(?:the\s+)?agenda\b.*",
    rf"(?:have|take)\s+a\s+(?:quick\s+|closer\s+)?look(?:\s+at\s+{_IT})?",
))
_TAIL = (r"(?:\s+(?:now|then|please|quickly|first|here|today|again|later|for\s+now|guys|everyone|everybody|folks|"
         r"all|real\s+quick|for\s+(?:a\s+)?(?:second|sec|moment|minute|bit)))*")
PROCEDURAL = re.compile(rf"^{_WHO}{_SOFT}(?:{_MOVE}){_TAIL}\s*[.!?]*$", re.I)


def is_procedural(text: str) -> bool:
    """Whether a sentence only runs the meeting: moving on, taking a point offline, sharing a screen, the time."""
    return bool(PROCEDURAL.match(clean_spoken(text)))


def opens_procedural(text: str) -> bool:
    """Whether a finding's first clause only runs the meeting: "Act as secretary and take minutes as we go"."""
    first = re.split(r",\s*|\s+(?:and|or|but|then|so)\s+", clean_spoken(text), maxsplit=1)[0]
    return is_procedural(first)


# Words that say what a finding is about no more than "it" does: "Put it in there", "Do that next time".
NOTHING_SAID = STOPWORDS | word_set("""
mine yours ours theirs everything something anything nothing everyone someone one ones there here next time minute
second moment later two three four five six seven eight nine ten first last way same other stuff lot
""")
# How a sentence cut off mid-phrase ends: "Re-explain me the", "Give I will".
BROKEN_OFF = re.compile(r"\b(?:the|a|an|my|your|our|their|his|its|to|of|for|with|and|or|but|so|at|from|by|i|will|"
                        r"would|can|could|should)\s*[.,!?]*$", re.I)


def is_unspecific(text: str, *, least: int = 1) -> bool:
    """Whether a finding names too little to act on (fewer than `least` words beyond its first that say what) or
    breaks off mid-phrase; such a finding is shown as possible, never delivered."""
    said = clean_spoken(text)
    rest = words(said)[1:]
    return sum(w not in NOTHING_SAID for w in rest) < least or bool(BROKEN_OFF.search(said))
