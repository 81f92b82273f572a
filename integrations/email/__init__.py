"""E-mailed meeting summaries: SMTP sending, templates, recipients on file, one-click unsubscribe."""
