"""Decoding: common formats become 16 kHz mono; bad files get a clear InputError."""

import pytest

from core.errors import InputError
from pipeline.decode import SAMPLE_RATE, decode_audio
from tests import media


@pytest.mark.parametrize("suffix", sorted(media.FORMATS))
def test_common_formats_decode_to_16k_mono(tmp_path, suffix):
    clip = media.sample_clip(3.0)
    path = media.write_audio(clip, tmp_path / f"clip{suffix}")
    audio = decode_audio(path)
    assert audio.ndim == 1 and audio.dtype.name == "float32"
    assert abs(len(audio) / SAMPLE_RATE - 3.0) < 0.15
    assert 0.01 < abs(audio).max() <= 1.0


def test_video_with_sound_decodes_its_audio(tmp_path):
    path = media.write_audio(media.sample_clip(2.0), tmp_path / "call.mp4", codec="aac", with_video=True)
    assert abs(len(decode_audio(path)) / SAMPLE_RATE - 2.0) < 0.15


@pytest.mark.parametrize("make, message", [
    (lambda d: media.written(d / "empty.ogg", b""), "empty"),
    (lambda d: media.truncated(media.SAMPLE, d / "cut.ogg"), "truncated"),
    (lambda d: media.corrupted(media.SAMPLE, d / "bad.ogg"), "damaged"),
    (lambda d: media.written(d / "notes.mp3", b"meeting notes, not audio"), "not a media file"),
    (lambda d: media.video_without_audio(d / "screen.mp4"), "no audio track"),
])
def test_bad_files_get_a_clear_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError) as err:
        decode_audio(path)
    assert message in str(err.value)
    assert err.value.hint


def test_truncated_mp3_is_caught_by_length(tmp_path):
    mp3 = media.write_audio(media.sample_clip(10.0), tmp_path / "full.mp3")
    with pytest.raises(InputError, match="truncated"):
        decode_audio(media.truncated(mp3, tmp_path / "cut.mp3", 0.5))


def test_truncated_wav_is_caught_by_its_header(tmp_path):
    wav = media.write_audio(media.sample_clip(5.0), tmp_path / "full.wav")
    with pytest.raises(InputError, match="truncated"):
        decode_audio(media.truncated(wav, tmp_path / "cut.wav", 0.5))
