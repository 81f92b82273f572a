"""Speaker diarization of single mixed recordings: who spoke when, which words are whose, and their names."""
