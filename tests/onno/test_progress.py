"""A terminal sees a progress bar while a recording is transcribed; a pipe sees only the result."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests import media


def test_progress_bar_on_a_terminal(onno_env, tmp_path):
    clip = media.write_audio(media.sample_clip(12.0), tmp_path / "clip.wav")
    leader, follower = pty.openpty()
    onno_bin = Path(sys.executable).with_name("onno")
    proc = subprocess.Popen([str(onno_bin), "process", str(clip), "--format", "text"], stdin=follower,
                            stdout=follower, stderr=follower, env={**onno_env, "TERM": "xterm", "COLUMNS": "100"},
                            close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0, seen.decode(errors="replace")
    screen = seen.decode(errors="replace")
    assert "Processing clip.wav" in screen and "%" in screen
    assert "Action items" in screen and "Saved as meeting" in screen
