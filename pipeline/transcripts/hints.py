"""What to tell a user whose transcript file cannot be read."""

EXPORT_AGAIN = "Export the transcript again from your meeting tool, or pass the recording itself."
FORMATS = ("Onno reads WebVTT (.vtt), SubRip (.srt), SubViewer (.sbv), Word (.docx) and text (.txt) transcripts "
           "from Zoom, Teams, Meet, Otter and others, and Whisper's .json.")
