#!/usr/bin/env python3
"""BeatNet's own offline pipeline (the wheel's LOG_SPECT on madmom, the torch CRNN, madmom's
DBNDownBeatTrackingProcessor) on the accuracy corpus, for run.mjs --results: it tells whether a
shortfall is BeatNet's or the native port's.

    .venv-rhythm/bin/python bench/accuracy/reference-beatnet.py [--variant 3] [--meters 2 3 4] [--out FILE]
    npm run bench:accuracy -- --results FILE

(.venv-rhythm: scripts/reference/setup-rhythm-env.sh; the corpus: node bench/accuracy/build-corpus.mjs.)
Tempo is 60 / the median inter-beat interval (madmom reports none).
"""
import argparse
import importlib.util
import json
import pathlib
import sys
import time
import types
import wave

import numpy as np
import torch

sys.modules.setdefault("librosa", types.ModuleType("librosa"))  # BeatNet.common imports it, LOG_SPECT does not use it
from BeatNet.log_spect import LOG_SPECT  # noqa: E402
from BeatNet.model import BDA  # noqa: E402
from madmom.features.downbeats import DBNDownBeatTrackingProcessor  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def read_wav(path):
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getframerate() == 22050 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", type=int, default=3, choices=(1, 2, 3))
    ap.add_argument("--meters", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--corpus", default=str(HERE / "corpus"))
    ap.add_argument("--out")
    args = ap.parse_args()
    corpus = pathlib.Path(args.corpus)
    manifest = json.loads((corpus / "manifest.json").read_text())
    proc = LOG_SPECT(sample_rate=22050, win_length=1411, hop_size=441, n_bands=[24], mode="offline")
    weights = pathlib.Path(importlib.util.find_spec("BeatNet").origin).parent / "models" / f"model_{args.variant}_weights.pt"
    model = BDA(272, 150, 2, "cpu").eval()
    model.load_state_dict(torch.load(weights, map_location="cpu"), strict=False)
    dbn = DBNDownBeatTrackingProcessor(beats_per_bar=args.meters, fps=50)
    results = {}
    t0 = time.perf_counter()
    for p in manifest["pieces"]:
        audio = read_wav(corpus / p["file"])
        feats = proc.process_audio(audio).T.astype(np.float32)
        model.hidden = torch.zeros(2, 1, 150)  # the wheel keeps LSTM state between calls: start each piece at zero
        model.cell = torch.zeros(2, 1, 150)
        with torch.no_grad():
            act = model.final_pred(model(torch.from_numpy(feats[None]))[0]).numpy().T[:, :2]
        out = dbn(np.ascontiguousarray(act, dtype=np.float64))
        beats = [float(t) for t in out[:, 0]] if len(out) else []
        pos = [int(x) for x in out[:, 1]] if len(out) else []
        ibi = np.diff(beats)
        results[p["name"]] = {
            "beats": beats,
            "downbeats": [t for t, q in zip(beats, pos) if q == 1],
            "beatsPerBar": max(pos) if pos else 0,
            "tempoBpm": float(60 / np.median(ibi)) if len(ibi) else 0.0,
        }
        print(f"{p['name']:>32}: {len(beats)} beats, {results[p['name']]['beatsPerBar']} per bar", flush=True)
    name = f"madmom-ref:beatnet_{args.variant}"
    out_path = pathlib.Path(args.out or f"/tmp/reference-beatnet-{args.variant}.json")
    out_path.write_text(json.dumps({"name": name, "meters": args.meters, "corpusVersion": manifest["version"],
                                    "seconds": time.perf_counter() - t0, "pieces": results}) + "\n")
    print(f"wrote {out_path} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
