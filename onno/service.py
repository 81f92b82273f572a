"""Application services: store the recording, run the pipeline, save the meeting, all or nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from billing.accounts import reserve
from core.errors import InputError
from core.private import private_dir
from integrations.llm.client import OpenAILabeller
from onno.settings import Settings
from pipeline.run import check_source, input_kind, run_pipeline
from pipeline.transcribe import Progress, Transcriber
from pipeline.types import MeetingInfo, Ticket
from storage import db
from storage import repository as repo
from storage.blobs import BlobStore

log = logging.getLogger(__name__)

LOCAL_WORKSPACE = "local"


@dataclass
class Processed:
    meeting_id: int
    result: dict


class App:
    """Wires settings to storage and the pipeline; one per process."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    @cached_property
    def engine(self):
        if self.settings.data_dir.is_dir():
            private_dir(self.settings.data_dir, ours=True)  # made before Onno tightened it: tighten it now
        engine = db.make_engine(self.settings.resolved_database_url)
        try:
            db.upgrade(engine)
        except BaseException:
            engine.dispose()  # the next caller tries again with a new engine: this one's connections must go
            raise
        return engine

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.resolved_blob_dir)

    @cached_property
    def transcriber(self) -> Transcriber:
        return Transcriber(self.settings.whisper)

    def model_labeller(self) -> OpenAILabeller | None:
        """The language model to take findings from (ONNO_LLM_*), or None for the local engine."""
        config = getattr(self.settings, "llm", None)
        return OpenAILabeller(config) if config else None

    def analyse_options(self) -> dict:
        """Keyword arguments for `pipeline.run.analyse`: the language-model labeller when one is configured."""
        labeller = self.model_labeller()
        return {"llm": labeller} if labeller else {}

    @cached_property
    def runner(self):
        """The job runner: Celery workers when a broker is configured, else this very process."""
        from onno.jobs import InlineDispatcher, JobRunner  # not at import: `onno process` needs no runner

        if self.settings.broker_url:
            from onno.celery_app import CeleryDispatcher

            return JobRunner(self, CeleryDispatcher(self.settings))
        return JobRunner(self, InlineDispatcher(self.settings.inline_retry_wait))

    def session(self):
        return db.session_scope(self.engine)

    def send_notices(self, keys: list[str | None], *, wait: bool = True) -> None:
        """Send team notices just committed (storage.notices.create), now and best effort; the sweeper sends the
        rest. Code below the shell (billing, integrations) tells the team through this."""
        from onno import notices

        notices.send_new(self, keys, wait=wait)

    def check_plan(self, source: Path, workspace: str | int, *, kinds: set[str] = frozenset(),
                   live: bool = False, admitted: bool = False) -> float:
        """The input's minutes (estimated from headers); raise PlanLimit when the plan does not cover it.

        `admitted`: a live meeting the plan let start; its minutes count, but it is never refused at its end."""
        from billing.gate import check_intake
        from pipeline.run import estimate_duration

        seconds = estimate_duration(Path(source))
        minutes = seconds / 60 if seconds is not None else 1.0  # unknown: a token minute until it is settled
        with self.session() as s:
            check_intake(s, self.settings, repo.resolve_workspace(s, workspace),
                         minutes=None if admitted else minutes, kinds=kinds, live=live)
        return minutes

    def store_recording(self, source: Path, workspace: str | int) -> int:
        """Keep the user's input in the blob store and record it before any processing starts."""
        kind = input_kind(source)
        if kind == "tracks":
            key = self.blobs.put_tree(source)
            size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
        else:
            key = self.blobs.put_file(source)
            size = source.stat().st_size
        with self.session() as s:
            ws = repo.resolve_workspace(s, workspace)
            rec = repo.add_recording(s, ws, kind=kind, filename=source.name, blob_key=key, size=size)
            s.flush()
            return rec.id

    def process(self, source: Path, info: MeetingInfo, *, board: list[Ticket] | None = None,
                workspace: str = LOCAL_WORKSPACE, progress: Progress | None = None) -> Processed:
        """Process one meeting input and store the result; InputError leaves storage as it was."""
        source = check_source(source)
        self.check_plan(source, workspace)
        recording_id = self.store_recording(source, workspace)
        try:
            given = board
            if board is None:
                with self.session() as s:
                    board = repo.board(s, repo.get_or_create_workspace(s, workspace))
            result = run_pipeline(source, info, board, transcriber=self.transcriber, progress=progress,
                                  llm=self.model_labeller())
            # One transaction: the board the user gave, the meeting, its findings and the cards it moves.
            with self.session() as s:
                ws = repo.get_or_create_workspace(s, workspace)
                meeting = repo.record_meeting(s, ws, result, recording_id=recording_id,
                                              given_board=given)
                usage = reserve(s, ws, job_id=None, minutes=result.duration / 60)
                usage.state, usage.meeting_id = "final", meeting.id
                return Processed(meeting_id=meeting.id, result=repo.meeting_result_dict(meeting))
        except InputError:
            self.forget_recording(recording_id, workspace)
            raise
        except Exception as exc:
            # Our failure, not the user's: keep the recording so nothing they gave us is lost.
            with self.session() as s:
                ws = repo.get_or_create_workspace(s, workspace)
                repo.mark_recording(s, repo.get_recording(s, ws, recording_id), "failed", error=repr(exc))
            raise

    def forget_recording(self, recording_id: int, workspace: str | int) -> None:
        """Drop a recording that turned out to be unusable, and its blobs (a tree's member files too) unless
        another recording still holds the same bytes."""
        with self.session() as s:
            ws = repo.resolve_workspace(s, workspace)
            rec = repo.get_recording(s, ws, recording_id)
            if rec is None:
                return
            key, tree = rec.blob_key, rec.kind == "tracks"
            repo.delete_recording(s, rec)
            s.flush()
            keys = [key, *((self.blobs.tree(key) or {}).values() if tree else ())]
            kept = {k for k in keys if repo.blob_in_use(s, k)}
            members = set(keys[1:]) - kept
            if members:  # other trees may share a member file: keep what any of their manifests names
                for other in repo.tree_blob_keys(s):
                    kept |= members & set((self.blobs.tree(other) or {}).values())
        for k in keys:
            if k not in kept:
                self.blobs.delete(k)
