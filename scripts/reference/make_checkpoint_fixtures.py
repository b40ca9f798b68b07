#!/usr/bin/env python3
"""Writes the small torch.save checkpoints test/unit/checkpoint.test.ts reads (committed under
test/fixtures/checkpoints/), each with a JSON of the values torch itself reports.

    .venv-torch/bin/python scripts/reference/make_checkpoint_fixtures.py test/fixtures/checkpoints

Needs torch (written here with Debian's 1.13); demucs only for the package fixture.
"""
import collections
import fractions
import json
import os
import sys

import torch


def num(v):
    # JSON has no infinities: those go as strings.
    return v if v == v and abs(v) != float("inf") else repr(v)


def dump(t):
    values = [num(float(v)) for v in t.detach().double().flatten().tolist()] if t.is_floating_point() else [int(v) for v in t.flatten().tolist()]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "values": values}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)

    # A module's state_dict: OrderedDict with _metadata (BUILD), float32 and int64 tensors.
    net = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 5), torch.nn.BatchNorm1d(3), torch.nn.Linear(4, 2))
    sd = net.state_dict()
    torch.save(sd, os.path.join(out, "state_dict.pt"))
    with open(os.path.join(out, "state_dict.json"), "w") as f:
        json.dump({k: dump(v) for k, v in sd.items()}, f)

    # Views: a transposed tensor and an offset slice share one storage; float16 with subnormals,
    # infinities, NaN and -0; bfloat16; float64; a 0-d tensor; an empty tensor.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    half = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.0e-8, 5.96e-08, 1e-5, float("inf"), float("-inf"), 0.1, 3.14159],
                        dtype=torch.float16)
    views = collections.OrderedDict(
        base=base,
        transposed=base.t(),
        sliced=base[1:3, 2:5],
        half=half,
        half_strided=half[::3],
        bf16=torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16),
        f64=torch.tensor([[1.0 / 3, 2.0], [1e-300, -7.5]], dtype=torch.float64),
        scalar=torch.tensor(2.5),
        empty=torch.zeros(0, 3),
        ints=torch.tensor([-1, 2**40, 7], dtype=torch.int64),
    )
    package = {"klass_args": [1, "two", 3.5, None, True], "segment": fractions.Fraction(39, 5), "tensors": views}
    torch.save(package, os.path.join(out, "views.pt"))
    with open(os.path.join(out, "views.json"), "w") as f:
        json.dump({k: dump(v) for k, v in views.items()}, f)
    nan = torch.tensor([float("nan")], dtype=torch.float16)
    torch.save({"nan": nan}, os.path.join(out, "nan.pt"))
    print("wrote", out)


if __name__ == "__main__":
    main()
