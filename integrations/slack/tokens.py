"""Slack tokens: installations encrypted at rest with a key derived from the app secret, looked up per team."""

from __future__ import annotations

import datetime as dt
import json

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store import Installation

from core import keys
from storage import slack as slack_repo


def fernet(secret_key: str) -> Fernet:
    """The installations' key, from the app secret (ONNO_SECRET_KEY or the one kept in the data folder)."""
    return keys.fernet(secret_key, b"onno-slack-installations:")


def _plain(value):
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    raise TypeError(f"cannot store {type(value).__name__}")


def seal(secret_key: str, installation: Installation) -> bytes:
    data = installation.to_dict_for_copying()
    data["installed_at"] = installation.installed_at
    return fernet(secret_key).encrypt(json.dumps(data, default=_plain).encode())


def unseal(secret_key: str, blob: bytes) -> Installation | None:
    """The installation, or None when it was sealed under another key (the secret changed: reinstall)."""
    try:
        data = json.loads(fernet(secret_key).decrypt(bytes(blob)))
    except InvalidToken:
        return None
    return Installation(**data)


def bot_token(app, team_id: str, enterprise_id: str | None = None) -> str | None:
    """The bot token for a team: its stored installation, else the single-workspace SLACK_BOT_TOKEN."""
    with app.session() as s:
        row = slack_repo.find_installation(s, enterprise_id, team_id)
        blob = bytes(row.secret) if row is not None else None
    if blob is not None:
        inst = unseal(app.settings.resolved_secret_key, blob)
        if inst is not None and inst.bot_token:
            return inst.bot_token
    if app.settings.slack_client_id and app.settings.slack_client_secret:
        return None  # many workspaces: a team without an installation has no token, whatever else is set
    return app.settings.slack_bot_token or None
