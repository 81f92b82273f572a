"""Board files: validated, statuses normalised, clear errors for anything unreadable."""

import json

import pytest

from core.errors import InputError
from pipeline.board import parse_board, read_board
from pipeline.types import Ticket


def test_board_statuses_are_normalised():
    tickets = parse_board([{"key": "A-1", "title": "Docs", "status": "In progress"},
                           {"key": "A-2", "title": "Login", "status": "Done"},
                           {"key": "A-3", "title": "Emails", "status": "Not started"}])
    assert tickets == [Ticket("A-1", "Docs", "IN_PROGRESS"), Ticket("A-2", "Login", "DONE"),
                       Ticket("A-3", "Emails", "TODO")]


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"key": "A-1"}', "must be a JSON list"),
    ('[{"key": "A-1"}]', "needs a non-empty"),
    ('[{"key": "A-1", "title": "x", "status": "WONTFIX"}]', "unknown status"),
    ('[{"key": "A-1", "title": "x"}, {"key": "A-1", "title": "y"}]', "appears twice"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # once a RecursionError traceback
])
def test_unreadable_boards_are_rejected(tmp_path, content, message):
    path = tmp_path / "board.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_board(path)


def test_missing_board_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_board(tmp_path / "nope.json")


def test_board_file_round_trip(tmp_path):
    path = tmp_path / "board.json"
    path.write_text(json.dumps([{"key": "K-1", "title": "T", "status": "TODO"}]))
    assert read_board(path) == [Ticket("K-1", "T", "TODO")]
