"""A mixed recording of any length at flat cost: decoded as a stream and worked through in parts of about five
minutes, each cut at the longest pause near its boundary, each part's words and voice windows kept on disk so a
run that was killed resumes where it stopped; speakers are told apart over the whole recording at the end."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.decode import SAMPLE_RATE, probe_duration, stream_audio
from pipeline.diarize import RECOGNITION_SHARE
from pipeline.diarize.assign import speaker_segments
from pipeline.diarize.naming import name_speakers
from pipeline.diarize.turns import windows, windows_to_turns
from pipeline.findings.people import discover_names
from pipeline.transcribe import Piece, Progress, Transcriber, Word
from pipeline.types import Segment

PART_S = 300.0
# A part ends at the longest pause within this of its nominal end, so no word is cut in two; a recording no
# longer than PART_S + SEARCH_S is one part, transcribed exactly as it always was.
SEARCH_S = 30.0
FRAME = 160  # 10 ms: the unit pauses are measured in
FORMAT = 1  # of the files kept per part: a change makes old ones be recomputed, not misread


def pause_cut(audio: np.ndarray, lo: int, hi: int) -> int:
    """The sample in [lo, hi) at the middle of the longest stretch of quiet 10 ms frames (the quietest frame's
    middle when nothing is quiet)."""
    n = (hi - lo) // FRAME
    if n <= 1:
        return lo
    rms = np.sqrt(np.mean(np.square(audio[lo:lo + n * FRAME].reshape(n, FRAME), dtype=np.float64), axis=1))
    # Quiet: 20 dB under the loud frames, whatever the recording's level and its background noise.
    quiet = rms < max(1e-4, 0.1 * float(np.percentile(rms, 95)))
    best, best_len, run_start = int(np.argmin(rms)), 0, None
    for i, q in enumerate([*quiet, False]):
        if q and run_start is None:
            run_start = i
        elif not q and run_start is not None:
            if i - run_start > best_len:
                best, best_len = (run_start + i) // 2, i - run_start
            run_start = None
    return lo + best * FRAME + FRAME // 2


def cut_parts(blocks: Iterator[np.ndarray], *, part_s: float = PART_S, search_s: float = SEARCH_S,
              ends: list[int] = ()) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, samples) of each part of a decoded stream; `ends` are parts' end samples already chosen
    (by a run that is being resumed), used as they are so the parts come out the same."""
    part, search = int(part_s * SAMPLE_RATE), int(search_s * SAMPLE_RATE)
    buffered: list[np.ndarray] = []
    size, start = 0, 0
    for block in blocks:
        buffered.append(block)
        size += len(block)
        while True:
            known = next((e for e in ends if e > start), None)
            if known is not None and start + size >= known:
                cut = known - start
            elif known is None and size >= part + search:
                cut = None
            else:
                break
            audio = buffered[0] if len(buffered) == 1 else np.concatenate(buffered)  # joined once per part
            if cut is None:
                cut = pause_cut(audio, part - search, part + search)
            yield start, audio[:cut]
            buffered, size, start = [audio[cut:]], len(audio) - cut, start + cut
    if size:
        yield start, np.concatenate(buffered)


@dataclass
class PartResult:
    """What one part gave: its span in samples, the recogniser's pieces and the voice windows (times in seconds
    from the recording's start), and the windows' embeddings."""

    start: int
    end: int
    pieces: list[Piece]
    owners: list[tuple[float, float]]
    region: list[int]
    vectors: np.ndarray


def shifted(piece: Piece, offset: float) -> Piece:
    if not offset:
        return piece
    return Piece(piece.start + offset, piece.end + offset, piece.text,
                 [Word(w.start + offset, w.end + offset, w.word) for w in piece.words])


class PartStore:
    """Finished parts of one run on disk: part-N.npy (embeddings) then part-N.json, each written whole or not at
    all, so a part is there complete or missing. `key` says what the parts were computed from and how."""

    def __init__(self, folder: Path, key: dict) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "meta.json"
        key = {**key, "format": FORMAT}
        if not meta.is_file() or json.loads(meta.read_text()) != key:
            for old in self.folder.glob("part-*"):
                old.unlink()
            _write(meta, json.dumps(key).encode())

    def _path(self, index: int, suffix: str) -> Path:
        return self.folder / f"part-{index:05d}{suffix}"

    def done(self) -> dict[int, PartResult]:
        out = {}
        for path in sorted(self.folder.glob("part-*.json")):
            index = int(path.stem.split("-")[1])
            d = json.loads(path.read_text())
            pieces = [Piece(p["start"], p["end"], p["text"], [Word(**w) for w in p["words"]]) for p in d["pieces"]]
            vectors = np.load(self._path(index, ".npy"))
            out[index] = PartResult(d["start"], d["end"], pieces, [tuple(o) for o in d["owners"]], d["region"],
                                    vectors)
        return out

    def save(self, index: int, part: PartResult) -> None:
        with open(self._path(index, ".npy.tmp"), "wb") as f:
            np.save(f, part.vectors)
        os.replace(self._path(index, ".npy.tmp"), self._path(index, ".npy"))
        d = {"start": part.start, "end": part.end, "pieces": [asdict(p) for p in part.pieces],
             "owners": part.owners, "region": part.region}
        _write(self._path(index, ".json"), json.dumps(d).encode())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic: after a crash the file is the old one or the new one, never half


def work_part(audio: np.ndarray, start: int, transcriber: Transcriber, *, language: str, prompt: str | None,
              progress: Progress | None) -> PartResult:
    """Words and voice windows of one part, with times from the recording's start."""
    offset = start / SAMPLE_RATE
    # The voice windows (Silero and the one-thread speaker encoder) are worked out beside the recogniser, on
    # what CPU it leaves: the results are the same as one after the other, the wall time shorter.
    with ThreadPoolExecutor(1, thread_name_prefix="onno-voices") as pool:
        voices = pool.submit(windows, audio)
        pieces = transcriber.pieces(audio, language=language, prompt=prompt, progress=progress, word_timing=True,
                                    batched=True)
        owners, vectors, region = voices.result()
    return PartResult(start, start + len(audio), [shifted(p, offset) for p in pieces],
                      [(a + offset, b + offset) for a, b in owners], [int(r) for r in region], vectors)


def transcribe_recording(source: Path, transcriber: Transcriber, *, participants: list[str], language: str,
                         prompt: str | None = None, progress: Progress | None = None, uploader: str | None = None,
                         work_dir: Path | None = None, part_s: float = PART_S, search_s: float = SEARCH_S,
                         ) -> tuple[list[Segment], float, str]:
    """Segments with speakers (as `transcribe_speakers`), the length in seconds and the language spoken, of one
    mixed recording, part by part; with `work_dir`, finished parts are kept there and not done again."""
    source = Path(source)
    store = None
    if work_dir is not None:
        store = PartStore(work_dir, {"source": source.name, "size": source.stat().st_size,
                                     "model": repr(transcriber.config), "language": language, "part_s": part_s,
                                     "search_s": search_s, "prompt": prompt})
    done = store.done() if store else {}
    expected = probe_duration(source)
    total = int((expected or 0) * SAMPLE_RATE)
    results: list[PartResult] = []
    spoken = language
    end = 0
    for index, (start, audio) in enumerate(cut_parts(stream_audio(source), part_s=part_s, search_s=search_s,
                                                     ends=sorted(p.end for p in done.values()))):
        end = start + len(audio)
        if index == 0:
            spoken = transcriber.spoken_language(audio, language)
        if index in done and done[index].start == start and done[index].end == end:
            results.append(done[index])
        else:
            def part_progress(share: float, start: int = start, size: int = len(audio)) -> None:
                if progress:
                    whole = max(total, start + size)
                    progress(min(1.0, (start + share * size) / whole) * RECOGNITION_SHARE)

            result = work_part(audio, start, transcriber, language=spoken, prompt=prompt, progress=part_progress)
            results.append(result)
            if store:
                store.save(index, result)
        if progress:
            progress(min(1.0, end / max(total, end)) * RECOGNITION_SHARE)
    duration = end / SAMPLE_RATE
    pieces = [p for r in results for p in r.pieces]
    if not pieces:
        return [], duration, spoken
    owners = [o for r in results for o in r.owners]
    regions, base = [], 0
    for r in results:
        regions += [base + i for i in r.region]
        base += max(r.region, default=-1) + 1
    vectors = np.concatenate([r.vectors for r in results]) if results else np.zeros((0, 256), np.float32)
    turns = windows_to_turns(owners, vectors, np.array(regions, dtype=int), max_speakers=len(participants) or None)
    segments = speaker_segments(pieces, turns)
    if progress:
        progress(1.0)
    names = participants or discover_names(s.text for s in segments)
    return name_speakers(segments, names, uploader=uploader), duration, spoken
