#!/usr/bin/env python3
"""Reference for the Demucs parity check: PyTorch's own demucs.apply.apply_model on a saved torch
model (scripts/export-htdemucs.py --random-init --save-torch) and a deterministic test mix.

Writes <out>/mix.f32 (interleaved stereo float32 at 44.1 kHz) and <out>/stems.f32 (S interleaved
stereo stems, one after the other), with the normalisation of demucs.separate / demucs.api
(reference = channel mean; (wav - mean) / (std + 1e-8), undone on the outputs), shifts 0,
split True, overlap 0.25. Also checks the exported ONNX core against the torch core on one
segment (onnxruntime) and prints a JSON summary.

    .venv-torch/bin/python scripts/reference/demucs_parity.py --torch M.pt --onnx M.onnx --seconds 20 --out DIR
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def test_mix(seconds, seed):
    sr = 44100
    n = int(seconds * sr)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    left = 0.4 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 1234.5 * t) + 0.05 * rng.standard_normal(n)
    right = 0.3 * np.sin(2 * np.pi * 220 * t + 0.3) + 0.1 * np.sign(np.sin(2 * np.pi * 2 * t)) + 0.05 * rng.standard_normal(n)
    return np.stack([left, right]).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torch", help="a torch.save'd module (export-htdemucs.py --save-torch)")
    ap.add_argument("--package", nargs="+", help="Demucs package checkpoint(s) as demucs.states writes them; several = a bag")
    ap.add_argument("--bag-weights", help="JSON [models][sources] weights of a bag (htdemucs_ft: one-hot)")
    ap.add_argument("--onnx")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from demucs.apply import apply_model

    if args.package:
        from demucs.apply import BagOfModels
        from demucs.states import load_model

        members = [load_model(p).eval() for p in args.package]
        weights = json.loads(args.bag_weights) if args.bag_weights else None
        model = members[0] if len(members) == 1 else BagOfModels(members, weights=weights)
    else:
        try:
            model = torch.load(args.torch, weights_only=False).eval()
        except TypeError:  # torch < 1.13.1 has no weights_only
            model = torch.load(args.torch).eval()
    wav = torch.from_numpy(test_mix(args.seconds, args.seed))
    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std()
    norm = (wav - mean) / (std + 1e-8)
    t0 = time.perf_counter()
    with torch.no_grad():
        out = apply_model(model, norm[None], shifts=0, split=True, overlap=0.25, progress=False)[0]
    elapsed = time.perf_counter() - t0
    out = out * (std + 1e-8) + mean
    os.makedirs(args.out, exist_ok=True)
    wav.numpy().T.copy().tofile(os.path.join(args.out, "mix.f32"))
    out.numpy().transpose(0, 2, 1).copy().tofile(os.path.join(args.out, "stems.f32"))
    summary = {"frames": wav.shape[1], "sources": list(model.sources), "seconds": args.seconds,
               "torch_apply_model_s": elapsed, "threads": args.threads,
               "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}

    if args.onnx:
        import importlib.util

        import onnxruntime as ort

        spec = importlib.util.spec_from_file_location("export_htdemucs", os.path.join(os.path.dirname(__file__), "..", "export-htdemucs.py"))
        ex = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ex)
        seg = int(model.segment * model.samplerate)
        x = norm[None, :, :seg]
        with torch.no_grad():
            z = model._spec(x)
            mag = model._magnitude(z)
            core_x, core_xt = ex.HTDemucsCore(model)(x, mag)
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
        ox, oxt = sess.run(["x_out", "xt_out"], {"mix": x.numpy(), "x": mag.numpy()})
        summary["onnx_vs_torch_core_max_abs"] = float(max(np.abs(ox - core_x.numpy()).max(), np.abs(oxt - core_xt.numpy()).max()))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
