"""Bad input leaves storage as it was: no recording row, no blob of anyone's voice."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import func, select

from core.errors import InputError
from onno.service import App
from onno.settings import Settings
from pipeline.types import MeetingInfo
from storage import jobs as jobs_repo
from storage.models import Recording
from tests import media

INFO = MeetingInfo(title="Standup", type="standup", date=dt.date(2026, 11, 16), participants=[])


def stored(app: App) -> tuple[int, list[str]]:
    with app.session() as s:
        rows = s.scalar(select(func.count()).select_from(Recording))
    blobs = app.settings.resolved_blob_dir
    files = sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else []
    return rows, files


def test_a_tracks_folder_refused_as_bad_input_leaves_none_of_its_tracks(tmp_path, database_url):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url))
    folder = tmp_path / "standup.tracks"
    shutil.copytree(media.SAMPLE_TRACKS, folder)
    (folder / "Zed.ogg").write_bytes(b"not audio at all")
    with pytest.raises(InputError, match="Zed.ogg"):
        app.process(folder, INFO)
    assert stored(app) == (0, [])
    app.engine.dispose()


def test_a_shared_track_stays_with_the_tree_that_still_holds_it(tmp_path, database_url):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url))
    good = app.store_recording(media.SAMPLE_TRACKS, "local")
    folder = tmp_path / "again.tracks"
    shutil.copytree(media.SAMPLE_TRACKS, folder)
    (folder / "Zed.ogg").write_bytes(b"not audio at all")
    before = stored(app)
    with pytest.raises(InputError):
        app.process(folder, INFO)
    assert stored(app) == before  # Maya, Daniel and Lena are still the first tree's
    app.forget_recording(good, "local")
    assert stored(app) == (0, [])
    app.engine.dispose()


def test_a_submitted_job_that_fails_on_bad_input_leaves_no_recording(tmp_path, database_url):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url))
    empty = tmp_path / "empty.vtt"
    empty.write_text("WEBVTT\n\n")
    job_id = app.runner.submit(empty, INFO)
    with app.session() as s:
        job = jobs_repo.get_job(s, job_id)
        assert job.status == "failed" and "no cues" in job.error
    assert stored(app) == (0, [])
    app.engine.dispose()
