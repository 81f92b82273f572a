"""`onno live-sim`: play per-speaker track folders through the live engine at real time, printing its events."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import threading
from pathlib import Path

import click

from core.errors import InputError
from onno.cli import fail, parse_date
from pipeline.types import MEETING_TYPES, MeetingInfo

# The order of the keys every event line starts with.
FIRST_KEYS = ("meeting", "type", "speaker", "text", "start", "end", "emitted_at")


def event_line(meeting: str, event: dict) -> str:
    ordered = {"meeting": meeting, **{k: event.get(k) for k in FIRST_KEYS[1:]}}
    ordered.update((k, v) for k, v in event.items() if k not in ordered)
    return json.dumps(ordered, ensure_ascii=False)


def unique_names(folders: list[Path]) -> list[str]:
    """Each folder's name, with #2, #3 … on repeats so the meetings stay apart in the output."""
    names: list[str] = []
    for folder in folders:
        name, n = folder.resolve().name, 1
        while name in names:
            n += 1
            name = f"{folder.resolve().name}#{n}"
        names.append(name)
    return names


@click.command("live-sim")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="TRACKS_DIR...")
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Play this many times faster than real time.")
@click.option("--type", "meeting_type", type=click.Choice(MEETING_TYPES), default="general", show_default=True,
              help="Meeting type of every meeting (picks the checklist of questions worth asking).")
@click.option("--date", callback=parse_date, help="Meeting date, YYYY-MM-DD (default today).")
@click.option("--board", "board_file", type=click.Path(path_type=Path),
              help='Existing tickets as JSON [{"key","title","status"}], for every meeting.')
@click.option("--format", "fmt", type=click.Choice(("jsonl",)), default="jsonl", show_default=True)
@click.option("--beam-size", type=click.IntRange(min=1), default=None,
              help="Beam width for live recognition (default 5).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Transcription threads over the shared model.")
@click.option("--threads", "cpu_threads", type=click.IntRange(min=0), default=None,
              help="CPU threads per recognition (default 1; 0: all cores).")
@click.option("--end-silence", type=click.FloatRange(min=0.1), default=None,
              help="Seconds of silence that end an utterance (default 0.5).")
def live_sim(folders: tuple[Path, ...], speed: float, meeting_type: str, date: dt.date, board_file: Path | None,
             fmt: str, beam_size: int | None, workers: int, cpu_threads: int | None,
             end_silence: float | None) -> None:
    """Play each TRACKS_DIR (one audio file per speaker, all starting together) through the live engine, all
    meetings at once on one shared model, at real time; print one JSON line per event."""
    from onno.settings import Settings
    from pipeline.board import read_board
    from pipeline.live import LIVE_BEAM_SIZE, LIVE_CPU_THREADS, SegmenterConfig, TranscriptionPool
    from pipeline.live.sim import load_meeting, simulate
    from pipeline.transcribe import Transcriber

    # One model replica per pool thread, so `--workers 2` recognises two utterances at once on two cores.
    whisper = dataclasses.replace(Settings().whisper, num_workers=workers,
                                  cpu_threads=LIVE_CPU_THREADS if cpu_threads is None else cpu_threads)
    config = SegmenterConfig()
    if end_silence is not None:
        config = dataclasses.replace(config, end_silence=end_silence)
    try:
        board = read_board(board_file) if board_file else []
        meetings = []
        for folder, name in zip(folders, unique_names(list(folders)), strict=True):
            if not folder.is_dir():
                raise InputError(f"{folder} is not a folder of per-speaker tracks.",
                                 "Give folders holding one audio file per speaker, named after them (Maya.ogg).")
            info = MeetingInfo(title=name, type=meeting_type, date=date)
            meetings.append(load_meeting(folder, info, board, name=name))
    except InputError as exc:
        fail(exc)
    pool = TranscriptionPool(Transcriber(whisper), workers=workers, beam_size=beam_size or LIVE_BEAM_SIZE)
    pool.warm_up()
    out = threading.Lock()

    def emit(meeting: str, event: dict) -> None:
        line = event_line(meeting, event)
        with out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    stats = simulate(meetings, pool, speed=speed, emit=emit, config=config)
    pool.close()
    for m in meetings:
        counts = stats.events[m.name]
        findings = sum(v for k, v in counts.items() if k != "transcript")
        click.echo(f"{m.name}: {stats.utterances[m.name]} utterances, {counts.get('transcript', 0)} transcript "
                   f"lines, {findings} finding events", err=True)
    if pool.timings:
        waited, took = (sorted(x) for x in zip(*pool.timings, strict=True))
        p95 = round(0.95 * (len(took) - 1))
        click.echo(f"per utterance: recognition median {took[len(took) // 2]:.2f} s, p95 {took[p95]:.2f} s; waited "
                   f"in the queue median {waited[len(waited) // 2]:.2f} s, p95 {waited[p95]:.2f} s", err=True)
    click.echo(f"{stats.seconds:.1f} s wall at speed {speed:g}; recognition busy {stats.busy_seconds:.1f} s "
               f"({stats.busy_seconds / max(stats.seconds, 1e-9):.0%}); feeding lag at worst "
               f"{stats.max_lag:.2f} s", err=True)
