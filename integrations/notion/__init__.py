"""Notion: connect a workspace to a board, deliver meetings as cards, pull the board back (API 2025-09-03)."""
