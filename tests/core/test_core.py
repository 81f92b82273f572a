"""The leaf kernel: one way to read Retry-After, compare people's names, word errors and hand back stored times."""

from __future__ import annotations

import datetime as dt
import email.utils
import time

import httpx
import pytest

from core.clock import aware, clock
from core.errors import InputError, UserError
from core.http import retry_after
from core.keys import MIN_CHARS, checked
from core.names import called, first_name, fold, owns
from core.retry import RetryPolicy


def test_retry_after_reads_seconds_dates_and_any_header_case():
    assert retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after({"retry-after": "2.5"}) == 2.5  # a plain dict, as slack_sdk hands back
    assert retry_after({"Retry-After": "-3"}) == 0.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after({"Retry-After": soon}) <= 31
    assert retry_after({}) is None and retry_after(None, default=1.0) == 1.0
    assert retry_after({"Retry-After": "soon"}, default=1.0) == 1.0


def test_one_backoff_doubles_up_to_its_cap_and_waits_at_least_what_the_receiver_asks():
    policy = RetryPolicy(base=5.0, cap=60.0, max_attempts=3)
    assert [policy.wait(n) for n in (0, 1, 2, 3, 4, 5)] == [5.0, 5.0, 10.0, 20.0, 40.0, 60.0]
    assert policy.wait(1, retry_after({"Retry-After": "30"})) == 30.0 and policy.wait(5, 3.0) == 60.0
    assert not policy.exhausted(2) and policy.exhausted(3)


def test_names_compare_in_any_case_and_spacing():
    assert fold("  Maya   CHEN ") == "maya chen" and first_name("Maya Chen") == "maya"
    assert owns("Lena", ["Lena Novak"]) and owns("lena novak", ["Lena"]) and not owns("Maya", ["Lena Novak"])
    assert not owns("Lena", ["Lena Novak"], by_first_name=False) and owns("LENA  novak", ["Lena Novak"],
                                                                           by_first_name=False)
    assert not owns(None, ["Lena"]) and not owns("Lena", [None])


def test_called_stops_at_the_first_step_that_finds_anyone():
    people = [("Maya Chen", 1), ("Maya Ruiz", 2), ("Daniel Ross", 3), ("Lena", 4)]
    assert called("maya chen", people) == [1]
    assert called("Maya", people) == [1, 2]  # two Mayas: the caller decides that is no one
    assert called("Daniel", people) == [3]
    assert called("Daniel Smith", people) == [] and called("Daniel Smith", people, first_word=True) == [3]
    assert called("Lena Novak", people, prefix=True) == [] and called("", people) == []
    assert called("Daniel", [("Daniel Ross Jr", 5), ("Danielle", 6)], prefix=True) == [5]


def test_stored_times_come_back_in_utc():
    naive = dt.datetime(2026, 1, 2, 3, 4)
    assert aware(naive) == naive.replace(tzinfo=dt.UTC) and aware(None) is None
    berlin = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert aware(berlin) is berlin
    assert clock(None) == "--:--" and clock(65) == "1:05" and clock(3725) == "1:02:05"


def test_a_coded_error_takes_its_wording_from_the_strings_and_renders_per_surface():
    with pytest.raises(UserError) as caught:
        checked("short", "ONNO_SECRET_KEY")
    err = caught.value
    assert isinstance(err, InputError) and err.code == "secret_key_too_short"
    assert err.problem.startswith(f"The secret key in ONNO_SECRET_KEY is 5 characters long; at least {MIN_CHARS}")
    assert "ONNO_SECRET_KEY to a long random value" in err.hint
    assert err.shown("cli") == f"{err.problem} {err.hint}"
    assert err.shown("slack") == err.shown("discord") == f"{err.problem}\n{err.hint}"
    web = InputError("A <b> tag & more.", "Run `onno web`.").shown("web")
    assert web == "A &lt;b&gt; tag &amp; more.<br>Run <code>onno web</code>."
    where = UserError("secret_key_too_short", where="<b>*file*</b>", length=3, minimum=16)
    assert where.shown("slack", escape=lambda v: v.replace("<", "&lt;").replace(">", "&gt;")).startswith(
        "The secret key in &lt;b&gt;*file*&lt;/b&gt; is 3 characters long")
    assert where.shown("web").startswith("The secret key in &lt;b&gt;*file*&lt;/b&gt; is 3")
    assert where.shown("cli").startswith("The secret key in <b>*file*</b> is 3")
    with pytest.raises(KeyError):
        UserError("no_such_code")
    with pytest.raises(ValueError):
        err.shown("fax")
