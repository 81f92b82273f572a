"""The leaf kernel: links and signing, time, HTTP helpers, secrets, pages, user-facing errors; imports nothing above it."""
