#!/usr/bin/env python3
"""Export BeatNet's beat/downbeat CRNN (BeatNet 1.1.3, CC BY 4.0) to ONNX.

    .venv-rhythm/bin/python scripts/models/export-beatnet.py [--variants 1 2 3] [--out models/beatnet]

(.venv-rhythm comes from scripts/reference/setup-rhythm-env.sh.) Development-time only: torch on CPU.

The network is defined here (not imported from the wheel) with the layer sizes of the wheel's
BeatNet/model.py `BDA(272, 150, 2)`; the state dicts `BeatNet/models/model_{N}_weights.pt` load
into it. The exported graph is the wheel's offline path (`activation_extractor_online` +
`final_pred`) with one difference that matters: the wheel keeps the LSTM state on the module
between calls, this graph always starts from a zero state (as the wheel's first call does).

Contract (the C++ side relies on it):
  input  `features`    float32 [1, T, 272]  LOG_SPECT frames at 50 fps (136 log-filtered bands,
                                            then their 136 positive differences)
  output `activations` float32 [1, T, 3]    softmax over classes, per frame:
                                            column 0 beat (not a downbeat), 1 downbeat, 2 no beat
BeatNet's offline path feeds columns [0, 1] to madmom's DBNDownBeatTrackingProcessor, which
reads column 0 as beat and column 1 as downbeat activation.

Checks, printed: the state dict loads strictly; this network equals the wheel's BDA on the same
input; ONNX Runtime equals PyTorch (max abs diff <= 1e-5) on random and on real features.
"""
import argparse
import hashlib
import importlib.util
import os
import pathlib
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_FEATURES = 272  # BDA(272, ...) in BeatNet.py
HIDDEN = 150      # BDA(..., 150, 2): LSTM cells
LAYERS = 2
CONV_OUT = 150    # BDA.conv_out
KERNEL = 10       # BDA.kernelsize
TOL = 1e-5


class BeatNetCRNN(nn.Module):
    """BeatNet's BDA: per-frame Conv1d(1->2, k=10) -> ReLU -> MaxPool(2) -> Linear(262->150),
    then a 2-layer unidirectional LSTM(150) over time -> Linear(150->3) -> softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 2, KERNEL)
        pooled = (N_FEATURES - KERNEL + 1) // 2
        self.linear0 = nn.Linear(2 * pooled, CONV_OUT)
        self.lstm = nn.LSTM(input_size=CONV_OUT, hidden_size=HIDDEN, num_layers=LAYERS,
                            batch_first=True, bidirectional=False)
        self.linear = nn.Linear(HIDDEN, 3)

    def forward(self, features):  # [B, T, 272]
        b, t = features.shape[0], features.shape[1]
        x = features.reshape(-1, 1, N_FEATURES)          # each frame is a 1-channel sequence
        x = F.max_pool1d(F.relu(self.conv1(x)), 2)       # [B*T, 2, 131]
        x = self.linear0(x.flatten(1))                   # [B*T, 150]
        x = x.reshape(b, t, CONV_OUT)
        x, _ = self.lstm(x)                              # zero initial state
        return torch.softmax(self.linear(x), dim=-1)     # [B, T, 3]


class BeatNetMean(nn.Module):
    """The three variants side by side, their softmax outputs averaged (same contract)."""

    def __init__(self, nets):
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, features):
        return sum(n(features) for n in self.nets) / len(self.nets)


def beatnet_dir():
    spec = importlib.util.find_spec("BeatNet")
    if spec is None:
        sys.exit("BeatNet is not installed: run scripts/reference/setup-rhythm-env.sh")
    return pathlib.Path(spec.origin).parent


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def real_features():
    """LOG_SPECT of the real recording in test/fixtures/analysis (22,050 Hz, MIT), as BeatNet computes it."""
    root = pathlib.Path(__file__).resolve().parents[2]
    pcm = np.fromfile(root / "test/fixtures/analysis/real_chromium_bsu.input.bin", dtype="<i2")
    audio = pcm.astype(np.float32) / 32768.0
    # BeatNet.common imports librosa only for helpers that LOG_SPECT.process_audio never calls.
    sys.modules.setdefault("librosa", types.ModuleType("librosa"))
    from BeatNet.log_spect import LOG_SPECT
    proc = LOG_SPECT(sample_rate=22050, win_length=int(0.064 * 22050), hop_size=int(0.020 * 22050),
                     n_bands=[24], mode="offline")
    return proc.process_audio(audio).T.astype(np.float32)  # [T, 272] (BeatNet transposes twice)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "models/beatnet"))
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--mean", action="store_true",
                    help="also export beatnet_mean.onnx: the average of the three variants' softmax outputs")
    args = ap.parse_args()

    import onnxruntime as ort
    sys.modules.setdefault("librosa", types.ModuleType("librosa"))
    from BeatNet.model import BDA  # only to check our definition against the wheel's

    torch.manual_seed(0)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    feats_real = real_features()
    assert feats_real.shape[1] == N_FEATURES, feats_real.shape
    rng = np.random.default_rng(12)
    inputs = {
        "random T=1": rng.random((1, 1, N_FEATURES), dtype=np.float32),
        "random T=777": rng.random((1, 777, N_FEATURES), dtype=np.float32) * 2.0,
        f"real T={feats_real.shape[0]}": feats_real[None],
    }
    worst = 0.0
    for n in args.variants:
        src = beatnet_dir() / "models" / f"model_{n}_weights.pt"
        state = torch.load(src, map_location="cpu")
        net = BeatNetCRNN().eval()
        net.load_state_dict(state, strict=True)  # every tensor used, none missing

        wheel = BDA(N_FEATURES, HIDDEN, LAYERS, "cpu").eval()
        wheel.load_state_dict(state, strict=False)

        dst = out / f"beatnet_{n}.onnx"
        dummy = torch.from_numpy(inputs["random T=777"])
        torch.onnx.export(net, dummy, str(dst), input_names=["features"], output_names=["activations"],
                          dynamic_axes={"features": {1: "frames"}, "activations": {1: "frames"}},
                          opset_version=args.opset, do_constant_folding=True)
        sess = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
        print(f"beatnet_{n}: {src.name} sha256 {sha256(src)}")
        for name, x in inputs.items():
            with torch.no_grad():
                ref = net(torch.from_numpy(x)).numpy()
                # The wheel's module keeps its LSTM state between calls: reset it for each input.
                wheel.hidden = torch.zeros(LAYERS, 1, HIDDEN)
                wheel.cell = torch.zeros(LAYERS, 1, HIDDEN)
                w = wheel.final_pred(wheel(torch.from_numpy(x))[0]).numpy().T[None]  # [1, T, 3]
            got = sess.run(["activations"], {"features": x})[0]
            assert got.shape == ref.shape == (1, x.shape[1], 3), (got.shape, ref.shape)
            d_ort = float(np.abs(got - ref).max())
            d_wheel = float(np.abs(w - ref).max())
            worst = max(worst, d_ort, d_wheel)
            print(f"  {name:>14}: max|onnxruntime - torch| = {d_ort:.2e}, max|ours - wheel BDA| = {d_wheel:.2e}")
        print(f"  -> {dst} sha256 {sha256(dst)} ({os.path.getsize(dst)} bytes)")
    if args.mean:
        nets = []
        for n in (1, 2, 3):
            net = BeatNetCRNN().eval()
            net.load_state_dict(torch.load(beatnet_dir() / "models" / f"model_{n}_weights.pt", map_location="cpu"), strict=True)
            nets.append(net)
        mean = BeatNetMean(nets).eval()
        dst = out / "beatnet_mean.onnx"
        torch.onnx.export(mean, torch.from_numpy(inputs["random T=777"]), str(dst), input_names=["features"],
                          output_names=["activations"],
                          dynamic_axes={"features": {1: "frames"}, "activations": {1: "frames"}},
                          opset_version=args.opset, do_constant_folding=True)
        sess = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
        print("beatnet_mean: average of variants 1, 2, 3")
        for name, x in inputs.items():
            with torch.no_grad():
                ref = sum(n(torch.from_numpy(x)) for n in nets).numpy() / 3
            d = float(np.abs(sess.run(["activations"], {"features": x})[0] - ref).max())
            worst = max(worst, d)
            print(f"  {name:>14}: max|onnxruntime - torch mean| = {d:.2e}")
        print(f"  -> {dst} sha256 {sha256(dst)} ({os.path.getsize(dst)} bytes)")
    print(f"worst difference {worst:.2e} (limit {TOL:.0e})")
    if worst > TOL:
        sys.exit(f"FAILED: difference {worst:.2e} > {TOL:.0e}")


if __name__ == "__main__":
    main()
