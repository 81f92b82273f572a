"""Which person a name in a meeting means: one way of comparing names for every place that looks people up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def fold(name: str | None) -> str:
    """A name as compared: any case, any spacing ("  maya   CHEN " is "maya chen")."""
    return " ".join((name or "").split()).casefold()


def first_name(name: str | None) -> str:
    return fold(name).partition(" ")[0]


def called(want: str | None, people: Iterable[tuple[str | None, T]], *, first_word: bool = False,
           prefix: bool = False) -> list[T]:
    """Those of `people` ((name, who) pairs) that `want` names, from the first step that finds anyone: the same
    name; else `want` as their first name; with `first_word`, else the first word of `want` as their first name;
    with `prefix`, else a name that starts with `want`. Callers decide what more than one means."""
    key = fold(want)
    if not key:
        return []
    people = [(fold(name), who) for name, who in people if fold(name)]
    steps = [lambda n: n == key, lambda n: n.partition(" ")[0] == key]
    if first_word:
        steps.append(lambda n: n.partition(" ")[0] == key.partition(" ")[0])
    if prefix:
        steps.append(lambda n: n.startswith(key + " "))
    for step in steps:
        found = [who for name, who in people if step(name)]
        if found:
            return found
    return []


def owns(owner: str | None, names: Iterable[str | None], *, by_first_name: bool = True) -> bool:
    """Whether an item's `owner` names the person who goes by `names`: one of them, or (by_first_name) one being the
    other's first name ("Maya" owns "Maya Chen"'s items, and the other way round)."""
    o = fold(owner)
    if not o:
        return False
    return any(n and (o == n or by_first_name and (o == first_name(n) or first_name(o) == n)) for n in map(fold, names))
