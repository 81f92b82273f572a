"""One settings object, read from ONNO_* environment variables; defaults need no services at all."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.transcribe import WhisperConfig


class Settings(BaseSettings):
    """Where Onno keeps its data and which models it runs."""

    model_config = SettingsConfigDict(env_prefix="ONNO_", extra="ignore")

    data_dir: Path = Path(platformdirs.user_data_dir("onno", appauthor=False))
    database_url: str = ""  # empty: a SQLite file in data_dir
    blob_dir: Path | None = None  # empty: data_dir/blobs
    whisper_model: str = ""  # empty: the bundled tiny.en
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = 5
    whisper_threads: int = 0

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'onno.db'}"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def whisper(self) -> WhisperConfig:
        return WhisperConfig(model=self.whisper_model, device=self.whisper_device,
                             compute_type=self.whisper_compute_type, beam_size=self.whisper_beam_size,
                             cpu_threads=self.whisper_threads)
