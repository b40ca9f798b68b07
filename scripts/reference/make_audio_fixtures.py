"""Generates the small audio fixtures the decode and resample tests read.

Run: .venv/bin/python scripts/reference/make_audio_fixtures.py
Writes test/fixtures/audio/* (one 0.25 s stereo signal in every container/codec libsndfile
reads) with a manifest of what python-soundfile decodes from each, and
test/fixtures/resample/* (python-soxr HQ outputs for a fixed input).
All signals are synthesised here; nothing third-party is included.
"""
import json
import pathlib

import numpy as np
import soundfile as sf
import soxr

ROOT = pathlib.Path(__file__).resolve().parents[2]
AUDIO = ROOT / "test" / "fixtures" / "audio"
RESAMPLE = ROOT / "test" / "fixtures" / "resample"


def stereo_signal(sr: int, seconds: float) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    left = 0.5 * np.sin(2 * np.pi * 440.0 * t) * np.linspace(0.2, 1.0, t.size)
    right = 0.25 * np.sin(2 * np.pi * 660.0 * t) + 0.1 * np.sin(2 * np.pi * 97.0 * t)
    return np.stack([left, right], axis=1).astype(np.float64)


def write_formats() -> None:
    AUDIO.mkdir(parents=True, exist_ok=True)
    sr = 22050
    x = stereo_signal(sr, 0.25)
    variants = [
        ("pcm_u8.wav", "WAV", "PCM_U8"),
        ("pcm_16.wav", "WAV", "PCM_16"),
        ("pcm_24.wav", "WAV", "PCM_24"),
        ("pcm_32.wav", "WAV", "PCM_32"),
        ("float.wav", "WAV", "FLOAT"),
        ("double.wav", "WAV", "DOUBLE"),
        ("extensible_24.wav", "WAVEX", "PCM_24"),
        ("rf64_16.wav", "RF64", "PCM_16"),
        ("w64_float.w64", "W64", "FLOAT"),
        ("pcm_16.aiff", "AIFF", "PCM_16"),
        ("pcm_s8.aiff", "AIFF", "PCM_S8"),
        ("pcm_16.flac", "FLAC", "PCM_16"),
        ("pcm_24.flac", "FLAC", "PCM_24"),
        ("vorbis.ogg", "OGG", "VORBIS"),
        ("mpeg.mp3", "MP3", "MPEG_LAYER_III"),
    ]
    manifest = []
    for name, fmt, subtype in variants:
        path = AUDIO / name
        sf.write(path, x, sr, format=fmt, subtype=subtype)
        manifest.append(describe(path, name))
    # Opus is only defined at 48 kHz (and 8/12/16/24 kHz); use 48 kHz for it.
    path = AUDIO / "opus.opus"
    sf.write(path, stereo_signal(48000, 0.25), 48000, format="OGG", subtype="OPUS")
    manifest.append(describe(path, "opus.opus"))
    (AUDIO / "manifest.json").write_text(json.dumps(
        {"generator": "scripts/reference/make_audio_fixtures.py",
         "soundfile": sf.__version__, "libsndfile": sf.__libsndfile_version__, "files": manifest}, indent=1) + "\n")


def describe(path: pathlib.Path, name: str) -> dict:
    info = sf.info(path)
    data, sr = sf.read(path, dtype="float32", always_2d=True)
    return {
        "file": name,
        "container": info.format,
        "sampleFormat": info.subtype,
        "sampleRate": sr,
        "channels": info.channels,
        "frames": int(data.shape[0]),
        # What python-soundfile decodes (float32, interleaved): first samples and checksums.
        "head": [float(v) for v in data[:4].reshape(-1)],
        "sum": float(np.sum(data, dtype=np.float64)),
        "sumAbs": float(np.sum(np.abs(data), dtype=np.float64)),
    }


def write_resample() -> None:
    RESAMPLE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1234)
    sr = 44100
    n = sr  # one second
    t = np.arange(n) / sr
    chirp = np.sin(2 * np.pi * (100.0 * t + 0.5 * (8000.0 - 100.0) * t * t))
    x = (0.6 * chirp + 0.05 * rng.standard_normal(n)).astype(np.float32)
    x.tofile(RESAMPLE / "input_44100.f32")
    cases = []
    for out_sr in (22050, 16000, 48000):
        y = soxr.resample(x, sr, out_sr, quality="HQ").astype(np.float32)
        name = f"soxr_hq_{out_sr}.f32"
        y.tofile(RESAMPLE / name)
        cases.append({"file": name, "inRate": sr, "outRate": out_sr, "frames": int(y.size)})
    (RESAMPLE / "manifest.json").write_text(json.dumps(
        {"generator": "scripts/reference/make_audio_fixtures.py", "soxr": soxr.__version__,
         "quality": "HQ", "input": "input_44100.f32", "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    write_formats()
    write_resample()
