"""The Slack app: Bolt (async) served by `onno web` or over Socket Mode; events, /onno, buttons, App Home."""
