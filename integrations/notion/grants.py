"""Notion's OAuth token endpoint for a public integration: the authorize link, and the code and refresh grants
(HTTP Basic with the client id and secret)."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import httpx
from notion_client import Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from integrations.errors import PermanentError, TransientError
from integrations.notion.api import DEFAULT_API_URL, NOTION_VERSION

CALLBACK_PATH = "/notion/oauth/callback"


class OAuthRefused(PermanentError):
    """Notion's token endpoint said no (`error`: invalid_grant, invalid_client ...)."""

    def __init__(self, error: str, description: str, *, status: int | None = None):
        super().__init__(f"Notion refused the sign-in ({error}): {description}", status=status)
        self.error = error


def configured(settings) -> bool:
    return bool(settings.notion_client_id and settings.notion_client_secret)


def redirect_uri(settings) -> str:
    """What to register under OAuth Domain & URIs in the integration's settings."""
    return f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}"


def authorize_url(settings, state: str) -> str:
    query = {"client_id": settings.notion_client_id, "response_type": "code", "owner": "user",
             "redirect_uri": redirect_uri(settings), "state": state}
    return f"{settings.notion_oauth_url}?{urlencode(query)}"


def exchange_code(settings, code: str) -> dict:
    """The token response for an authorization code: access_token, refresh_token, bot_id, workspace_name, ..."""
    return token_request(settings, "the sign-in", grant_type="authorization_code", code=code,
                         redirect_uri=redirect_uri(settings))


def refresh_grant(settings, refresh_token: str) -> dict:
    """The token response for a refresh token: a new access_token and a new refresh_token (the old one is spent).

    A refresh token Notion no longer honours (expired, revoked, already used) is OAuthRefused "invalid_grant"."""
    return token_request(settings, "the token refresh", grant_type="refresh_token", refresh_token=refresh_token)


def token_request(settings, what: str, **body) -> dict:
    """POST /v1/oauth/token with the client's credentials (HTTP Basic); Notion's refusals as OAuthRefused,
    429/5xx and network trouble as TransientError."""
    client = Client(base_url=(settings.notion_api_url or DEFAULT_API_URL).rstrip("/"), notion_version=NOTION_VERSION,
                    retry=False, timeout_ms=30000, logger=logging.getLogger("notion_client"), log_level=logging.ERROR)
    try:
        answer = client.oauth.token(client_id=settings.notion_client_id, client_secret=settings.notion_client_secret,
                                    **body)
    except HTTPResponseError as exc:
        error, description = _oauth_error(exc)
        if exc.status >= 500 or exc.status == 429:
            raise TransientError(f"Notion answered {exc.status} to {what}: {description}",
                                 status=exc.status) from exc
        raise OAuthRefused(error, description, status=exc.status) from exc
    except (RequestTimeoutError, httpx.TransportError) as exc:
        raise TransientError(f"Notion could not be reached for {what}: {type(exc).__name__}") from exc
    finally:
        client.close()
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise PermanentError(f"Notion's answer to {what} had no access token.")
    return answer


def _oauth_error(exc: HTTPResponseError) -> tuple[str, str]:
    """(error, description) from OAuth's error shape or Notion's own {code, message}."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    error = body.get("error") or body.get("code") or str(getattr(exc.code, "value", exc.code) or exc.status)
    return str(error), str(body.get("error_description") or body.get("message") or f"HTTP {exc.status}")
