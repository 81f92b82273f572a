"""Which property of a Notion board is what, read from its data source's schema; property values both ways."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.names import called
from integrations.errors import PermanentError

STATES = ("TODO", "IN_PROGRESS", "DONE")

# Names looked for, in order, when the user names nothing (case-insensitive).
STATUS_NAMES = ("Status", "State", "Stage", "Column")
ASSIGNEE_NAMES = ("Assignee", "Assignees", "Owner", "Assigned to", "Assigned", "Person", "People")
OWNER_TEXT_NAMES = ("Owner", "Assignee", "Assigned to", "Responsible")
DUE_NAMES = ("Due date", "Due", "Deadline", "Due on", "Date")
LINK_NAMES = ("Link", "Meeting link", "Onno link", "URL", "Source")
MEETING_NAMES = ("Meeting", "Meeting name", "From meeting")
ONNO_ID_NAMES = ("Onno ID",)
KEY_NAMES = ("Key", "ID", "Ticket", "Ticket ID", "Issue")
ONNO_ID = "Onno ID"

# Our states' names on a board nobody configured; a status property's groups decide the rest.
DEFAULT_STATUS_NAMES = {"TODO": ("Not started", "To do", "To-do", "Todo", "Backlog", "Open", "New"),
                        "IN_PROGRESS": ("In progress", "Doing", "In review", "Started", "Ongoing", "WIP"),
                        "DONE": ("Done", "Complete", "Completed", "Finished", "Closed", "Shipped")}
GROUP_STATES = {"to-do": "TODO", "to do": "TODO", "todo": "TODO", "not started": "TODO",
                "in progress": "IN_PROGRESS", "complete": "DONE", "completed": "DONE", "done": "DONE"}

ROLES = ("title", "status", "assignee", "due", "link", "meeting", "key", "onno_id")
MAX_TEXT = 2000  # Notion's limit on one rich text object's content


@dataclass
class Mapping:
    """A board's properties as we use them; stored as JSON on the connection."""

    title: str
    status: str
    status_type: str  # status | select
    to_notion: dict[str, str]  # our state -> the option name we write
    from_notion: dict[str, str]  # option name -> our state (unknown names: no change)
    assignee_people: str | None = None
    assignee_text: str | None = None
    due: str | None = None
    link: str | None = None
    meeting: str | None = None
    meeting_type: str | None = None  # rich_text | select
    onno_id: str | None = None
    key: str | None = None
    key_type: str | None = None  # unique_id | rich_text
    notes: list[str] = field(default_factory=list)  # what could not be mapped, for `onno notion status`

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Mapping:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def state_of(self, option: str | None) -> str | None:
        if option is None:
            return None
        if option in self.from_notion:
            return self.from_notion[option]
        return {k.casefold(): v for k, v in self.from_notion.items()}.get(option.casefold())

    def describe(self) -> list[str]:
        """One line per role, for people reading `onno notion status`."""
        names = {"TODO": "", "IN_PROGRESS": "", "DONE": ""} | self.to_notion
        lines = [f"title: {self.title}",
                 f"status: {self.status} ({self.status_type}); " + ", ".join(f"{k} = {v!r}" for k, v in names.items()),
                 f"assignee: {self.assignee_people or '-'} (people)"
                 + (f", else {self.assignee_text} (text)" if self.assignee_text else ", else in the card's text"),
                 f"due date: {self.due or '-'}", f"link to the moment: {self.link or 'in the card text'}",
                 f"meeting: {self.meeting or '-'}", f"key: {self.key or '-'}",
                 f"onno id: {self.onno_id or '- (retries look cards up by title)'}"]
        return lines + [f"note: {n}" for n in self.notes]


def _find(props: dict, names: tuple[str, ...], types: tuple[str, ...], *, exclude: set[str] = frozenset()
          ) -> str | None:
    """The first property called one of `names` (any case) whose type is one of `types`."""
    by_fold = {name.casefold(): name for name in props if name not in exclude}
    for wanted in names:
        name = by_fold.get(wanted.casefold())
        if name and props[name]["type"] in types:
            return name
    return None


def _named(props: dict, name: str, types: tuple[str, ...], role: str) -> str:
    """The property the user named for `role`, which must exist and have a fitting type."""
    for candidate in props:
        if candidate.casefold() == name.casefold():
            if props[candidate]["type"] not in types:
                raise PermanentError(f"The board's property {candidate!r} is of type {props[candidate]['type']}; "
                                     f"{role} needs one of: {', '.join(types)}.")
            return candidate
    raise PermanentError(f"The board has no property {name!r} (for {role}); it has: {', '.join(sorted(props))}.")


def build_mapping(data_source: dict, *, overrides: dict | None = None) -> Mapping:
    """Read the data source's schema. `overrides`: {"properties": {role: name}, "statuses": {STATE: [names]}}."""
    props: dict = data_source.get("properties") or {}
    overrides = overrides or {}
    named: dict = overrides.get("properties", {})
    notes: list[str] = []

    def pick(role: str, names: tuple[str, ...], types: tuple[str, ...], exclude=frozenset()) -> str | None:
        if named.get(role):
            return _named(props, named[role], types, role)
        return _find(props, names, types, exclude=exclude)

    title = next((n for n, p in props.items() if p.get("type") == "title"), None)
    if title is None:
        raise PermanentError("The board has no title property; is this a database?")
    status = pick("status", STATUS_NAMES, ("status", "select"))
    if status is None:
        status = next((n for n, p in props.items() if p["type"] == "status"), None)
    if status is None:
        raise PermanentError(
            "The board has no Status property of type status or select: add one (e.g. Status with Not started, "
            "In progress, Done) or name it with --property status=NAME.")
    status_type = props[status]["type"]
    to_notion, from_notion = _status_names(props[status], overrides.get("statuses", {}))
    missing = [s for s in STATES if s not in to_notion]
    if missing:
        raise PermanentError(
            f"The board's {status!r} property has no option for {', '.join(missing)}: map them with "
            f"--status STATE=OPTION (its options: {', '.join(_option_names(props[status]))}).")

    people = text = None
    if named.get("assignee"):  # a people property, or a text one to write the owner's name in
        chosen = _named(props, named["assignee"], ("people", "rich_text"), "assignee")
        people, text = (chosen, None) if props[chosen]["type"] == "people" else (None, chosen)
    else:
        people = _find(props, ASSIGNEE_NAMES, ("people",))
    if named.get("assignee_text"):
        text = _named(props, named["assignee_text"], ("rich_text",), "assignee_text")
    elif text is None:
        text = _find(props, OWNER_TEXT_NAMES, ("rich_text",))
    due = pick("due", DUE_NAMES, ("date",))
    link = pick("link", LINK_NAMES, ("url",))
    meeting = pick("meeting", MEETING_NAMES, ("rich_text", "select"))
    onno_id = pick("onno_id", ONNO_ID_NAMES, ("rich_text",))
    key = pick("key", KEY_NAMES, ("unique_id", "rich_text"), exclude={onno_id} if onno_id else frozenset())
    if key is None:
        key = next((n for n, p in props.items() if p["type"] == "unique_id"), None)
    if people is None and text is None:
        notes.append("no Assignee (people) or Owner (text) property: owners go in the card's text")
    if onno_id is None:
        notes.append(f"no {ONNO_ID!r} text property: a retry after a crash finds cards by title instead")
    return Mapping(title=title, status=status, status_type=status_type, to_notion=to_notion, from_notion=from_notion,
                   assignee_people=people, assignee_text=text, due=due, link=link, meeting=meeting,
                   meeting_type=props[meeting]["type"] if meeting else None, onno_id=onno_id, key=key,
                   key_type=props[key]["type"] if key else None, notes=notes)


def _option_names(prop: dict) -> list[str]:
    return [o["name"] for o in (prop.get(prop["type"]) or {}).get("options", [])]


def _status_names(prop: dict, configured: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(our state -> option we write, option -> our state) from configuration, the defaults, and status groups."""
    options = _option_names(prop)
    by_fold = {o.casefold(): o for o in options}
    to_notion: dict[str, str] = {}
    from_notion: dict[str, str] = {}
    if prop["type"] == "status":  # Notion's groups say what each option means, whatever it is called
        by_id = {o["id"]: o["name"] for o in prop["status"].get("options", []) if "id" in o}
        for group in prop["status"].get("groups", []):
            state = GROUP_STATES.get(group.get("name", "").casefold())
            for option_id in group.get("option_ids", []) if state else ():
                if option_id in by_id:
                    from_notion.setdefault(by_id[option_id], state)
    for state in STATES:
        for name in DEFAULT_STATUS_NAMES[state]:
            if name.casefold() in by_fold:
                from_notion.setdefault(by_fold[name.casefold()], state)
    for state in STATES:
        default = next((by_fold[n.casefold()] for n in DEFAULT_STATUS_NAMES[state] if n.casefold() in by_fold), None)
        if default and from_notion.get(default) == state:
            to_notion[state] = default
        else:
            first = next((o for o in options if from_notion.get(o) == state), None)
            if first:
                to_notion[state] = first
            elif prop["type"] == "select":
                to_notion[state] = DEFAULT_STATUS_NAMES[state][0]  # writing a new select option creates it
                from_notion[to_notion[state]] = state
    for state, names in configured.items():
        if state not in STATES:
            raise PermanentError(f"Unknown state {state!r} in the status mapping; use {', '.join(STATES)}.")
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            option = by_fold.get(name.casefold())
            if option is None and prop["type"] == "status":
                raise PermanentError(f"The board's status has no option {name!r}; it has: {', '.join(options)}.")
            from_notion[option or name] = state
        to_notion[state] = by_fold.get(names[0].casefold(), names[0])
    return to_notion, from_notion


# -- values we write --------------------------------------------------------------------------------------

def rich_text(text: str, link: str | None = None) -> list[dict]:
    item: dict = {"type": "text", "text": {"content": text[:MAX_TEXT]}}
    if link:
        item["text"]["link"] = {"url": link}
    return [item]


def title_value(text: str) -> dict:
    return {"title": rich_text(text)}


def text_value(text: str) -> dict:
    return {"rich_text": rich_text(text) if text else []}


def status_value(mapping: Mapping, state: str) -> dict:
    return {mapping.status_type: {"name": mapping.to_notion[state]}}


# -- values we read ---------------------------------------------------------------------------------------

def plain(prop: dict | None) -> str | None:
    """A property value as text: title and text joined, an option's name, an ID as PREFIX-N, a URL."""
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind)
    if kind in ("title", "rich_text"):
        return "".join(p.get("plain_text") or p.get("text", {}).get("content", "") for p in value or []).strip()
    if kind in ("status", "select"):
        return value.get("name") if value else None
    if kind == "unique_id":
        if not value or value.get("number") is None:
            return None
        return f"{value['prefix']}-{value['number']}" if value.get("prefix") else str(value["number"])
    if kind in ("url", "email", "phone_number", "number"):
        return None if value is None else str(value)
    return None


@dataclass
class CardView:
    """One page of the board as we read it."""

    page_id: str
    title: str
    state: str | None  # TODO | IN_PROGRESS | DONE, or None for an option we do not map
    option: str | None
    key: str | None
    onno_id: str | None
    created_time: str | None


def read_card(page: dict, mapping: Mapping) -> CardView:
    props = page.get("properties") or {}
    option = plain(props.get(mapping.status))
    return CardView(page_id=page["id"], title=plain(props.get(mapping.title)) or "", state=mapping.state_of(option),
                    option=option, key=plain(props.get(mapping.key)) if mapping.key else None,
                    onno_id=plain(props.get(mapping.onno_id)) if mapping.onno_id else None,
                    created_time=page.get("created_time"))


# -- people -----------------------------------------------------------------------------------------------

def match_user(owner: str, users: list[dict]) -> str | None:
    """The Notion person an owner's name means: the full name, else a unique first name or name prefix."""
    people = [(u["name"], u["id"]) for u in users if u.get("type") == "person" and u.get("name")]
    found = called(owner, people, prefix=True)
    return found[0] if len(found) == 1 else None
