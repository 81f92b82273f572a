"""A real SMTP server for tests (aiosmtpd on a free port): keeps what it accepts, refuses what it is told to."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.jobs.conftest import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage
    raw: bytes

    def part(self, subtype: str) -> str:
        return self.message.get_body((subtype,)).get_content()


class Mailbox:
    """What a mail server sees. `answers[address]` scripts RCPT replies (popped one by one, then 250);
    `refuse[address]` is a reply given to that address every time."""

    def __init__(self, *, port: int | None = None, auth: bool = False, **smtp_kwargs):
        self.received: list[Received] = []
        self.rcpt_log: list[tuple[str, str]] = []  # (address, the reply we gave)
        self.answers: dict[str, list[str]] = {}
        self.refuse: dict[str, str] = {}
        self.logins: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.port = port or free_port()
        self.smtp_kwargs = smtp_kwargs
        if auth:  # user "onno", password "s3cret"
            self.smtp_kwargs.update(authenticator=self.authenticate, auth_required=True)
        self.controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            scripted = self.answers.get(address.lower())
            reply = scripted.pop(0) if scripted else self.refuse.get(address.lower(), "250 OK")
            self.rcpt_log.append((address, reply))
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, envelope.content))
        return "250 2.0.0 Ok: queued as Q" + str(len(self.received))

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"onno", b"s3cret")
        if ok:
            self.logins.append((auth_data.login.decode(), mechanism))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def start(self) -> Mailbox:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.smtp_kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_to]

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "smtp-cert.pem", tmp / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx
