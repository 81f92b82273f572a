"""Slack, outbound: the `slack:` delivery target, Block Kit rendering, tokens and the Web API client."""
