"""The live engine: per-speaker audio in as a meeting happens, transcript lines and findings out as events."""

from pipeline.live.audio import Downsampler, discord_to_16k
from pipeline.live.pool import LIVE_BEAM_SIZE, LIVE_CPU_THREADS, TranscriptionPool, live_transcriber
from pipeline.live.session import LiveSession
from pipeline.live.vad import SegmenterConfig

__all__ = ["LIVE_BEAM_SIZE", "LIVE_CPU_THREADS", "Downsampler", "LiveSession", "SegmenterConfig",
           "TranscriptionPool", "discord_to_16k", "live_transcriber"]
