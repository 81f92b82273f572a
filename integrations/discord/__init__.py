"""Discord delivery: the meeting result posted into the thread or channel it came from."""
