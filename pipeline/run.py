"""The whole pipeline for one meeting: input (file, tracks folder or transcript) to a MeetingResult."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import InputError
from pipeline.decode import SAMPLE_RATE, decode_audio, probe_duration
from pipeline.diarize.assign import is_anonymous
from pipeline.findings import extract_findings
from pipeline.findings.labeller import ModelLabeller, model_findings
from pipeline.parts import transcribe_recording
from pipeline.transcribe import Progress, Transcriber
from pipeline.transcripts import TRANSCRIPT_SUFFIXES, read_transcript, transcript_language
from pipeline.types import EngineInfo, MeetingInfo, MeetingResult, Segment, Ticket

AUDIO_SUFFIXES = (".ogg", ".opus", ".oga", ".webm", ".weba", ".m4a", ".mp4", ".m4v", ".mov", ".mkv", ".mp3",
                  ".wav", ".flac", ".aac", ".wma", ".amr", ".3gp", ".avi", ".mpeg", ".mpg", ".caf", ".aiff")
NO_SPEECH_HINT = "Check that the right file was chosen and that the microphone was on."


def check_source(source: Path) -> Path:
    """Refuse at intake what can never be processed: a missing path or an empty file."""
    source = Path(source)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder.", "Check the path and try again.")
    if source.is_file() and source.stat().st_size == 0:
        raise InputError(f"{source.name} is empty (0 bytes).", "Export or upload the recording again.")
    return source


def input_kind(source: Path) -> str:
    """'tracks' for a folder, 'transcript' for a transcript's suffix (.vtt, .srt, .txt, .docx...), else 'audio'."""
    if source.is_dir():
        return "tracks"
    if source.suffix.lower() in TRANSCRIPT_SUFFIXES:
        return "transcript"
    return "audio"


def track_files(folder: Path) -> list[Path]:
    """The per-speaker audio files of a tracks folder, each named after its speaker."""
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise InputError(f"{folder} holds no audio tracks.",
                         "Put one audio file per participant in the folder, named after them (Alice.ogg).")
    return files


def transcribe_tracks(folder: Path, transcriber: Transcriber, *, language: str, prompt: str | None,
                      progress: Progress | None) -> tuple[list[Segment], float, str]:
    """Transcribe each speaker's track on its own, then merge the segments in time order; and the language
    spoken on the longest track."""
    files = track_files(folder)
    tracks = [(f.stem, decode_audio(f)) for f in files]
    language = transcriber.spoken_language(max((a for _, a in tracks), key=len), language)
    total = sum(len(a) for _, a in tracks) or 1
    done = 0
    segments: list[Segment] = []
    for speaker, audio in tracks:
        def part(share: float, done: int = done, size: int = len(audio)) -> None:
            if progress:
                progress((done + share * size) / total)
        segments += transcriber.transcribe(audio, speaker=speaker, language=language, prompt=prompt,
                                           progress=part)
        done += len(audio)
    segments.sort(key=lambda s: (s.start, s.end))
    return segments, max(len(a) for _, a in tracks) / SAMPLE_RATE, language


def estimate_duration(source: Path) -> float | None:
    """The input's length in seconds from headers alone (for metering at intake); None when unknown."""
    kind = input_kind(source)
    if kind == "transcript":
        try:
            return max(s.end for s in read_transcript(source))
        except InputError:
            return None
    files = track_files(source) if kind == "tracks" else [source]
    durations = [d for d in (probe_duration(f) for f in files) if d is not None]
    return max(durations) if durations else None


@dataclass
class Transcript:
    """What the heavy step produces: timed segments, the audio's length, the kind of input and its language
    when detected (None: the language the caller gave)."""

    segments: list[Segment]
    duration: float
    kind: str
    language: str | None = None

    def to_dict(self) -> dict:
        return {"segments": [asdict(s) for s in self.segments], "duration": self.duration, "kind": self.kind,
                "language": self.language}

    @classmethod
    def from_dict(cls, d: dict) -> Transcript:
        return cls([Segment(**s) for s in d["segments"]], d["duration"], d["kind"], d.get("language"))


def transcribe_source(source: Path, info: MeetingInfo, *, transcriber: Transcriber | None = None,
                      progress: Progress | None = None, work_dir: Path | None = None) -> Transcript:
    """The heavy step: decode and transcribe (or read) one meeting input; a mixed recording's finished parts are
    kept in `work_dir` when given, so a run killed part-way resumes there."""
    source = Path(source)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder.", "Check the path and try again.")
    kind = input_kind(source)
    if kind == "transcript":
        segments = read_transcript(source)
        return Transcript(segments, max(s.end for s in segments), kind, transcript_language(segments))
    transcriber = transcriber or Transcriber()
    # No recognition prompt: names and ticket titles as a prompt or hotwords raised tiny.en's word error
    # rate on the corpus (0.082 -> 0.103 and 0.183), so the recogniser runs unbiased.
    prompt = None
    if kind == "tracks":
        segments, duration, language = transcribe_tracks(source, transcriber, language=info.language,
                                                         prompt=prompt, progress=progress)
    else:
        # One mixed recording, streamed part by part (memory flat however long); who said what comes from the
        # voices (tracks are one speaker each already).
        segments, duration, language = transcribe_recording(
            source, transcriber, participants=info.participants, language=info.language, prompt=prompt,
            progress=progress, uploader=info.uploader, work_dir=work_dir)
    if not segments:
        raise InputError(f"No speech was found in {source.name} ({duration:.0f} s of audio).", NO_SPEECH_HINT)
    return Transcript(segments, duration, kind, language)


def analyse(transcript: Transcript, info: MeetingInfo, board: list[Ticket], *,
            llm: ModelLabeller | None = None) -> MeetingResult:
    """The light step: findings (from the language model `llm` if given) from a transcript, facts and board."""
    info.language = transcript.language or info.language
    if not info.participants:
        # "Speaker 2" is not a person to send the record to or to match by name.
        info.participants = sorted({s.speaker for s in transcript.segments
                                    if s.speaker and not is_anonymous(s.speaker)})
    if llm is not None:
        findings, engine = model_findings(transcript.segments, info, board, llm)
    else:
        findings, engine = extract_findings(transcript.segments, info, board), EngineInfo()
    return MeetingResult(info=info, duration=transcript.duration, transcript=transcript.segments,
                         findings=findings, source=transcript.kind, engine=engine)


def run_pipeline(source: Path, info: MeetingInfo, board: list[Ticket], *, transcriber: Transcriber | None = None,
                 progress: Progress | None = None, llm: ModelLabeller | None = None) -> MeetingResult:
    """Turn one meeting input into its transcript and findings."""
    transcript = transcribe_source(source, info, transcriber=transcriber, progress=progress)
    return analyse(transcript, info, board, llm=llm)
