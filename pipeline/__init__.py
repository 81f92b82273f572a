"""Audio, tracks or transcripts in; transcript and meeting findings out. Pure stages, no storage."""
