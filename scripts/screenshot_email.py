"""Screenshot the summary e-mail as a reader gets it: a corpus meeting runs as a job, is mailed to a local SMTP
server (aiosmtpd, from the dev extra), and the HTML part it received is opened in headless Chromium.

    .venv/bin/python scripts/screenshot_email.py [--meeting dev-01-platform-standup] [--out artifacts]

Writes OUT/email-summary.png (a 720 px wide reading pane), OUT/email-summary-mobile.png (390 px), and the
received message as OUT/email-summary.eml and .html. Needs Chromium (Debian package `chromium`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from onno.service import App  # noqa: E402
from onno.settings import Settings  # noqa: E402
from pipeline.types import MeetingInfo, Ticket  # noqa: E402
from storage import mail, repository  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


class Keep:
    """The aiosmtpd handler: keep every message it is given."""

    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("Chromium is not installed: apt-get install -y chromium")


def browse(html_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--force-device-scale-factor=1", "--default-background-color=00000000", *args,
                           html_file.as_uri()], capture_output=True, text=True, timeout=120)


def page_height(html: str, width: int, tmp: Path) -> int:
    """How tall the e-mail is at this width: measured on a copy with one line of script (never in the mail)."""
    probe = tmp / f"probe-{width}.html"
    probe.write_text(html.replace("</body>", "<script>document.title = 'H' + "
                                  "document.documentElement.scrollHeight;</script></body>"))
    out = browse(probe, f"--window-size={width},800", "--virtual-time-budget=2000", "--dump-dom").stdout
    found = re.search(r"<title>H(\d+)</title>", out)
    return int(found.group(1)) if found else 2400


def shoot(html_file: Path, html: str, width: int, png: Path, tmp: Path) -> None:
    height = page_height(html, width, tmp)
    done = browse(html_file, f"--window-size={width},{height}", f"--screenshot={png}")
    if not png.exists():
        sys.exit(f"Chromium made no screenshot:\n{done.stderr[-2000:]}")
    print(f"{png} ({width}x{height})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meeting", default="dev-01-platform-standup", help="a meeting of the shared corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts")
    args = parser.parse_args()
    facts = json.loads((CORPUS / f"{args.meeting}.json").read_text())
    args.out.mkdir(parents=True, exist_ok=True)

    keep = Keep()
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(keep, hostname="127.0.0.1", port=port)
    server.start()
    with tempfile.TemporaryDirectory(prefix="onno-email-") as tmp_name:
        tmp = Path(tmp_name)
        app = App(Settings(data_dir=tmp / "data", database_url="", smtp_url=f"smtp://127.0.0.1:{port}",
                           mail_from="Onno <onno@onno.example.com>", public_url="https://onno.example.com",
                           secret_key="screenshot-secret-key-0123", broker_url=""))
        names = [p["name"] if isinstance(p, dict) else p for p in facts["participants"]]
        reader = names[0]
        with app.session() as s:
            ws = repository.get_or_create_workspace(s)
            for name in names:
                mail.add_person(s, ws, name, f"{name.lower()}@example.com")
        info = MeetingInfo(title=facts["title"], type=facts["type"], date=dt.date.fromisoformat(facts["date"]),
                           participants=names)
        board = [Ticket(**t) for t in facts.get("board_before") or []] or None
        app.runner.submit(CORPUS / f"{args.meeting}.vtt", info, board=board, targets=["email:participants"])
        server.stop()
        messages = [email.message_from_bytes(raw, policy=email.policy.default) for raw in keep.messages]
        msg = next(m for m in messages if m["To"].addresses[0].addr_spec == f"{reader.lower()}@example.com")
        (args.out / "email-summary.eml").write_bytes(msg.as_bytes())
        html = msg.get_body(("html",)).get_content()
        html_file = args.out / "email-summary.html"
        html_file.write_text(html)
        print(f"{len(messages)} messages received; {reader}'s: {msg['Subject']}")
        shoot(html_file, html, 720, args.out / "email-summary.png", tmp)
        shoot(html_file, html, 390, args.out / "email-summary-mobile.png", tmp)
        app.engine.dispose()


if __name__ == "__main__":
    main()
