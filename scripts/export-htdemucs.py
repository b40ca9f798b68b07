#!/usr/bin/env python3
"""Export Demucs htdemucs models to the ONNX contract of didactic-engine (docs/models.md,
"Demucs (htdemucs)").

The graph holds HTDemucs.forward without the spectral transforms: inputs are the time-domain mix
`mix` [B, 2, 343980] and its complex-as-channels spectrogram `x` [B, 4, 2048, 336] (torch.stft,
n_fft 4096, hop 1024, normalized, Demucs' reflect padding, channels [L.re, L.im, R.re, R.im]);
outputs are the de-normalised spectral branch `x_out` [B, S, 4, 2048, 336] (same layout, before
the iSTFT) and the de-normalised time branch `xt_out` [B, S, 2, 343980]. The C++ engine does the
STFT, the iSTFT, the sum of both branches, the mix normalisation and the segment overlap-add.

Without Python, `npx didactic-engine models fetch htdemucs` gives the same model (the official
checkpoint converted in Node; docs/models.md). This script stays for custom exports.

Usage (needs torch 1.13 or 2.x and demucs==4.0.1; pretrained weights are downloaded by demucs):
    python scripts/export-htdemucs.py --model htdemucs -o models/htdemucs.onnx
    python scripts/export-htdemucs.py --model htdemucs_6s -o models/htdemucs_6s.onnx
    python scripts/export-htdemucs.py --model htdemucs_ft -o models/htdemucs_ft.onnx   # bag of 4, one graph
    python scripts/export-htdemucs.py --random-init --seed 0 -o /tmp/htdemucs-random.onnx
    (--save-torch PATH also saves the torch module, for the parity check.)

The batch dimension is dynamic (`--static-batch` fixes it at 1, as sevagh/demucs.onnx does).
Metadata written: sources (comma-separated, output order), sample_rate, audio_channels, segment,
n_fft, hop_length, model, producer.
"""
import argparse
import sys
from fractions import Fraction

import torch
from torch import nn

SOURCES4 = ["drums", "bass", "other", "vocals"]
SOURCES6 = ["drums", "bass", "other", "vocals", "guitar", "piano"]


class HTDemucsCore(nn.Module):
    """HTDemucs.forward between _magnitude and _mask (demucs 4.0.1 htdemucs.py, lines 542-656)."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, mix, mag):
        m = self.m
        x = mag
        B, C, Fq, T = x.shape
        # The statistics reduce ~2.75 M values: ONNX Runtime's float32 ReduceMean drifts by ~1e-4
        # relative there (torch sums pairwise), so they are computed in float64 in the graph.
        xd = x.double()
        mean = xd.mean(dim=(1, 2, 3), keepdim=True)
        std = ((xd - mean).pow(2).sum(dim=(1, 2, 3), keepdim=True) / (C * Fq * T - 1)).sqrt().float()
        mean = mean.float()
        x = (x - mean) / (1e-5 + std)
        xt = mix
        xtd = xt.double()
        meant = xtd.mean(dim=(1, 2), keepdim=True)
        stdt = ((xtd - meant).pow(2).sum(dim=(1, 2), keepdim=True) / (xt.shape[1] * xt.shape[2] - 1)).sqrt().float()
        meant = meant.float()
        xt = (xt - meant) / (1e-5 + stdt)
        length = mix.shape[-1]

        saved, saved_t, lengths, lengths_t = [], [], [], []
        for idx, encode in enumerate(m.encoder):
            lengths.append(x.shape[-1])
            inject = None
            if idx < len(m.tencoder):
                lengths_t.append(xt.shape[-1])
                tenc = m.tencoder[idx]
                xt = tenc(xt)
                if not tenc.empty:
                    saved_t.append(xt)
                else:
                    inject = xt
            x = encode(x, inject)
            if idx == 0 and m.freq_emb is not None:
                frs = torch.arange(x.shape[-2], device=x.device)
                emb = m.freq_emb(frs).t()[None, :, :, None].expand_as(x)
                x = x + m.freq_emb_scale * emb
            saved.append(x)
        if m.crosstransformer:
            if m.bottom_channels:
                b, c, f, t = x.shape
                x = x.reshape(b, c, f * t)
                x = m.channel_upsampler(x)
                x = x.reshape(b, -1, f, t)
                xt = m.channel_upsampler_t(xt)
            x, xt = m.crosstransformer(x, xt)
            if m.bottom_channels:
                b, c, f, t = x.shape
                x = x.reshape(b, c, f * t)
                x = m.channel_downsampler(x)
                x = x.reshape(b, -1, f, t)
                xt = m.channel_downsampler_t(xt)

        for idx, decode in enumerate(m.decoder):
            skip = saved.pop(-1)
            x, pre = decode(x, skip, lengths.pop(-1))
            offset = m.depth - len(m.tdecoder)
            if idx >= offset:
                tdec = m.tdecoder[idx - offset]
                length_t = lengths_t.pop(-1)
                if tdec.empty:
                    pre = pre[:, :, 0]
                    xt, _ = tdec(pre, None, length_t)
                else:
                    skip = saved_t.pop(-1)
                    xt, _ = tdec(xt, skip, length_t)

        S = len(m.sources)
        x = x.view(B, S, -1, Fq, T)
        x = x * std[:, None] + mean[:, None]
        xt = xt.view(B, S, -1, length)
        xt = xt * stdt[:, None] + meant[:, None]
        return x, xt


class BagCore(nn.Module):
    """A bag of models (htdemucs_ft): per source, the weighted mean of the members' outputs, as
    demucs.apply.apply_model combines them (overlap-add is linear, so combining per segment is the same)."""

    def __init__(self, models, weights):
        super().__init__()
        self.members = nn.ModuleList(HTDemucsCore(m) for m in models)
        w = torch.tensor(weights, dtype=torch.float32)  # [models, sources]
        self.register_buffer("w", w / w.sum(dim=0, keepdim=True))

    def forward(self, mix, mag):
        x_out = 0
        xt_out = 0
        for i, member in enumerate(self.members):
            x, xt = member(mix, mag)
            wi = self.w[i]
            x_out = x_out + x * wi[None, :, None, None, None]
            xt_out = xt_out + xt * wi[None, :, None, None]
        return x_out, xt_out


def build_random(sources, seed):
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    # The pretrained htdemucs (955717e8) is HTDemucs with its defaults, bottom_channels=512 and a
    # 7.8 s training segment: 41.5 M parameters.
    model = HTDemucs(sources=sources, segment=Fraction(39, 5), bottom_channels=512)
    return model.eval()


def load_pretrained(name):
    from demucs.apply import BagOfModels
    from demucs.pretrained import get_model

    bag = get_model(name)
    models = bag.models if isinstance(bag, BagOfModels) else [bag]
    weights = bag.weights if isinstance(bag, BagOfModels) else [[1.0] * len(bag.sources)]
    for m in models:
        if type(m).__name__ != "HTDemucs":
            sys.exit(f"{name}: member {type(m).__name__} is not HTDemucs; only htdemucs models are supported")
        if int(m.segment * m.samplerate) != int(models[0].segment * models[0].samplerate):
            sys.exit(f"{name}: members have different segments")
    return [m.eval() for m in models], weights, list(bag.sources)


def export(core, sources, segment, out, opset, static_batch, label):
    import onnx

    frames = -(-segment // 1024)
    mix = torch.randn(1, 2, segment)
    mag = torch.randn(1, 4, 2048, frames)
    axes = None if static_batch else {"mix": {0: "batch"}, "x": {0: "batch"}, "x_out": {0: "batch"}, "xt_out": {0: "batch"}}
    # nn.MultiheadAttention's fused fast path (aten::_native_multi_head_attention) has no ONNX export.
    # torch >= 2.1 can switch it off; torch 1.13 takes it only without grad, so trace with grad on.
    if hasattr(torch.backends, "mha"):
        torch.backends.mha.set_fastpath_enabled(False)
    with torch.enable_grad():
        kwargs = dict(input_names=["mix", "x"], output_names=["x_out", "xt_out"], opset_version=opset,
                      dynamic_axes=axes, do_constant_folding=True)
        try:
            torch.onnx.export(core, (mix, mag), out, dynamo=False, **kwargs)
        except TypeError:  # torch < 2.5 has no `dynamo` argument
            torch.onnx.export(core, (mix, mag), out, **kwargs)
    model = onnx.load(out, load_external_data=True)
    meta = {
        "sources": ",".join(sources),
        "sample_rate": "44100",
        "audio_channels": "2",
        "segment": str(segment),
        "n_fft": "4096",
        "hop_length": "1024",
        "model": label,
        "producer": "didactic-engine scripts/export-htdemucs.py",
    }
    # Give the outputs their full shapes (the exporter leaves them symbolic).
    S = len(sources)
    for out_info, dims in zip(model.graph.output, (["batch", S, 4, 2048, frames], ["batch", S, 2, segment])):
        shape = out_info.type.tensor_type.shape
        for d, want in zip(shape.dim, dims):
            if want == "batch":
                if static_batch:
                    d.dim_value = 1
                else:
                    d.dim_param = "batch"
            else:
                d.dim_value = want
    del model.metadata_props[:]
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, out)
    onnx.checker.check_model(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="htdemucs", help="htdemucs, htdemucs_6s or htdemucs_ft (pretrained)")
    ap.add_argument("--random-init", action="store_true", help="htdemucs architecture, random weights")
    ap.add_argument("--sources", type=int, default=4, choices=[4, 6], help="with --random-init")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--static-batch", action="store_true")
    ap.add_argument("--save-torch", help="also save the torch model (torch.save) for the parity check")
    args = ap.parse_args()

    if args.random_init:
        sources = SOURCES4 if args.sources == 4 else SOURCES6
        model = build_random(sources, args.seed)
        core = HTDemucsCore(model).eval()
        segment = int(model.segment * model.samplerate)
        label = f"htdemucs-random-init(seed={args.seed})"
        to_save = model
    else:
        models, weights, sources = load_pretrained(args.model)
        core = (HTDemucsCore(models[0]) if len(models) == 1 else BagCore(models, weights)).eval()
        segment = int(models[0].segment * models[0].samplerate)
        label = args.model
        to_save = None
    export(core, sources, segment, args.out, args.opset, args.static_batch, label)
    if args.save_torch and to_save is not None:
        torch.save(to_save, args.save_torch)
    print(f"wrote {args.out}: {label}, sources {sources}, segment {segment}")


if __name__ == "__main__":
    main()
