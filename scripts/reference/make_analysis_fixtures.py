#!/usr/bin/env python3
"""Regenerates test/fixtures/analysis/: librosa 0.11.0 reference outputs for the analysis core.

Run from the repository root:  .venv/bin/python scripts/reference/make_analysis_fixtures.py

Inputs are synthesised here (tones, chirp, noise, click tracks at several tempi and meters, a
tempo ramp, silence, very short input, a detuned chord/drum "song") plus two short recordings
from Debian packages (downloaded with `apt-get download` into a temporary directory, never
installed; skipped with a warning when apt is unavailable). Every input is stored next to the
outputs so the parity tests never need Python. Files are little-endian float32 / int16 .bin;
shapes, dtypes, parameters and library versions are in manifest.json.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import scipy
import soundfile as sf
import librosa

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "analysis"
HOP = 512
N_FFT = 2048

warnings.filterwarnings("ignore", message="n_fft=.*too large")
warnings.filterwarnings("ignore", message="Trying to estimate tuning from empty frequency set")


def quantise(x: np.ndarray) -> np.ndarray:
    """Puts a float signal on the 16-bit grid (k / 32768) so it can be stored as int16 exactly."""
    q = np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767)
    return (q / 32768.0).astype(np.float32)


def click_track(sr: int, bpm_fn, seconds: float, meter: int, seed: int) -> np.ndarray:
    """Decaying noise bursts on every beat; accented downbeats; a quiet pad underneath."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = 0.02 * np.sin(2 * np.pi * 110.0 * np.arange(n) / sr)
    t, k = 0.3, 0
    burst_len = int(0.05 * sr)
    env = np.exp(-np.arange(burst_len) / (0.008 * sr))
    while t < seconds - 0.06:
        s = int(t * sr)
        amp = 0.9 if k % meter == 0 else 0.45
        y[s : s + burst_len] += amp * env * rng.standard_normal(burst_len) * 0.5
        t += 60.0 / bpm_fn(t)
        k += 1
    return quantise(0.8 * y / max(1e-9, np.max(np.abs(y))))


def song(sr: int, seconds: float, seed: int) -> np.ndarray:
    """Detuned (+30 cents) triads over a drum pattern at 110 BPM."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    y = np.zeros(n)
    beat = 60.0 / 110.0
    chords = [[57, 61, 64], [62, 66, 69], [64, 68, 71], [57, 60, 64]]
    detune = 0.3
    for i in range(int(seconds / (4 * beat)) + 1):
        s0, s1 = int(i * 4 * beat * sr), min(n, int((i + 1) * 4 * beat * sr))
        for m in chords[i % len(chords)]:
            f = 440.0 * 2 ** ((m + detune - 69) / 12)
            for h in (1, 2, 3):
                y[s0:s1] += 0.08 / h * np.sin(2 * np.pi * f * h * t[s0:s1])
    kick = np.sin(2 * np.pi * 60 * np.arange(int(0.1 * sr)) / sr) * np.exp(-np.arange(int(0.1 * sr)) / (0.03 * sr))
    hat = rng.standard_normal(int(0.03 * sr)) * np.exp(-np.arange(int(0.03 * sr)) / (0.005 * sr))
    k = 0
    tb = 0.2
    while tb < seconds - 0.12:
        s = int(tb * sr)
        if k % 2 == 0:
            y[s : s + len(kick)] += 0.7 * kick
        y[s : s + len(hat)] += 0.25 * hat
        tb += beat / 2
        k += 1
    return quantise(0.9 * y / np.max(np.abs(y)))


def synth_inputs():
    out = []
    sr = 22050
    t2 = np.arange(sr) / sr
    tone = 0.5 * np.sin(2 * np.pi * 440 * t2) + 0.2 * np.sin(2 * np.pi * 880 * t2) + 0.1 * np.sin(2 * np.pi * 1320 * t2)
    out.append(dict(name="tone_440", sr=sr, y=quantise(tone), source="synthetic: 440 Hz + 2 harmonics, 1 s", stft=True))
    t3 = np.arange(int(1.5 * sr)) / sr
    chirp = 0.5 * scipy.signal.chirp(t3, f0=100, t1=1.5, f1=8000, method="logarithmic")
    out.append(dict(name="chirp", sr=sr, y=quantise(chirp), source="synthetic: log chirp 100-8000 Hz, 1.5 s", reflect=True))
    rng = np.random.default_rng(1)
    out.append(dict(name="noise", sr=sr, y=quantise(0.1 * rng.standard_normal(2 * sr)), source="synthetic: white noise, sigma 0.1, 2 s", variants=True))
    out.append(dict(name="clicks_90_4", sr=sr, y=click_track(sr, lambda t: 90.0, 6.0, 4, 2), source="synthetic: click track 90 BPM, 4/4 accents, 6 s"))
    out.append(dict(name="clicks_128_3", sr=sr, y=click_track(sr, lambda t: 128.0, 6.0, 3, 3), source="synthetic: click track 128 BPM, 3/4 accents, 6 s"))
    out.append(dict(name="clicks_150_7", sr=sr, y=click_track(sr, lambda t: 150.0, 6.0, 7, 4), source="synthetic: click track 150 BPM, 7/8 accents, 6 s"))
    out.append(dict(name="clicks_174_4_44k", sr=44100, y=click_track(44100, lambda t: 174.0, 5.0, 4, 5), source="synthetic: click track 174 BPM at 44.1 kHz, 5 s"))
    out.append(dict(name="clicks_117_4_44k", sr=44100, y=click_track(44100, lambda t: 117.0, 4.0, 4, 9), source="synthetic: click track 117 BPM at 44.1 kHz, 4 s"))
    out.append(dict(name="tempo_ramp", sr=sr, y=click_track(sr, lambda t: 100.0 + 5.0 * t, 8.0, 4, 6), source="synthetic: clicks ramping 100 -> 140 BPM over 8 s"))
    out.append(dict(name="song_110", sr=sr, y=song(sr, 6.0, 7), source="synthetic: +30 cent detuned triads and drums at 110 BPM, 6 s", meldb=True))
    out.append(dict(name="silence", sr=sr, y=np.zeros(sr, dtype=np.float32), source="synthetic: 1 s of digital silence"))
    rng = np.random.default_rng(8)
    short = 0.3 * np.sin(2 * np.pi * 660 * np.arange(1000) / sr) + 0.05 * rng.standard_normal(1000)
    out.append(dict(name="short_1000", sr=sr, y=quantise(short), source="synthetic: 1000 samples (shorter than n_fft)", stft=True))
    return out


DEBIAN = [
    dict(
        name="real_chromium_bsu",
        package="chromium-bsu-data",
        path="usr/share/games/chromium-bsu/wav/music_game.wav",
        source="Debian package chromium-bsu-data 0.9.16.1-3, usr/share/games/chromium-bsu/wav/music_game.wav",
        licence="Expat (MIT); (c) 2008 Brian Redfern (debian/copyright: Files data/wav/*)",
    ),
    dict(
        name="real_gnome_startup",
        package="gnome-audio",
        path="usr/share/sounds/startup3.wav",
        source="Debian package gnome-audio 2.22.2-1.2, usr/share/sounds/startup3.wav (stereo 44.1 kHz, mixed to mono, first 3 s)",
        seconds=3.0,
        licence="CC BY-SA 2.0; Andreas Karlsson, 'Silvertheme' (06_-_epsilon.wav)",
    ),
]


def debian_inputs():
    out = []
    if shutil.which("apt-get") is None:
        print("warning: apt-get not found; skipping the recordings", file=sys.stderr)
        return out
    with tempfile.TemporaryDirectory() as tmp:
        for d in DEBIAN:
            try:
                subprocess.run(["apt-get", "download", d["package"]], cwd=tmp, check=True, capture_output=True)
                deb = next(p for p in os.listdir(tmp) if p.startswith(d["package"] + "_") and p.endswith(".deb"))
                xdir = os.path.join(tmp, d["package"])
                subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, deb), xdir], check=True)
                y, sr = sf.read(os.path.join(xdir, d["path"]), dtype="float64", always_2d=True)
            except Exception as e:  # noqa: BLE001
                print(f"warning: could not fetch {d['package']}: {e}", file=sys.stderr)
                continue
            mono = y.mean(axis=1).astype(np.float32)
            if "seconds" in d:
                mono = mono[: int(d["seconds"] * sr)]
            out.append(dict(name=d["name"], sr=int(sr), y=mono, source=d["source"], licence=d["licence"], meldb=d["name"] == "real_chromium_bsu"))
    return out


def write(arr: np.ndarray, name: str, dtype) -> dict:
    a = np.ascontiguousarray(arr, dtype=dtype)
    (OUT / name).write_bytes(a.astype(a.dtype.newbyteorder("<")).tobytes())
    return {"file": name, "dtype": np.dtype(dtype).name, "shape": list(a.shape)}


def analyse(fx: dict) -> dict:
    y, sr, name = fx["y"], fx["sr"], fx["name"]
    entry = {"name": name, "sr": sr, "length": int(len(y)), "source": fx["source"]}
    if "licence" in fx:
        entry["licence"] = fx["licence"]
    on_grid = np.array_equal(quantise(y), y)
    entry["input"] = write((y * 32768).astype(np.int16) if on_grid else y, f"{name}.input.bin", np.int16 if on_grid else np.float32)
    if on_grid:
        entry["input"]["scale"] = 1 / 32768
    outputs = {}

    # beat tracking exactly as the original's song-level analysis
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr)
    entry["tempo"] = float(np.atleast_1d(tempo)[0])
    entry["beats"] = [int(b) for b in beats]
    env_median = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP, aggregate=np.median)
    outputs["onset_median"] = write(env_median, f"{name}.onset_median.bin", np.float32)
    env_mean = librosa.onset.onset_strength(y=y, sr=sr)
    # librosa.feature.tempo(y=y) (mean-aggregated onset strength, no all-zero shortcut)
    entry["tempo_mean"] = float(librosa.feature.tempo(y=y, sr=sr)[0])
    outputs["onset_mean"] = write(env_mean, f"{name}.onset_mean.bin", np.float32)
    if env_median.any():
        entry["tempo_only"] = float(librosa.feature.tempo(onset_envelope=env_median, sr=sr)[0])
        # the tracker on a fixed tempo and without trimming
        _, b2 = librosa.beat.beat_track(onset_envelope=env_median, sr=sr, bpm=entry["tempo"], trim=False)
        entry["beats_untrimmed"] = [int(b) for b in b2]

    # features (the calls the original's analysis makes)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr)
    S_power = np.abs(librosa.stft(y)) ** 2
    entry["tuning"] = float(librosa.estimate_tuning(S=S_power, sr=sr, bins_per_octave=12))
    outputs["chroma"] = write(chroma, f"{name}.chroma.bin", np.float32)
    outputs["mfcc"] = write(librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13), f"{name}.mfcc.bin", np.float32)
    outputs["centroid"] = write(librosa.feature.spectral_centroid(y=y, sr=sr), f"{name}.centroid.bin", np.float32)
    outputs["bandwidth"] = write(librosa.feature.spectral_bandwidth(y=y, sr=sr), f"{name}.bandwidth.bin", np.float32)
    outputs["rolloff"] = write(librosa.feature.spectral_rolloff(y=y, sr=sr), f"{name}.rolloff.bin", np.float32)
    outputs["zcr"] = write(librosa.feature.zero_crossing_rate(y), f"{name}.zcr.bin", np.float32)
    outputs["rms"] = write(librosa.feature.rms(y=y), f"{name}.rms.bin", np.float32)
    if fx.get("meldb") or fx.get("stft"):
        mel = librosa.feature.melspectrogram(y=y, sr=sr)
        outputs["mel_db"] = write(librosa.power_to_db(mel), f"{name}.mel_db.bin", np.float32)
    if fx.get("stft"):
        outputs["stft_mag"] = write(np.abs(librosa.stft(y)), f"{name}.stft_mag.bin", np.float32)
    if fx.get("reflect"):
        D = librosa.stft(y, n_fft=1024, hop_length=256, win_length=800, window="hamming", pad_mode="reflect")
        outputs["stft_mag_reflect"] = write(np.abs(D), f"{name}.stft_mag_reflect.bin", np.float32)
        entry["stft_reflect_params"] = dict(n_fft=1024, hop_length=256, win_length=800, window="hamming", pad_mode="reflect")
    if fx.get("variants"):
        v = dict(n_fft=1024, hop_length=256, n_mels=40, htk=True, fmin=50.0, fmax=8000.0, n_mfcc=20, lifter=22)
        m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, lifter=22, n_fft=1024, hop_length=256, n_mels=40, htk=True, fmin=50.0, fmax=8000.0)
        outputs["mfcc_htk"] = write(m, f"{name}.mfcc_htk.bin", np.float32)
        c = librosa.feature.chroma_stft(y=y, sr=sr, n_fft=1024, hop_length=256, tuning=0.0)
        outputs["chroma_1024"] = write(c, f"{name}.chroma_1024.bin", np.float32)
        entry["variant_params"] = v
    entry["outputs"] = outputs
    return entry


def main() -> None:
    if OUT.exists():
        for p in OUT.glob("*.bin"):
            p.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    fixtures = [analyse(fx) for fx in synth_inputs() + debian_inputs()]
    manifest = {
        "generator": "scripts/reference/make_analysis_fixtures.py",
        "versions": {"librosa": librosa.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "params": {
            "n_fft": N_FFT,
            "hop_length": HOP,
            "window": "hann",
            "center": True,
            "pad_mode": "constant",
            "n_mels": 128,
            "n_mfcc": 13,
            "beat_track": "librosa.beat.beat_track(y=y, sr=sr) (tightness 100, trim, start_bpm 120)",
            "onset_median": "librosa.onset.onset_strength(y=y, sr=sr, hop_length=512, aggregate=np.median)",
            "onset_mean": "librosa.onset.onset_strength(y=y, sr=sr)",
            "features": "chroma_stft, mfcc(n_mfcc=13), spectral_centroid, spectral_bandwidth, spectral_rolloff, zero_crossing_rate, rms with librosa defaults",
            "layout": "row-major, librosa's (rows, frames) shapes, little-endian",
        },
        "fixtures": fixtures,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.glob("*"))
    print(f"wrote {len(fixtures)} fixtures, {total / 1e6:.2f} MB, to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
