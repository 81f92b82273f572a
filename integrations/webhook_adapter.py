"""The `webhook:URL` delivery target: the meeting result POSTed as signed JSON."""

from __future__ import annotations

from integrations import webhook
from integrations.deliver import DeliveryContext, payload_bytes


def check(arg: str) -> str | None:
    return webhook.check_url(arg)


def send(arg: str, ctx: DeliveryContext) -> int:
    return webhook.post(arg, payload_bytes(ctx.payload()), key=ctx.key, secret=ctx.settings.webhook_secret)
