"""Onno's application shell: settings, wiring, the command line."""
