"""The secret key and the data on disk: one key however many processes start, none too short,
files and folders only their owner can read, and a self-check at start."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import InputError
from onno.cli import main
from onno.service import App
from onno.settings import Settings
from storage import repository as repo


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _key(data_dir: str, barrier, out) -> None:
    barrier.wait()
    try:
        out.put(Settings(data_dir=Path(data_dir)).resolved_secret_key)
    except Exception as exc:  # noqa: BLE001  (the parent asserts on it)
        out.put(f"error: {exc}")


def test_processes_starting_together_on_a_fresh_folder_share_one_full_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for i in range(25):
        folder, barrier, out = tmp_path / f"fresh{i}", ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_key, args=(str(folder), barrier, out)) for _ in range(4)]
        for p in procs:
            p.start()
        keys = {out.get(timeout=30) for _ in procs}
        for p in procs:
            p.join(30)
        assert len(keys) == 1, keys
        assert len(keys.pop()) >= 32
        assert sorted(f.name for f in folder.iterdir()) == ["secret.key"]  # no temporary files left
        assert mode(folder / "secret.key") == 0o600 and mode(folder) == 0o700


@pytest.mark.parametrize("key", ["", "x", "short-key"])
def test_short_keys_are_refused_with_what_to_do(tmp_path, key):
    if key:
        with pytest.raises(InputError, match="at least 16"):
            assert Settings(data_dir=tmp_path, secret_key=key).resolved_secret_key
    (tmp_path / "secret.key").write_text(key)  # an empty or short stored key (an earlier race, a hand edit)
    with pytest.raises(InputError, match="secret.key is") as exc:
        assert Settings(data_dir=tmp_path).resolved_secret_key
    assert "ONNO_SECRET_KEY" in exc.value.hint


def test_database_blobs_and_key_are_private_on_disk(tmp_path):
    app = App(Settings(data_dir=tmp_path / "data"))
    with app.session() as s:  # a write, so SQLite makes its -wal and -shm files
        repo.get_or_create_workspace(s)
    key = app.blobs.put_bytes(b"a voice")
    data = tmp_path / "data"
    assert app.settings.resolved_secret_key
    assert mode(data) == 0o700 and mode(data / "blobs") == 0o700 and mode(app.blobs.path(key)) == 0o600
    for name in ("onno.db", "onno.db-wal", "onno.db-shm", "secret.key"):
        assert mode(data / name) == 0o600, name
    app.engine.dispose()


def test_an_existing_world_readable_database_is_tightened(tmp_path):
    data = tmp_path / "data"
    App(Settings(data_dir=data)).engine.dispose()
    data.chmod(0o755)
    (data / "onno.db").chmod(0o644)
    app = App(Settings(data_dir=data))
    app.engine.dispose()
    assert mode(data) == 0o700 and mode(data / "onno.db") == 0o600


def test_web_refuses_a_short_key_and_worker_warns_of_an_open_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("ONNO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ONNO_SECRET_KEY", "abc")
    r = CliRunner().invoke(main, ["web", "--port", "0"])
    assert r.exit_code == 1 and "at least 16" in r.output and "token_urlsafe" in r.output
    monkeypatch.setenv("ONNO_SECRET_KEY", "a" * 20)
    monkeypatch.setenv("ONNO_PUBLIC_URL", "http://onno.example.com")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    r = CliRunner().invoke(main, ["worker"])  # no broker: it warns, then stops
    assert r.exit_code == 1
    assert "ONNO_SECRET_KEY is weak" in r.output and "is not HTTPS" in r.output
    assert "STRIPE_WEBHOOK_SECRET is not" in r.output and "SLACK_SIGNING_SECRET is not" in r.output
