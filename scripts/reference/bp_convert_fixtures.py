"""Convert basic-pitch's vocadito_10 npz fixtures (numpy pickles) into files the TS tests read.

Usage: python scripts/reference/bp_convert_fixtures.py <shared/basic-pitch dir> <out dir>
Writes note.f32 / onset.f32 / contour.f32 (little-endian float32, time-major), model_output.json
(shapes) and note_events.json (start_s, end_s, pitch, amplitude, pitch_bends) in out dir.
"""
import json
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    mo = np.load(src / "vocadito_10" / "model_output.npz", allow_pickle=True)
    d = mo[mo.files[0]].item() if len(mo.files) == 1 and mo[mo.files[0]].dtype == object else {k: mo[k] for k in mo.files}
    shapes = {}
    for key in ("note", "onset", "contour"):
        a = np.ascontiguousarray(d[key], dtype="<f4")
        a.tofile(out / f"{key}.f32")
        shapes[key] = list(a.shape)
    (out / "model_output.json").write_text(json.dumps(shapes))
    ne = np.load(src / "vocadito_10" / "note_events.npz", allow_pickle=True)
    arr = ne[ne.files[0]]
    events = []
    for row in arr:
        start, end, pitch, amp, bends = row
        events.append({
            "start": float(start), "end": float(end), "pitch": int(pitch), "amplitude": float(amp),
            "bends": None if bends is None else [int(b) for b in bends],
        })
    (out / "note_events.json").write_text(json.dumps(events))
    print(f"wrote {out}: {shapes}, {len(events)} notes")


if __name__ == "__main__":
    main()
