"""Reference half of bench/beat-this-dbn.mjs: beat_this 1.1.0's Postprocessor(type="dbn") on given
logits, transcribed from beat_this/model/postprocessor.py (postp_dbn + _postp_dbn_item) with the
same madmom DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], min_bpm=55, max_bpm=215, fps=50,
transition_lambda=100). Needs only numpy and madmom 0.16.1 (no torch: the sigmoid is numpy's).
beat_this is MIT-licensed (its LICENSE is in the beat-this 1.1.0 wheel on PyPI); this development-time
reference is not part of the package.

    python bench/beat-this-dbn-madmom.py <dir>   # reads <dir>/cases.json + <name>.beat.f32 / .downbeat.f32,
                                                 # writes <dir>/madmom.json
"""
import json
import os
import sys
import time

import numpy as np
from madmom.features.downbeats import DBNDownBeatTrackingProcessor


def postp_dbn(dbn, beat_logits, downbeat_logits):
    # postp_dbn: sigmoid in float64, squeezed off 0 and 1.
    epsilon = 1e-5
    beat_prob = 1.0 / (1.0 + np.exp(-beat_logits.astype(np.float64)))
    downbeat_prob = 1.0 / (1.0 + np.exp(-downbeat_logits.astype(np.float64)))
    beat_prob = beat_prob * (1 - epsilon) + epsilon / 2
    downbeat_prob = downbeat_prob * (1 - epsilon) + epsilon / 2
    # _postp_dbn_item: the "artificial multiclass prediction".
    combined_act = np.vstack((np.maximum(beat_prob - downbeat_prob, epsilon / 2), downbeat_prob)).T
    dbn_out = dbn(combined_act)
    return dbn_out[:, 0], dbn_out[dbn_out[:, 1] == 1][:, 0], dbn_out[:, 1]


def main():
    d = sys.argv[1]
    cases = json.load(open(os.path.join(d, "cases.json")))
    out = {}
    for case in cases:
        name, meters = case["name"], case.get("meters", [3, 4])
        dbn = DBNDownBeatTrackingProcessor(beats_per_bar=meters, min_bpm=55.0, max_bpm=215.0, fps=50, transition_lambda=100)
        b = np.fromfile(os.path.join(d, name + ".beat.f32"), dtype="<f4")
        db = np.fromfile(os.path.join(d, name + ".downbeat.f32"), dtype="<f4")
        c0 = time.process_time()
        beats, downbeats, numbers = postp_dbn(dbn, b, db)
        cpu = time.process_time() - c0
        meter = int(numbers.max()) if len(numbers) else 0
        out[name] = {"beats": beats.tolist(), "downbeats": downbeats.tolist(), "beatsPerBar": meter, "cpuSeconds": cpu}
    json.dump(out, open(os.path.join(d, "madmom.json"), "w"))


if __name__ == "__main__":
    main()
