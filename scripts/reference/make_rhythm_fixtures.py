#!/usr/bin/env python3
"""Reference fixtures for the learned rhythm tracker (issue 12): BeatNet's LOG_SPECT features,
the BeatNet CRNN activations and madmom's DBNDownBeatTrackingProcessor output.

    .venv-rhythm/bin/python scripts/reference/make_rhythm_fixtures.py

(.venv-rhythm comes from scripts/reference/setup-rhythm-env.sh.) Writes test/fixtures/rhythm/
(little-endian .bin arrays + manifest.json). Deterministic: synthetic signals from fixed seeds.
"""
import hashlib
import json
import pathlib
import sys
import types

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/rhythm"
SR = 22050
FPS = 50
VARIANTS = (1, 2, 3)
DBN_VARIANT = 3  # the DBN fixtures decode this variant's activations
METER_SETS = ([2, 3, 4], [2], [3], [4], [2, 3, 4, 5, 6, 7])

# BeatNet.common imports librosa only for helpers LOG_SPECT.process_audio never calls.
sys.modules.setdefault("librosa", types.ModuleType("librosa"))
import madmom  # noqa: E402
from madmom.features.downbeats import DBNDownBeatTrackingProcessor  # noqa: E402
from BeatNet.log_spect import LOG_SPECT  # noqa: E402
from BeatNet.model import BDA  # noqa: E402
import importlib.util  # noqa: E402


# ---------------------------------------------------------------- signals (on the int16 grid)

def _burst(freq, dur, decay, sr=SR):
    t = np.arange(int(dur * sr)) / sr
    return np.sin(2 * np.pi * freq * t) * np.exp(-t / decay)


def click_track(bpm, beats_per_bar, seconds, start=0.0):
    """Sine-burst clicks; the downbeat click is higher and louder (downbeat inferable)."""
    y = np.zeros(int(seconds * SR))
    hi, lo = _burst(1500, 0.03, 0.006) * 0.9, _burst(1000, 0.03, 0.006) * 0.5
    beats, i = [], 0
    while start + i * 60.0 / bpm < seconds - 0.05:
        t = start + i * 60.0 / bpm
        c = hi if i % beats_per_bar == 0 else lo
        n = int(round(t * SR))
        seg = c[: len(y) - n]
        y[n: n + len(seg)] += seg
        beats.append((t, i % beats_per_bar + 1))
        i += 1
    return y, beats


def drum_pattern(bpm, seconds, seed=7):
    """4/4 rock pattern: kick on 1 and 3 (and the "and" of 3), snare on 2 and 4, closed hi-hat eighths."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int(seconds * SR))
    t = np.arange(int(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t / 0.03)) * t) * np.exp(-t / 0.12)
    snare = (rng.standard_normal(t.size) * 0.6 * np.exp(-t / 0.05)
             + np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04) * 0.5)
    tt = np.arange(int(0.05 * SR)) / SR
    hat = np.diff(rng.standard_normal(tt.size + 1)) * np.exp(-tt / 0.01) * 0.25
    beat = 60.0 / bpm
    beats, k = [], 0

    def put(sig, at, gain):
        n = int(round(at * SR))
        if n >= len(y):
            return
        seg = sig[: len(y) - n] * gain
        y[n: n + len(seg)] += seg

    while k * beat < seconds - 0.05:
        at, pos = k * beat, k % 4 + 1
        beats.append((at, pos))
        if pos in (1, 3):
            put(kick, at, 0.9)
        if pos == 3:
            put(kick, at + beat / 2, 0.6)
        if pos in (2, 4):
            put(snare, at, 0.6)
        put(hat, at, 0.5)
        put(hat, at + beat / 2, 0.35)
        k += 1
    return y, beats


def to_int16(y):
    y = y / max(1e-9, np.abs(y).max()) * 0.8
    return np.round(y * 32767).astype("<i2")


# ---------------------------------------------------------------- references

def log_spect():
    # exactly BeatNet.py's arguments (BeatNet.__init__, mode 'offline')
    return LOG_SPECT(sample_rate=SR, win_length=int(64 * 0.001 * SR), hop_size=int(20 * 0.001 * SR),
                     n_bands=[24], mode="offline")


def beatnet_models():
    d = pathlib.Path(importlib.util.find_spec("BeatNet").origin).parent / "models"
    models = {}
    for n in VARIANTS:
        m = BDA(272, 150, 2, "cpu").eval()
        m.load_state_dict(torch.load(d / f"model_{n}_weights.pt", map_location="cpu"), strict=False)
        models[n] = m
    return models


def activations(model, feats):
    """BeatNet.activation_extractor_online with a fresh zero LSTM state: [T, 3] softmax
    (columns beat, downbeat, no beat)."""
    model.hidden = torch.zeros(2, 1, 150)
    model.cell = torch.zeros(2, 1, 150)
    with torch.no_grad():
        x = torch.from_numpy(feats[None].astype(np.float32))  # [1, T, 272] as BeatNet feeds it
        return model.final_pred(model(x)[0]).numpy().T.astype(np.float32)


def dbn(acts2, meters):
    proc = DBNDownBeatTrackingProcessor(beats_per_bar=meters, fps=FPS)
    out = proc(acts2)
    # the per-meter Viterbi scores the processor compares, on the same thresholded crop
    a = acts2
    first = 0
    idx = np.nonzero(a >= proc.threshold)[0]
    if idx.any():
        first = max(first, np.min(idx))
        last = min(len(a), np.max(idx) + 1)
    else:
        last = first
    a = a[first:last]
    scores = {}
    if a.any():
        for m, hmm in zip(meters, proc.hmms):
            _, lp = hmm.viterbi(a)
            scores[str(m)] = float(lp)
    best = max(scores, key=scores.get) if scores else None
    return {
        "beats_per_bar": list(meters),
        "beats": [[round(float(t), 6), int(p)] for t, p in out],
        "chosen_beats_per_bar": int(best) if best else None,
        "crop_frames": [int(first), int(last)],
        "log_prob": scores,
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.glob("*.bin"):
        f.unlink()
    proc = log_spect()
    models = beatnet_models()
    probe = DBNDownBeatTrackingProcessor(beats_per_bar=[4], fps=FPS)
    dbn_args = {"fps": FPS, "min_bpm": 55.0, "max_bpm": 215.0, "num_tempi": 60, "transition_lambda": 100,
                "observation_lambda": 16, "threshold": probe.threshold, "correct": probe.correct,
                "input": f"activations of beatnet_{DBN_VARIANT}, columns [0, 1] (beat, downbeat)"}

    signals = []
    y, b = click_track(120, 4, 6.0)
    signals.append(("click_120_4", to_int16(y), b, "synthetic: 120 BPM 4/4 sine-burst click from 0 s, "
                    "downbeat 1500 Hz loud, other beats 1000 Hz", None))
    y, b = click_track(100, 3, 6.0, start=0.25)
    signals.append(("click_100_3", to_int16(y), b, "synthetic: 100 BPM 3/4 sine-burst click from 0.25 s, "
                    "accented downbeats", None))
    y, b = drum_pattern(96, 6.0)
    signals.append(("drums_96_4", to_int16(y), b, "synthetic: 96 BPM 4/4 kick/snare/hi-hat pattern "
                    "(kick on 1, 3 and 3+, snare on 2 and 4)", None))
    real = np.fromfile(ROOT / "test/fixtures/analysis/real_chromium_bsu.input.bin", dtype="<i2")
    signals.append(("real_chromium_bsu", real, None,
                    "recording: music_game.wav from Debian chromium-bsu-data 0.9.16.1-3 (Expat licence), "
                    "the whole 6.5 s file as in test/fixtures/analysis",
                    "../analysis/real_chromium_bsu.input.bin"))

    fixtures = []
    for name, pcm, ref_beats, source, shared_input in signals:
        audio = pcm.astype(np.float32) / 32768.0
        feats = proc.process_audio(audio).T.astype(np.float32)  # [T, 272], frames x features
        entry = {"name": name, "sr": SR, "length": int(pcm.size), "source": source}
        if shared_input:
            entry["input"] = {"file": shared_input, "dtype": "int16", "shape": [int(pcm.size)], "scale": 1 / 32768}
        else:
            pcm.tofile(OUT / f"{name}.input.bin")
            entry["input"] = {"file": f"{name}.input.bin", "dtype": "int16", "shape": [int(pcm.size)],
                              "scale": 1 / 32768}
        if ref_beats is not None:
            entry["true_beats"] = [[round(t, 6), p] for t, p in ref_beats]
        feats.tofile(OUT / f"{name}.features.bin")
        entry["features"] = {"file": f"{name}.features.bin", "dtype": "float32", "shape": list(feats.shape)}
        entry["activations"] = {}
        acts = {}
        for n, m in models.items():
            a = activations(m, feats)
            acts[n] = a
            a.tofile(OUT / f"{name}.act{n}.bin")
            entry["activations"][f"beatnet_{n}"] = {"file": f"{name}.act{n}.bin", "dtype": "float32",
                                                     "shape": list(a.shape)}
        a2 = np.ascontiguousarray(acts[DBN_VARIANT][:, :2]).astype(np.float64)
        entry["dbn"] = [dbn(a2, ms) for ms in METER_SETS]
        fixtures.append(entry)
        best = entry["dbn"][0]
        print(f"{name}: T={feats.shape[0]}, dbn[2,3,4] -> {best['chosen_beats_per_bar']} beats/bar, "
              f"{len(best['beats'])} beats, first {best['beats'][:2]}")

    manifest = {
        "generator": "scripts/reference/make_rhythm_fixtures.py",
        "versions": {"madmom": madmom.__version__, "numpy": np.__version__, "torch": torch.__version__,
                     "BeatNet": "1.1.3"},
        "layout": "little-endian, row-major; features [frames, 272] (136 log-filtered bands, then their 136 "
                  "positive differences); activations [frames, 3] softmax (beat, downbeat, no beat); "
                  "int16 inputs are scaled by 1/32768 to float32",
        "features": {
            "processor": "BeatNet.log_spect.LOG_SPECT(sample_rate=22050, win_length=1411, hop_size=441, "
                         "n_bands=[24], mode='offline')",
            "chain": "SignalProcessor(num_channels=1, sample_rate=22050) -> FramedSignalProcessor(frame_size=1411, "
                     "hop_size=441) -> ShortTimeFourierTransformProcessor() -> FilteredSpectrogramProcessor("
                     "num_bands=24, fmin=30, fmax=17000, norm_filters=True) -> LogarithmicSpectrogramProcessor("
                     "mul=1, add=1) -> SpectrogramDifferenceProcessor(diff_ratio=0.5, positive_diffs=True, "
                     "stack_diffs=np.hstack)",
            "frames": "ceil(length / 441), frame i centred on sample i*441, zero padded",
        },
        "activations": "BeatNet BDA(272, 150, 2) with BeatNet/models/model_N_weights.pt, zero initial LSTM "
                       "state, softmax over classes; identical to models/beatnet/beatnet_N.onnx within 1e-5",
        "dbn": dict(dbn_args, processor="madmom.features.downbeats.DBNDownBeatTrackingProcessor(beats_per_bar=..., "
                    "fps=50) with madmom's other defaults; beats are [time_s, position_in_bar (1 = downbeat)]; "
                    "log_prob: HiddenMarkovModel.viterbi score per meter on the thresholded crop "
                    "[crop_frames), the highest wins"),
        "fixtures": fixtures,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
