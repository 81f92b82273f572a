"""The language-model findings labeller against a real local HTTP server speaking OpenAI's chat completions."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from integrations.llm.breaker import reset_breakers
from integrations.llm.chunks import chunk_ranges, estimate_tokens
from integrations.llm.client import OpenAILabeller
from integrations.llm.config import LLMConfig
from integrations.llm.prompts import transcript_lines
from onno.cli import main
from onno.settings import Settings
from pipeline.findings import extract_findings
from pipeline.findings.llm_merge import LLM_CONFIDENT
from pipeline.run import Transcript, analyse
from pipeline.types import MeetingInfo, Segment, Ticket

API_KEY = "sk-test-123"
MODEL = "test-model"

SEGMENTS = [
    Segment(0.0, 4.5, "Good morning. Bob, can you finish the login page by Friday?", "Alice"),
    Segment(5.0, 9.0, "Yes, I'll have it done by Friday.", "Bob"),
    Segment(10.0, 14.0, "The API docs are in progress now.", "Alice"),
    Segment(15.0, 19.0, "What is our current monthly recurring revenue?", "Bob"),
    Segment(20.0, 24.0, "It is fifty thousand dollars.", "Alice"),
    Segment(25.0, 29.0, "We decided to ship the beta to ten design partners first.", "Bob"),
    Segment(30.0, 34.0, "We are waiting on the payment provider review.", "Alice"),
]
BOARD = [Ticket("ENG-12", "Backend API documentation", "TODO"), Ticket("ENG-14", "Login page", "IN_PROGRESS")]

GOOD = {
    "action_items": [{"segment": 0, "text": "Finish the login page", "owner": "Bob", "due": "2026-11-20",
                      "confidence": 0.95}],
    "questions": [{"segment": 3, "text": "What is our current monthly recurring revenue?", "asked_by": "Bob",
                   "answered": True}],
    "decisions": [{"segment": 5, "text": "Ship the beta to ten design partners first", "confidence": 0.9}],
    "blockers": [{"segment": 6, "text": "Waiting on the payment provider review", "confidence": 0.8}],
    "metrics": [{"segment": 4, "name": "mrr", "value": 50000, "evidence": "fifty thousand dollars"}],
    "ticket_updates": [{"segment": 2, "key": "ENG-12", "to": "IN_PROGRESS", "certain": True,
                        "evidence": "The API docs are in progress now."},
                       {"segment": 2, "key": "ENG-99", "to": "DONE", "certain": True, "evidence": "made up"}],
    "summary": "Bob takes the login page; MRR is $50k; the beta goes to design partners first.",
}


def completion(content: str | None, *, prompt_tokens: int = 100, completion_tokens: int = 20,
               refusal: str | None = None, finish_reason: str = "stop") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


class FakeOpenAI:
    """A chat-completions endpoint that checks each request and answers with `reply(request)`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.errors: list[str] = []
        # (status, body dict or text, seconds to wait first) for the parsed request body.
        self.reply: Callable[[dict], tuple[int, dict | str, float]] = lambda req: (200, completion(json.dumps(GOOD)),
                                                                                   0)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                problems = fake.check(self.path, self.headers, body)
                fake.requests.append(body)
                if problems:
                    fake.errors += problems
                    status, payload, wait = 400, {"error": {"message": "; ".join(problems)}}, 0.0
                else:
                    status, payload, wait = fake.reply(body)
                time.sleep(wait)
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (the timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @staticmethod
    def check(path: str, headers, body: dict) -> list[str]:
        """What a real OpenAI-compatible server would reject, or what we promised to send."""
        problems = []
        if path != "/v1/chat/completions":
            problems.append(f"path {path}")
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            problems.append(f"authorization {headers.get('Authorization')!r}")
        if body.get("model") != MODEL:
            problems.append(f"model {body.get('model')!r}")
        if [m.get("role") for m in body.get("messages", [])] != ["system", "user"]:
            problems.append("messages are not [system, user]")
        if not all(isinstance(m.get("content"), str) and m["content"] for m in body.get("messages", [])):
            problems.append("a message without text")
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        if fmt.get("type") != "json_schema" or fmt["json_schema"].get("strict") is not True:
            problems.append(f"response_format {fmt.get('type')!r}, not strict json_schema")
        if schema.get("type") != "object" or schema.get("additionalProperties") is not False or \
                set(schema.get("required", ())) != set(GOOD):
            problems.append("schema is not a strict object with every finding kind required")
        defs = schema.get("$defs", {})
        for kind in ("action_items", "decisions", "blockers"):
            ref = schema.get("properties", {}).get(kind, {}).get("items", {}).get("$ref", "")
            item = defs.get(ref.rsplit("/", 1)[-1], {})
            if "confidence" not in item.get("required", ()) or \
                    item.get("properties", {}).get("confidence", {}).get("type") != "number":
                problems.append(f"{kind} items do not require a confidence number")
        return problems

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    reset_breakers()
    server = FakeOpenAI()
    yield server
    server.close()
    reset_breakers()
    assert not server.errors, server.errors


def config(fake: FakeOpenAI, **kw) -> LLMConfig:
    return LLMConfig(**{"model": MODEL, "base_url": fake.url, "api_key": API_KEY, "timeout": 5.0, "max_retries": 0,
                        **kw})


def run(llm: LLMConfig, segments: list[Segment] = SEGMENTS, board: list[Ticket] = BOARD) -> dict:
    info = MeetingInfo(title="Standup", type="standup", date=dt.date(2026, 11, 16), participants=["Alice", "Bob"])
    return analyse(Transcript(segments, segments[-1].end, "transcript"), info, board,
                   llm=OpenAILabeller(llm)).to_dict()


def local(segments: list[Segment] = SEGMENTS, board: list[Ticket] = BOARD) -> dict:
    info = MeetingInfo(title="Standup", type="standup", date=dt.date(2026, 11, 16), participants=["Alice", "Bob"])
    return extract_findings(segments, info, board).to_dict()


def without_engine(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("meeting", "transcript", "engine")}


def test_a_good_reply_becomes_findings_with_times_speakers_usage_and_cost(fake):
    result = run(config(fake, price_input_per_mtok=2.0, price_output_per_mtok=8.0))
    assert result["engine"] == {"name": "llm", "model": MODEL, "fallback_reason": None, "cost_usd": 0.00036,
                                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                                          "requests": 1}}
    assert result["action_items"] == [{"text": "Finish the login page", "owner": "Bob", "due": "2026-11-20",
                                       "start": 0.0, "speaker": "Alice", "confidence": 0.95,
                                       "evidence": SEGMENTS[0].text, "end": 4.5}]
    assert result["questions"] == [{"text": "What is our current monthly recurring revenue?", "asked_by": "Bob",
                                    "answered": True, "start": 15.0, "speaker": "Bob"}]
    assert result["decisions"][0] == {"text": "Ship the beta to ten design partners first", "start": 25.0,
                                      "speaker": "Bob", "confidence": 0.9, "evidence": SEGMENTS[5].text, "end": 29.0}
    assert result["blockers"][0]["start"] == 30.0
    assert result["metrics"] == [{"name": "mrr", "value": 50000, "unit": "USD", "start": 20.0, "speaker": "Alice",
                                  "evidence": "fifty thousand dollars"}]
    assert result["summary"] == GOOD["summary"]
    # Checklist gaps come from the meeting type's checklist, their vocabulary fixed.
    topics = {q["topic"] for q in result["suggested_questions"]}
    assert topics and topics <= {"owners", "deadlines", "blockers", "dependencies", "risks", "success_metrics"}
    assert "owners" not in topics and "blockers" not in topics
    prompt = fake.requests[0]["messages"][1]["content"]
    assert "[3] 00:15 Bob: What is our current monthly recurring revenue?" in prompt
    assert "ENG-12 [TODO] Backend API documentation" in prompt and "Monday 2026-11-16" in prompt


def test_unsure_items_are_kept_apart_as_possible_and_never_in_the_delivered_lists(fake):
    reply = {**GOOD,
             "action_items": [*GOOD["action_items"], {"segment": 1, "text": "Maybe look at the signup flow",
                                                      "owner": None, "due": None, "confidence": 0.4}],
             "decisions": [{"segment": 5, "text": "Ship the beta to design partners", "confidence": 0.55}],
             "blockers": [{"segment": 6, "text": "Waiting on the payment provider review",
                           "confidence": LLM_CONFIDENT}]}
    fake.reply = lambda req: (200, completion(json.dumps(reply)), 0)
    result = run(config(fake))
    assert [a["text"] for a in result["action_items"]] == ["Finish the login page"]
    assert result["possible_action_items"] == [{"text": "Maybe look at the signup flow", "owner": None,
                                                "due": None, "start": 5.0, "speaker": "Bob", "confidence": 0.4,
                                                "evidence": SEGMENTS[1].text, "end": 9.0}]
    assert result["decisions"] == [] and [d["confidence"] for d in result["possible_decisions"]] == [0.55]
    assert result["possible_decisions"][0]["evidence"] == SEGMENTS[5].text
    assert [b["confidence"] for b in result["blockers"]] == [LLM_CONFIDENT] and result["possible_blockers"] == []
    # The model is told what the number means and where the line is.
    system = fake.requests[0]["messages"][0]["content"]
    assert "confidence" in system and f"under {LLM_CONFIDENT:g}" in system


def test_the_model_and_the_local_engine_give_findings_of_one_shape(fake):
    model, rules = run(config(fake)), local()
    assert set(model) - {"meeting", "transcript", "engine"} == set(rules)
    for kind in ("action_items", "decisions", "blockers", "questions", "metrics", "ticket_updates"):
        assert model[kind] and rules[kind], kind
        assert set(model[kind][0]) == set(rules[kind][0]), kind
    for kind in ("action_items", "decisions", "blockers"):
        for item in model[kind] + rules[kind]:
            assert 0 <= item["confidence"] <= 1 and item["evidence"] and item["end"] > item["start"], (kind, item)


def test_the_pipeline_imports_no_network_client():
    code = ("import sys, pipeline.run, pipeline.findings.labeller; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('integrations', 'openai')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_an_unknown_ticket_key_from_the_model_is_never_applied(fake):
    result = run(config(fake))
    assert result["ticket_updates"] == [{"key": "ENG-12", "from": "TODO", "to": "IN_PROGRESS", "start": 10.0,
                                         "speaker": "Alice", "evidence": "The API docs are in progress now."}]
    assert [(u["key"], u["from"], u["to"]) for u in result["unconfirmed_ticket_updates"]] == [
        ("ENG-99", "UNKNOWN", "DONE")]


def test_an_uncertain_or_no_op_ticket_move_is_not_applied(fake):
    reply = {**GOOD, "ticket_updates": [
        {"segment": 2, "key": "eng-12", "to": "DONE", "certain": False, "evidence": "docs done?"},
        {"segment": 1, "key": "ENG-14", "to": "IN_PROGRESS", "certain": True, "evidence": "already in progress"}]}
    fake.reply = lambda req: (200, completion(json.dumps(reply)), 0)
    result = run(config(fake))
    assert result["ticket_updates"] == []
    assert [(u["key"], u["from"], u["to"]) for u in result["unconfirmed_ticket_updates"]] == [
        ("ENG-12", "TODO", "DONE")]


def long_meeting() -> list[Segment]:
    segments = []
    for i in range(40):
        who = ("Alice", "Bob")[i % 2]
        text = (f"Did anyone check task number {i} yet?" if i % 5 == 4 else
                f"I will handle task number {i} and write up the notes for it afterwards.")
        segments.append(Segment(i * 6.0, i * 6.0 + 5.0, text, who))
    return segments


def chunk_reply(req: dict) -> tuple[int, dict, float]:
    """Findings for exactly the lines sent: each question answered unless it is the chunk's last line."""
    lines = re.findall(r"^\[(\d+)\] \S+ (\w+): (.*)$", req["messages"][1]["content"], re.M)
    last = int(lines[-1][0])
    reply = {k: [] for k in GOOD if k != "summary"} | {"summary": f"Part up to line {last}."}
    for idx, speaker, text in lines:
        i = int(idx)
        if text.endswith("?"):
            reply["questions"].append({"segment": i, "text": text, "asked_by": speaker, "answered": i != last})
        else:
            # Unsure of a task on the chunk's last line (its answer not seen); the next chunk repeats the line.
            reply["action_items"].append({"segment": i, "text": f"Handle task number {i}", "owner": speaker,
                                          "due": None, "confidence": 0.5 if i == last else 0.9})
    return 200, completion(json.dumps(reply), prompt_tokens=300, completion_tokens=50), 0


def test_a_long_meeting_is_sent_in_chunks_and_merged_without_duplicates(fake):
    fake.reply = chunk_reply
    segments = long_meeting()
    result = run(config(fake, max_chunk_tokens=150), segments, [])
    n = len(fake.requests)
    assert n >= 3
    sent = [[int(x) for x in re.findall(r"^\[(\d+)\]", r["messages"][1]["content"], re.M)] for r in fake.requests]
    assert all(len(s) < len(segments) for s in sent)
    assert sorted(set(sum(sent, []))) == list(range(len(segments)))
    assert len(sum(sent, [])) > len(segments), "chunks overlap a little"
    assert result["engine"]["name"] == "llm"
    assert result["engine"]["usage"] == {"prompt_tokens": 300 * n, "completion_tokens": 50 * n,
                                         "total_tokens": 350 * n, "requests": n}
    assert [a["start"] for a in result["action_items"]] == [i * 6.0 for i in range(40) if i % 5 != 4]
    assert all(a["speaker"] == a["owner"] for a in result["action_items"])
    # A task seen unsure at one chunk's end and sure in the next, overlapping one, is delivered once, sure.
    assert result["possible_action_items"] == []
    assert {a["confidence"] for a in result["action_items"]} == {0.9}
    questions = result["questions"]
    assert [q["start"] for q in questions] == [i * 6.0 for i in range(40) if i % 5 == 4]
    # A question that ended one chunk is seen answered in the next, overlapping one.
    assert all(q["answered"] for q in questions[:-1]) and not questions[-1]["answered"]
    assert result["summary"].count("Part up to line") == n


def test_chunks_respect_the_token_budget_and_a_long_line_goes_alone():
    lines = transcript_lines([Segment(float(i), i + 1.0, "word " * (200 if i == 3 else 10), "A") for i in range(12)])
    chunks = chunk_ranges(lines, 80)
    assert chunks[0].start == 0 and chunks[-1].stop == 12
    assert any(3 in c and estimate_tokens(lines[3]) > 80 for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start <= a.stop < b.stop, "every chunk brings new lines, after a little overlap"
    for before, c in zip([range(0)] + chunks, chunks, strict=False):
        new = range(before.stop, c.stop)
        assert sum(estimate_tokens(lines[i]) for i in new) <= 80 or list(new) == [3]
    assert sum(b.start < a.stop for a, b in zip(chunks, chunks[1:], strict=False)) >= 2


def bad(status: int, payload: dict | str, wait: float = 0.0):
    return lambda req: (status, payload, wait)


FAILURES = {
    "invalid json": (bad(200, completion("{not json")), "invalid output"),
    "schema violation": (bad(200, completion(json.dumps({**GOOD, "metrics": [{"segment": 4, "name": "profit",
                                                                              "value": 1, "evidence": ""}]}))),
                         "invalid output"),
    "missing field": (bad(200, completion(json.dumps({k: v for k, v in GOOD.items() if k != "blockers"}))),
                      "invalid output"),
    "due not a date": (bad(200, completion(json.dumps({**GOOD, "action_items": [
        {"segment": 0, "text": "x", "owner": None, "due": "Friday", "confidence": 0.9}]}))), "invalid output"),
    "segment not sent": (bad(200, completion(json.dumps({**GOOD, "decisions": [{"segment": 99, "text": "x",
                                                                                "confidence": 0.9}]}))),
                         "invalid output"),
    "confidence not 0..1": (bad(200, completion(json.dumps({**GOOD, "blockers": [
        {"segment": 6, "text": "Waiting on review", "confidence": 80}]}))), "invalid output"),
    "no confidence": (bad(200, completion(json.dumps({**GOOD, "decisions": [{"segment": 5, "text": "x"}]}))),
                      "invalid output"),
    "cut off": (bad(200, completion('{"action_items": [', finish_reason="length")), "invalid output: cut off"),
    "http 500": (bad(500, {"error": {"message": "boom"}}), "HTTP 500"),
    "body not json": (bad(200, "<html>gateway</html>"), "invalid response"),
    "refusal": (bad(200, completion(None, refusal="I can't help with that.")), "refused: I can't help"),
    "timeout": (bad(200, completion(json.dumps(GOOD)), wait=2.0), "timeout after 0.5 s"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failed_reply_falls_back_to_the_local_engine_with_the_reason(fake, case):
    fake.reply, reason = FAILURES[case]
    result = run(config(fake, timeout=0.5))
    engine = result["engine"]
    assert engine["name"] == "local" and engine["model"] == MODEL
    assert engine["fallback_reason"] and engine["fallback_reason"].startswith(reason), engine["fallback_reason"]
    assert without_engine(result) == local()
    assert result["action_items"], "never an empty result"
    assert engine["usage"]["requests"] == 1 and len(fake.requests) == 1


def test_tokens_of_an_unusable_reply_are_still_counted(fake):
    fake.reply = bad(200, completion("{not json", prompt_tokens=1000, completion_tokens=10))
    engine = run(config(fake, price_input_per_mtok=1.0))["engine"]
    assert engine["usage"]["prompt_tokens"] == 1000 and engine["cost_usd"] == 0.001


def test_a_dead_endpoint_falls_back_with_a_connection_error():
    reset_breakers()
    server = FakeOpenAI()
    url = server.url
    server.close()
    result = run(LLMConfig(model=MODEL, base_url=url, api_key=API_KEY, timeout=2.0, max_retries=0))
    assert result["engine"]["name"] == "local"
    assert result["engine"]["fallback_reason"].startswith("connection error")
    assert without_engine(result) == local()


def test_the_client_retries_a_server_error_once_not_more(fake):
    fake.reply = bad(503, {"error": {"message": "overloaded"}})
    result = run(config(fake, max_retries=1))
    assert result["engine"]["fallback_reason"].startswith("HTTP 503")
    assert len(fake.requests) == 2


def test_the_circuit_opens_after_repeated_failures_and_half_opens_after_the_cool_down(fake):
    fake.reply = bad(500, {"error": {"message": "down"}})
    llm = config(fake, breaker_failures=3, breaker_seconds=1.0)
    reasons = [run(llm)["engine"]["fallback_reason"] for _ in range(5)]
    assert [r.split(":")[0] for r in reasons] == ["HTTP 500"] * 3 + ["circuit open"] * 2
    assert len(fake.requests) == 3, "an open circuit does not call the endpoint"

    time.sleep(1.1)  # half-open: one trial call; it fails, so the circuit opens again at once
    assert run(llm)["engine"]["fallback_reason"].startswith("HTTP 500")
    assert run(llm)["engine"]["fallback_reason"] == "circuit open"
    assert len(fake.requests) == 4

    time.sleep(1.1)  # the endpoint is back: the trial succeeds and closes the circuit
    fake.reply = lambda req: (200, completion(json.dumps(GOOD)), 0)
    assert [run(llm)["engine"]["name"] for _ in range(3)] == ["llm"] * 3
    assert len(fake.requests) == 7


def test_settings_build_the_config_only_when_a_model_and_endpoint_are_given(monkeypatch):
    for name in ("BASE_URL", "API_KEY", "MODEL"):
        monkeypatch.delenv(f"ONNO_LLM_{name}", raising=False)
    assert Settings().llm is None
    monkeypatch.setenv("ONNO_LLM_BASE_URL", "http://localhost:11434/v1")
    assert Settings().llm is None, "no model named"
    monkeypatch.setenv("ONNO_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("ONNO_LLM_TIMEOUT", "12.5")
    monkeypatch.setenv("ONNO_LLM_PRICE_INPUT_PER_MTOK", "0.15")
    llm = Settings().llm
    assert llm == LLMConfig(model="llama3.1", base_url="http://localhost:11434/v1", timeout=12.5,
                            price_input_per_mtok=0.15)


VTT = """WEBVTT

00:00:00.000 --> 00:00:04.500
<v Alice>Good morning. Bob, can you finish the login page by Friday?

00:00:05.000 --> 00:00:09.000
<v Bob>Yes, I'll have it done by Friday.

00:00:10.000 --> 00:00:14.000
<v Alice>The API docs are in progress now.

00:00:15.000 --> 00:00:19.000
<v Bob>What is our current monthly recurring revenue?

00:00:20.000 --> 00:00:24.000
<v Alice>It is fifty thousand dollars.

00:00:25.000 --> 00:00:29.000
<v Bob>We decided to ship the beta to ten design partners first.

00:00:30.000 --> 00:00:34.000
<v Alice>We are waiting on the payment provider review.
"""


def llm_env(fake: FakeOpenAI, tmp_path, monkeypatch) -> tuple[str, str]:
    """The meeting's transcript and board files, and ONNO_* settings naming the fake endpoint."""
    vtt = tmp_path / "standup.vtt"
    vtt.write_text(VTT)
    board = tmp_path / "board.json"
    board.write_text(json.dumps([{"key": t.key, "title": t.title, "status": t.status} for t in BOARD]))
    for name, value in {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'onno.db'}",
                        "LLM_BASE_URL": fake.url, "LLM_API_KEY": API_KEY, "LLM_MODEL": MODEL,
                        "LLM_PRICE_INPUT_PER_MTOK": "2", "LLM_PRICE_OUTPUT_PER_MTOK": "8"}.items():
        monkeypatch.setenv(f"ONNO_{name}", value)
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    return str(vtt), str(board)


def test_cli_process_with_llm_settings_reports_the_llm_engine(fake, tmp_path, monkeypatch):
    vtt, board = llm_env(fake, tmp_path, monkeypatch)
    out = CliRunner().invoke(main, ["process", vtt, "--type", "standup", "--date", "2026-11-16",
                                    "--board", board, "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert len(fake.requests) == 1
    assert result["engine"]["name"] == "llm" and result["engine"]["model"] == MODEL
    assert result["engine"]["usage"]["total_tokens"] == 120 and result["engine"]["cost_usd"] == 0.00036
    assert result["action_items"][0]["owner"] == "Bob" and result["action_items"][0]["start"] == 0.0
    assert [u["key"] for u in result["ticket_updates"]] == ["ENG-12"]


def test_a_submitted_job_takes_findings_from_the_model_and_stores_its_possible_items(fake, tmp_path, monkeypatch):
    reply = {**GOOD, "decisions": [{"segment": 5, "text": "Ship the beta to design partners", "confidence": 0.5}]}
    fake.reply = lambda req: (200, completion(json.dumps(reply)), 0)
    vtt, board = llm_env(fake, tmp_path, monkeypatch)
    runner = CliRunner()
    out = runner.invoke(main, ["submit", vtt, "--type", "standup", "--date", "2026-11-16", "--board", board],
                        catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert len(fake.requests) == 1
    shown = runner.invoke(main, ["meetings", "show", "1", "--format", "json"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    meeting = json.loads(shown.output)
    assert meeting["engine"]["name"] == "llm" and meeting["engine"]["cost_usd"] == 0.00036
    assert meeting["decisions"] == []
    assert [(d["text"], d["confidence"], d["evidence"]) for d in meeting["possible_decisions"]] == [
        ("Ship the beta to design partners", 0.5, SEGMENTS[5].text)]
    assert meeting["action_items"][0]["confidence"] == 0.95
