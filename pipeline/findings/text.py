"""Word-level helpers shared by the detectors: tokens, light stemming, clause cutting, tidying phrases."""

from __future__ import annotations

import re


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a literal, as a set."""
    return frozenset(text.split())


def word_list(text: str) -> list[str]:
    """The whitespace-separated words of a literal, in order."""
    return text.split()


WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Words too common to say anything about what a sentence is about.
STOPWORDS = word_set("""
a an the to of and or for on in at by with from is are was were be been being it its it's this that these
those i we you he she they me us him her them my our your their do does did will would can could shall should
may might must have has had not no so as if then than just also please okay ok yes yeah um uh let's lets let
going get got make sure all any some up out about into over there here what when who how which why i'll we'll
you'll i'm we're you're they're i've we've i'd we'd that's there's what's now still really very bit kind sort
one thing things well actually honestly maybe today yesterday tomorrow week new old more much
""")
# Endings stripped so "emails"/"email", "testing"/"tests" and "documented"/"document" meet.
SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "s")
# Short forms people say for the words on ticket titles.
ABBREVIATIONS = {"docs": "documentation", "doc": "documentation", "repo": "repository", "config": "configuration",
                 "auth": "authentication", "env": "environment", "perf": "performance", "infra": "infrastructure",
                 "db": "database", "ui": "interface", "prod": "production", "notifs": "notification",
                 "notif": "notification", "admin": "administration", "spec": "specification", "specs": "specification",
                 "pr": "pull", "app": "application", "apps": "application", "signup": "sign", "signups": "sign",
                 "login": "log", "logins": "log", "dev": "development", "qa": "quality", "i18n": "translation"}
FILLER_START = re.compile(
    r"^(?:(?:so|and|but|okay|ok|oh|um|uh|well|right|now|then|also|yeah|yes|great|good|cool|nice|perfect|sure|"
    r"alright|all right|anyway|actually|honestly|basically|fine|fair enough|got it|thanks|understood)\b[,.!]?\s*)+",
    re.I)


def words(text: str) -> list[str]:
    """Lower-case word tokens, keeping contractions whole."""
    return WORD.findall(text.lower().replace("\u2019", "'"))


def stem(word: str) -> str:
    """A crude stem: abbreviations expanded, common endings dropped, a final silent e too.

    "invoice", "invoices" and "invoicing" all become "invoic"; "release" and "released" both "releas".
    """
    word = ABBREVIATIONS.get(word, word)
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word


def content_stems(text: str) -> set[str]:
    """Stems of the words that carry meaning."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and not w.isdigit()}


def overlap(a: str, b: str) -> float:
    """Share of the smaller side's content words that the other side also has."""
    sa, sb = content_stems(a), content_stems(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def strip_filler(text: str) -> str:
    """Drop leading discourse words ("Okay, so", "Great.") that say nothing."""
    return FILLER_START.sub("", text.strip()).strip()


def tidy(text: str) -> str:
    """A phrase ready to show: single spaces, no dangling punctuation, first letter capitalised."""
    text = re.sub(r"\s+", " ", text).strip(" ,;:-")
    text = re.sub(r"\s+([,.?!])", r"\1", text)
    text = text.rstrip(",;:")
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text


def word_count(text: str) -> int:
    """How many words a text has."""
    return len(words(text))


# Hesitations that carry nothing, wherever they fall: "um for uh our designer" -> "for our designer".
HESITATION = re.compile(r"(?:^|(?<=[\s,]))(?:um+|uh+|uhm+|erm+|er|ah+|hmm+|mm+|mm-hmm|uh-huh)(?:[,.]?(?=\s|$))",
                        re.I)
# A word said twice in a row, as speech does: "our our project", "I I think".
REPEAT = re.compile(r"\b(\w+(?:'\w+)?)(?:\s+\1\b)+", re.I)


def clean_spoken(text: str) -> str:
    """Speech as a note-taker writes it: hesitations and stutters gone, leading discourse words dropped."""
    text = HESITATION.sub(" ", text)
    text = REPEAT.sub(r"\1", text)
    text = re.sub(r"\s+,", ",", re.sub(r"\s+", " ", text)).strip(" ,")
    return tidy(strip_filler(text))


def content_offset(text: str) -> int:
    """Where a sentence's words begin once leading hesitations and discourse words are skipped."""
    at = 0
    while True:
        rest = text[at:]
        m = HESITATION.match(rest) or FILLER_START.match(rest)  # both anchored: match the rest, not at a pos
        if not m or not m.end():
            break
        at += m.end()
        while at < len(text) and text[at] in " ,.":
            at += 1
    return at if at < len(text) else 0
