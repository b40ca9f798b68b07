"""Reference side of bench/transcription.mjs: basic-pitch 0.4.0 predict() with its ONNX backend.

  python bp_bench.py make <src.wav> <seconds> <out.wav>      tile a recording to a length (16-bit)
  python bp_bench.py run <audio.wav> <nmp.onnx> <threads>    one timed predict(); prints JSON
The ONNX session is replaced by one with the given intra-op thread count (basic-pitch's own uses all
cores), so both sides run with the same threads. Peak RSS from ru_maxrss (this process only).
"""
import json
import resource
import sys
import time


def make(src: str, seconds: float, out: str) -> None:
    import numpy as np
    import soundfile as sf

    y, sr = sf.read(src, dtype="int16")
    n = int(round(seconds * sr))
    sf.write(out, np.resize(y, n), sr, subtype="PCM_16")


def run(audio: str, model_path: str, threads: int) -> None:
    import numpy as np
    import onnxruntime as ort
    from basic_pitch import inference, note_creation
    from basic_pitch.constants import AUDIO_SAMPLE_RATE, FFT_HOP

    model = inference.Model(model_path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    model.model = ort.InferenceSession(model_path, sess_options=opts, providers=["CPUExecutionProvider"])
    t0 = time.perf_counter()
    output = inference.run_inference(audio, model)
    t1 = time.perf_counter()
    min_note_len = int(np.round(127.70 / 1000 * (AUDIO_SAMPLE_RATE / FFT_HOP)))
    _, events = note_creation.model_output_to_notes(
        output, onset_thresh=0.5, frame_thresh=0.3, min_note_len=min_note_len, melodia_trick=True, midi_tempo=120
    )
    t2 = time.perf_counter()
    print(json.dumps({
        "seconds": t2 - t0, "inferenceSeconds": t1 - t0, "notesSeconds": t2 - t1, "notes": len(events),
        "frames": int(output["note"].shape[0]), "peakBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    else:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
