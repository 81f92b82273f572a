"""Weekly digests: last week's meetings, open and overdue action items, what got done, by e-mail and in Slack or Discord."""
