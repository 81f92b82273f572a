"""SMTP sending with smtplib: the ONNO_SMTP_URL forms, TLS, and SMTP replies translated into our two errors."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from urllib.parse import unquote, urlsplit

from integrations.errors import PermanentError, TransientError

LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send: from `smtp://user:pass@host:587`, `smtps://host:465` or `smtp://host:25`."""

    host: str
    port: int
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> SmtpConfig:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"{url.split('@')[-1]!r} is not an smtp:// or smtps:// URL")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"bad port in the SMTP URL: {exc}") from exc
        implicit = parts.scheme == "smtps"
        return cls(host=parts.hostname, port=port or (465 if implicit else 25), implicit_tls=implicit,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None, timeout=timeout)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


class RecipientFailed(Exception):
    """The server would not take the message for this one recipient; others may still go through."""

    def __init__(self, code: int, reply: str):
        super().__init__(f"{code} {reply}")
        self.code, self.reply = code, f"{code} {reply}"

    @property
    def permanent(self) -> bool:
        return self.code >= 500


def _text(message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())[:300]


def _by_code(code: int, reason: str) -> TransientError | PermanentError:
    """4xx (and anything odd) is worth another try later; 5xx is final."""
    return PermanentError(reason, status=code) if 500 <= code < 600 else TransientError(reason, status=code)


class SmtpSession:
    """One connection, opened on first use and reused for every recipient of a delivery."""

    def __init__(self, config: SmtpConfig, *, tls_context: ssl.SSLContext | None = None):
        self.config = config
        self.tls_context = tls_context or ssl.create_default_context()
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.implicit_tls:
                smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self.tls_context)
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            try:
                smtp.ehlo()
                secure = c.implicit_tls
                if not secure and smtp.has_extn("starttls"):
                    smtp.starttls(context=self.tls_context)
                    smtp.ehlo()
                    secure = True
                if c.username:
                    if not secure and c.host not in LOOPBACK:
                        raise PermanentError(f"{c.where} offers no STARTTLS; refusing to send the SMTP password "
                                             "unencrypted (use smtps:// or a server with STARTTLS)")
                    smtp.login(c.username, c.password or "")
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            reason = f"{c.where} refused the login: {exc.smtp_code} {_text(exc.smtp_error)}"
            raise _by_code(exc.smtp_code, reason + " (check the user and password in ONNO_SMTP_URL)") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError(f"{c.where} does not support login; drop the user and password from "
                                 "ONNO_SMTP_URL") from exc
        except smtplib.SMTPResponseException as exc:  # a refusal at greeting or EHLO, e.g. 421 too busy
            raise _by_code(exc.smtp_code, f"{c.where} answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS failed, dropped
            raise TransientError(f"could not connect to {c.where}: {type(exc).__name__}: {exc}") from exc
        self.smtp = smtp
        return smtp

    def send(self, message: EmailMessage, *, sender: str, recipient: str) -> str:
        """Hand one message for one recipient to the server and return its reply.

        RecipientFailed when the server refuses this recipient (or this message for them); TransientError or
        PermanentError when the trouble is the connection or the sender, which every recipient shares.
        """
        smtp = self.smtp or self._connect()
        data = message.as_bytes(policy=SMTP_POLICY)
        options = ["SMTPUTF8"] if not (sender + recipient).isascii() else []
        try:
            # sendmail() in steps, to keep the server's own reply (its queue id) for the record
            code, reply = smtp.mail(sender, options)
            if code != 250:
                smtp.rset()
                raise _by_code(code, f"{self.config.where} refused the sender {sender}: {code} {_text(reply)}")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                raise RecipientFailed(code, _text(reply))
            code, reply = smtp.data(data)
            if code != 250:
                smtp.rset()
                raise RecipientFailed(code, _text(reply))
        except smtplib.SMTPDataError as exc:  # no 354 go-ahead for the message body
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.smtp = None
            raise RecipientFailed(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:  # the connection dropped mid-message
            self.smtp = None
            smtp.close()
            raise TransientError(f"lost the connection to {self.config.where}: {type(exc).__name__}: "
                                 f"{exc}") from exc
        return f"{code} {_text(reply)}"
