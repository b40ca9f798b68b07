#!/usr/bin/env python3
"""Development-time: the weightless ONNX graphs of the Demucs models (models/graphs/) and random-init
checkpoints in exactly the official format, for the Node converter (lib/models/convert/demucs.ts).

The graph is scripts/export-htdemucs.py's HTDemucsCore (or BagCore for a bag) of a randomly
initialised HTDemucs built from the MIT-licensed demucs 4.0.1 sources, exported with the legacy
TorchScript exporter, opset 17, **without constant folding** (so every parameter stays one
initialiser with its module path as name), then stripped: each initialiser that is a state-dict
tensor keeps its name, dims and dtype but loses its data. Metadata records what the converter
checks and needs: `didactic_weights` (initialiser → [member, state key]), `demucs_klass`,
`demucs_kwargs` (the resolved constructor arguments of the architecture), `demucs_defaults` (the
constructor's defaults), `bag_weights`, plus the contract's `sources`, `segment`, ... keys.

    .venv-torch/bin/python scripts/models/demucs_graph.py graph --arch htdemucs -o models/graphs/htdemucs.onnx
        (htdemucs_ft needs no graph of its own: the converter composes the bag from htdemucs')
    .venv-torch/bin/python scripts/models/demucs_graph.py checkpoints --arch htdemucs_ft --seed 1 -o DIR
        (random-init packages as demucs.states.serialize_model + save_with_checksum write them:
         klass, args, kwargs, state in float16, training_args; file <sig>-<sha256[:8]>.th)

Works on torch 1.13 (Debian's python3-torch) and 2.x: the MHA fast path
(aten::_native_multi_head_attention, no ONNX symbolic) is avoided by tracing with grad enabled
(1.13 takes the fast path only without grad) and by torch.backends.mha where it exists.
"""
import argparse
import importlib.util
import inspect
import json
import os
import sys
from fractions import Fraction

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES4 = ["drums", "bass", "other", "vocals"]
SOURCES6 = SOURCES4 + ["guitar", "piano"]
# Architectures of the official models (demucs 4.0.1 remote/*.yaml; HTDemucs defaults otherwise).
ARCHS = {
    "htdemucs": {"members": 1, "kwargs": {"sources": SOURCES4, "segment": Fraction(39, 5), "bottom_channels": 512}},
    "htdemucs_6s": {"members": 1, "kwargs": {"sources": SOURCES6, "segment": Fraction(39, 5), "bottom_channels": 512}},
    "htdemucs_ft": {"members": 4, "kwargs": {"sources": SOURCES4, "segment": Fraction(39, 5), "bottom_channels": 512},
                    "weights": [[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]},
}


def export_module():
    spec = importlib.util.spec_from_file_location("export_htdemucs", os.path.join(HERE, "..", "export-htdemucs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def plain(v):
    if isinstance(v, Fraction):
        return v.numerator if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def build(arch, seed):
    from demucs.htdemucs import HTDemucs

    spec = ARCHS[arch]
    torch.manual_seed(seed)
    return [HTDemucs(**spec["kwargs"]).eval() for _ in range(spec["members"])]


def graph(args):
    import onnx

    ex = export_module()
    from demucs.htdemucs import HTDemucs

    spec = ARCHS[args.arch]
    models = build(args.arch, args.seed)
    # The exporter merges initialisers with identical values (GroupNorm ones/zeros, LayerScale
    # constants), which would lose their names: give every tensor distinct values first. The
    # values themselves are dropped below.
    with torch.no_grad():
        for m in models:
            for t in list(m.parameters()) + list(m.buffers()):
                if t.is_floating_point():
                    t.add_(torch.rand_like(t) * 1e-3)
    weights = spec.get("weights", [[1.0] * len(spec["kwargs"]["sources"])])
    core = (ex.HTDemucsCore(models[0]) if len(models) == 1 else ex.BagCore(models, weights)).eval()
    segment = int(models[0].segment * models[0].samplerate)
    frames = -(-segment // 1024)
    if hasattr(torch.backends, "mha"):
        torch.backends.mha.set_fastpath_enabled(False)
    mix = torch.randn(1, 2, segment)
    mag = torch.randn(1, 4, 2048, frames)
    axes = {"mix": {0: "batch"}, "x": {0: "batch"}, "x_out": {0: "batch"}, "xt_out": {0: "batch"}}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".full.onnx"
    with torch.enable_grad():  # torch 1.13's MHA fast path is only taken without grad
        kw = dict(input_names=["mix", "x"], output_names=["x_out", "xt_out"], opset_version=17, dynamic_axes=axes,
                  do_constant_folding=False)
        try:
            torch.onnx.export(core, (mix, mag), tmp, dynamo=False, **kw)
        except TypeError:  # torch < 2.5 has no `dynamo` argument
            torch.onnx.export(core, (mix, mag), tmp, **kw)
    model = onnx.load(tmp)
    os.remove(tmp)

    # Which state tensor each initialiser is: the exporter names them by module path.
    states = [m.state_dict() for m in models]
    prefixes = ["m."] if len(models) == 1 else [f"members.{i}.m." for i in range(len(models))]
    mapping = {}
    kept = 0
    for init in model.graph.initializer:
        hit = None
        for i, pre in enumerate(prefixes):
            if init.name.startswith(pre) and init.name[len(pre):] in states[i]:
                hit = [i, init.name[len(pre):]]
        if hit is None:
            kept += 1
            continue
        t = states[hit[0]][hit[1]]
        if list(t.shape) != list(init.dims):
            sys.exit(f"{init.name}: exported dims {list(init.dims)} differ from the state's {list(t.shape)}")
        mapping[init.name] = hit
        init.ClearField("raw_data")
        del init.float_data[:]
    covered = {(i, k) for i, k in mapping.values()}
    missing = [f"{i}:{k}" for i, s in enumerate(states) for k in s if (i, k) not in covered]
    # State tensors the network never reads (none expected) must still be in a checkpoint; the
    # converter accepts them without filling anything.
    if missing:
        print(f"note: {len(missing)} state tensors are not graph initialisers: {missing[:8]}", file=sys.stderr)

    S = len(spec["kwargs"]["sources"])
    for out_info, dims in zip(model.graph.output, (["batch", S, 4, 2048, frames], ["batch", S, 2, segment])):
        for d, want in zip(out_info.type.tensor_type.shape.dim, dims):
            if want == "batch":
                d.dim_param = "batch"
            else:
                d.dim_value = want
    sig = inspect.signature(HTDemucs)
    defaults = {k: plain(p.default) for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}
    bound = sig.bind(**spec["kwargs"])
    bound.apply_defaults()
    meta = {
        "sources": ",".join(spec["kwargs"]["sources"]),
        "sample_rate": "44100",
        "audio_channels": "2",
        "segment": str(segment),
        "n_fft": "4096",
        "hop_length": "1024",
        "model": args.arch,
        "producer": "didactic-engine scripts/models/demucs_graph.py (demucs 4.0.1, torch %s)" % torch.__version__,
        "demucs_klass": "demucs.htdemucs.HTDemucs",
        "demucs_kwargs": json.dumps(plain(dict(bound.arguments))),
        "demucs_defaults": json.dumps(defaults),
        "demucs_members": str(len(models)),
        "bag_weights": json.dumps(weights),
        "didactic_weights": json.dumps(mapping),
        "unused_state": json.dumps(missing),
    }
    del model.metadata_props[:]
    for k, v in meta.items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(model, args.out)
    n = sum(t.numel() for s in states for t in s.values())
    print(json.dumps({"out": args.out, "bytes": os.path.getsize(args.out), "initialisers_filled": len(mapping),
                      "initialisers_kept": kept, "parameters": n}))


def checkpoints(args):
    from demucs.states import save_with_checksum, serialize_model
    from omegaconf import OmegaConf
    from pathlib import Path

    os.makedirs(args.out, exist_ok=True)
    models = build(args.arch, args.seed)
    training_args = OmegaConf.create({"note": "random init, didactic-engine scripts/models/demucs_graph.py", "seed": args.seed})
    names = []
    for i, m in enumerate(models):
        pkg = serialize_model(m, training_args, half=True)
        save_with_checksum(pkg, Path(args.out) / f"random{args.seed}m{i}.th")
    for f in sorted(os.listdir(args.out)):
        if f.startswith(f"random{args.seed}m") and f.endswith(".th"):
            names.append(f)
    spec = ARCHS[args.arch]
    print(json.dumps({"arch": args.arch, "files": names, "weights": spec.get("weights")}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["graph", "checkpoints"])
    ap.add_argument("--arch", choices=sorted(ARCHS), default="htdemucs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    (graph if args.what == "graph" else checkpoints)(args)


if __name__ == "__main__":
    main()
