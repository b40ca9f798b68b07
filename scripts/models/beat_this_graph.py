#!/usr/bin/env python3
"""Development-time: the weightless ONNX graphs of the Beat This! networks (models/graphs/beat-this*.onnx)
and random-init checkpoints in the format of the official ones, for the Node converter
(lib/models/convert/beatThis.ts) and the parity test (test/parity/beat-this.test.ts).

The graph is beat_this.model.beat_tracker.BeatThis (beat-this 1.1.0, MIT) built with the architecture
hyper-parameters of the official checkpoint (final0: the PLBeatThis defaults; small0: transformer_dim
128, as launch_scripts/final_runs.sh trains "small"), randomly initialised, exported with the legacy
TorchScript exporter, opset 17, **without constant folding** and in PRESERVE mode (no Conv+BatchNorm
fusion; rotary_embedding_torch's angle cache off, so the angles are computed per length) (every parameter stays one initialiser
named by its module path), input `spect` [1, T, 128] (the log-mel spectrogram, any T), outputs `beat`
and `downbeat` [1, T] (logits, beat = the SumHead's beat + downbeat). Then each initialiser that is a
state-dict tensor keeps name, dims and dtype and loses its data. Metadata: `didactic_weights`
(initialiser -> state key of BeatThis), `unused_state` (state keys the graph never reads, e.g. BatchNorm's
num_batches_tracked: required in a checkpoint, not filled), `beat_this_hparams` (what the converter
compares with the checkpoint's `hyper_parameters`), `fps`, `sample_rate`, `model`.

    .venv-torch/bin/python scripts/models/beat_this_graph.py graph --arch final0 -o models/graphs/beat-this.onnx
    .venv-torch/bin/python scripts/models/beat_this_graph.py graph --arch small0 -o models/graphs/beat-this-small.onnx
    .venv-torch/bin/python scripts/models/beat_this_graph.py checkpoint --arch small0 --seed 1 -o DIR/small0.ckpt
        (a Lightning checkpoint as the official files are: state_dict with the "model." prefix,
         hyper_parameters of PLBeatThis, datamodule_hyper_parameters, pytorch-lightning_version)
    .venv-torch/bin/python scripts/models/beat_this_graph.py logits --ckpt C --audio mono.f32 [--spect S.f32] -o DIR
        (the reference: LogMelSpect in float32 and float64, split_predict_aggregate, minimal postprocessor)

Runs on Debian's torch 1.13 through scripts/reference/torch2_polyfill.py (F.scaled_dot_product_attention).
"""
import argparse
import inspect
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import torch2_polyfill  # noqa: E402,F401  (before beat_this)
import torch  # noqa: E402

# PLBeatThis.__init__ defaults (beat_this/model/pl_module.py, 1.1.0): what save_hyperparameters() records.
PL_DEFAULTS = {
    "spect_dim": 128,
    "fps": 50,
    "transformer_dim": 512,
    "ff_mult": 4,
    "n_layers": 6,
    "stem_dim": 32,
    "dropout": {"frontend": 0.1, "transformer": 0.2},
    "lr": 0.0008,
    "weight_decay": 0.01,
    "pos_weights": {"beat": 1, "downbeat": 1},
    "head_dim": 32,
    "loss_type": "shift_tolerant_weighted_bce",
    "warmup_steps": 1000,
    "max_epochs": 100,
    "use_dbn": False,
    "eval_trim_beats": 5,
    "sum_head": True,
    "partial_transformers": True,
}
ARCHS = {"final0": {}, "small0": {"transformer_dim": 128}}
NAMES = {"final0": "beat-this", "small0": "beat-this-small"}


def hparams(arch):
    h = json.loads(json.dumps(PL_DEFAULTS))
    h.update(ARCHS[arch])
    return h


def model_args(h):
    from beat_this.model.beat_tracker import BeatThis

    keep = set(inspect.signature(BeatThis).parameters)
    return {k: v for k, v in h.items() if k in keep}


def build(arch, seed):
    from beat_this.model.beat_tracker import BeatThis

    torch.manual_seed(seed)
    return BeatThis(**model_args(hparams(arch))).eval()


class Logits(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, spect):
        out = self.m(spect)
        return out["beat"], out["downbeat"]


def graph(args):
    import onnx

    model = build(args.arch, args.seed)
    # rotary_embedding_torch caches the rotation angles of the first call in a buffer that later calls
    # slice: traced, that is a constant of the trace's length and values. Compute them every time.
    for mod in model.modules():
        if hasattr(mod, "cache_if_possible"):
            mod.cache_if_possible = False
    # The exporter merges initialisers with identical values (BatchNorm ones and zeros, RMSNorm
    # gammas), which would lose their names: make every tensor distinct first; the values are dropped.
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.add_(torch.rand_like(t) * 1e-3)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".full.onnx"
    spect = torch.randn(1, 300, 128)
    axes = {"spect": {0: "batch", 1: "frames"}, "beat": {0: "batch", 1: "frames"}, "downbeat": {0: "batch", 1: "frames"}}
    # PRESERVE (the model is in eval mode): EVAL would fold each BatchNorm into the Conv before it,
    # losing both tensors' names.
    kw = dict(input_names=["spect"], output_names=["beat", "downbeat"], opset_version=17, dynamic_axes=axes,
              do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    try:
        torch.onnx.export(Logits(model), (spect,), tmp, dynamo=False, **kw)
    except TypeError:  # torch < 2.5 has no `dynamo` argument
        torch.onnx.export(Logits(model), (spect,), tmp, **kw)
    g = onnx.load(tmp)
    os.remove(tmp)
    state = model.state_dict()
    mapping = {}
    kept = 0
    for init in g.graph.initializer:
        key = init.name[2:] if init.name.startswith("m.") else None
        if key not in state:
            kept += 1
            continue
        if list(state[key].shape) != list(init.dims):
            sys.exit(f"{init.name}: exported dims {list(init.dims)} differ from the state's {list(state[key].shape)}")
        mapping[init.name] = key
        init.ClearField("raw_data")
        del init.float_data[:]
    covered = set(mapping.values())
    unused = [k for k in state if k not in covered]
    h = hparams(args.arch)
    meta = {
        "model": NAMES[args.arch],
        "checkpoint": args.arch,
        "sample_rate": "22050",
        "fps": str(h["fps"]),
        "n_mels": str(h["spect_dim"]),
        "producer": "didactic-engine scripts/models/beat_this_graph.py (beat-this 1.1.0, torch %s)" % torch.__version__,
        "beat_this_hparams": json.dumps(model_args(h) | {"fps": h["fps"]}),
        "didactic_weights": json.dumps(mapping),
        "unused_state": json.dumps(unused),
    }
    del g.metadata_props[:]
    for k, v in meta.items():
        e = g.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(g, args.out)
    n = sum(t.numel() for t in state.values())
    print(json.dumps({"out": args.out, "bytes": os.path.getsize(args.out), "initialisers_filled": len(mapping),
                      "initialisers_kept": kept, "unused_state": len(unused), "parameters": n}))


def checkpoint(args):
    from collections import OrderedDict

    model = build(args.arch, args.seed)
    state = OrderedDict(("model." + k, v) for k, v in model.state_dict().items())
    ckpt = {
        "state_dict": state,
        "hyper_parameters": hparams(args.arch),
        "datamodule_hyper_parameters": {"batch_size": 8, "train_length": 1500, "spect_fps": 50, "note": "random init"},
        "pytorch-lightning_version": "2.3.0",
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(ckpt, args.out)
    print(json.dumps({"out": args.out, "bytes": os.path.getsize(args.out), "tensors": len(state)}))


def logits(args):
    """The reference on a mono float32 file: beat_this's LogMelSpect in float32 (as inference runs it) and
    in float64 (the exact transform), and split_predict_aggregate + the minimal Postprocessor on the
    spectrogram given with --spect (ours: the network and postprocessor compared on the same input)
    or else on the float32 one."""
    import numpy as np
    from beat_this.inference import load_model, split_predict_aggregate
    from beat_this.model.postprocessor import Postprocessor
    from beat_this.preprocessing import LogMelSpect

    torch.set_grad_enabled(False)
    signal = np.fromfile(args.audio, dtype="<f4")
    if args.sr != 22050:
        sys.exit("logits: give 22,050 Hz audio")
    spect = LogMelSpect()(torch.from_numpy(signal.copy()))
    spect64 = LogMelSpect().double()(torch.from_numpy(signal.astype(np.float64)))
    os.makedirs(args.out, exist_ok=True)
    # Raw little-endian float32 (spectrograms frame-major [frames x 128]).
    spect.numpy().astype("<f4").tofile(os.path.join(args.out, "spect.f32"))
    spect64.numpy().astype("<f4").tofile(os.path.join(args.out, "spect64.f32"))
    net_in = spect
    if args.spect:
        net_in = torch.from_numpy(np.fromfile(args.spect, dtype="<f4").reshape(-1, 128).copy())
    model = load_model(args.ckpt)
    pred = split_predict_aggregate(net_in, chunk_size=1500, border_size=6, overlap_mode="keep_first", model=model)
    beat, downbeat = pred["beat"].float(), pred["downbeat"].float()
    beats, downbeats = Postprocessor(type="minimal")(beat, downbeat)
    beat.numpy().astype("<f4").tofile(os.path.join(args.out, "beat.f32"))
    downbeat.numpy().astype("<f4").tofile(os.path.join(args.out, "downbeat.f32"))
    with open(os.path.join(args.out, "beats.json"), "w") as f:
        json.dump({"beats": [float(x) for x in beats], "downbeats": [float(x) for x in downbeats],
                   "frames": int(spect.shape[0])}, f)
    print(json.dumps({"frames": int(spect.shape[0]), "beats": len(beats), "downbeats": len(downbeats)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["graph", "checkpoint", "logits"])
    ap.add_argument("--arch", choices=sorted(ARCHS), default="final0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ckpt")
    ap.add_argument("--audio", help="mono float32 little-endian samples")
    ap.add_argument("--sr", type=int, default=22050)
    ap.add_argument("--spect", help="run the network on this spectrogram (float32 [frames x 128])")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    {"graph": graph, "checkpoint": checkpoint, "logits": logits}[args.what](args)


if __name__ == "__main__":
    main()
