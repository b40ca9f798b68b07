// Beat This! (Foscarin, Schlueter, Widmer 2024; beat-this 1.1.0, MIT) in C++: its log-mel front end
// (torchaudio's MelSpectrogram as beat_this.preprocessing.LogMelSpect configures it), the network on
// ONNX Runtime split into chunks as beat_this.inference.split_predict_aggregate does, and its two
// postprocessors: "minimal" (peak picking, downbeats snapped to beats) and "dbn" (the bar-pointer
// DBN of beat/dbn.h on the probabilities, as Postprocessor(type="dbn") runs madmom's).
#pragma once

#include <cstdint>
#include <vector>

#include "beat/dbn.h"
#include "common/cancel.h"

namespace de::ml {
class Session;
}

namespace de::beat {

// LogMelSpect's defaults: 22,050 Hz, n_fft 1024, hop 441 (50 frames/s), 128 slaney mel bands from
// 30 Hz to 11 kHz without area normalisation, magnitude (power 1), the STFT scaled by
// 1/sqrt(n_fft) ("frame_length"), centred frames with reflect padding; then log1p(1000 x).
struct BeatThisFrontendParams {
  double sampleRate = 22050.0;
  int nFft = 1024;
  int hop = 441;
  double fMin = 30.0;
  double fMax = 11000.0;
  int nMels = 128;
  float logMultiplier = 1000.0f;
};

// torchaudio.functional.melscale_fbanks(n_fft / 2 + 1, f_min, f_max, n_mels, sr, norm=None,
// mel_scale="slaney"): [bins x mels], row-major.
std::vector<float> beatThisMelFilterbank(const BeatThisFrontendParams& p);

struct BeatThisSpect {
  int64_t frames = 0;  // 1 + n / hop (torch.stft with center=True)
  int mels = 0;
  std::vector<float> data;  // frame-major [frames x mels]
};

// The spectrogram of mono audio at p.sampleRate. Needs n > n_fft / 2 (reflect padding), else 0 frames.
BeatThisSpect beatThisSpect(const float* x, int64_t n, const BeatThisFrontendParams& p, const CancelToken* cancel);

// split_predict_aggregate's chunking: chunk starts every chunk - 2 * border frames from -border, the
// last moved to end at the piece's end (when the piece is longer than chunk - 2 * border), the
// first and last chunk zero-padded by up to `border` frames.
struct BeatThisChunk {
  int64_t start = 0;  // may be negative (the first chunk's left padding)
};
std::vector<BeatThisChunk> beatThisChunks(int64_t frames, int64_t chunk, int64_t border);

struct BeatThisLogits {
  std::vector<float> beat;      // per frame
  std::vector<float> downbeat;  // per frame
  int64_t chunks = 0;
};

// Runs the network ("spect" [1, T, 128] -> "beat" [1, T], "downbeat" [1, T]) over the chunks and
// aggregates with overlap mode keep_first (earlier chunks win), frames outside every kept region
// (none with border >= 0) staying -1000 as in the reference.
BeatThisLogits beatThisLogits(const ml::Session& session, const BeatThisSpect& spect, int64_t chunk, int64_t border,
                              const CancelToken* cancel);

// Postprocessor(type="minimal"): frames that equal the max over +-3 frames and have a logit > 0,
// runs of adjacent peak frames replaced by their mean, frames / fps in seconds; each downbeat moved
// to its nearest beat (the earlier on a tie), duplicates removed.
struct BeatThisPeaks {
  std::vector<double> beats;
  std::vector<double> downbeats;
};
BeatThisPeaks beatThisMinimalPostprocess(const float* beat, const float* downbeat, int64_t frames, double fps);

// Meter from the postprocessed beats and downbeats: the most common count of beats from one
// downbeat to the next (the smaller on a tie; 0 without two downbeats), and each beat's position
// in its bar (1 = downbeat; beats before the first downbeat counted back from the meter, or from
// the first bar's length without a meter).
struct BeatThisMeter {
  int beatsPerBar = 0;
  std::vector<int32_t> positions;
};
BeatThisMeter beatThisMeter(const std::vector<double>& beats, const std::vector<double>& downbeats);

// Postprocessor(type="dbn")'s input to madmom's DBNDownBeatTrackingProcessor: Beat This!'s beat
// class covers every beat (downbeats included) and its downbeat class the downbeats, while the DBN
// takes the mutually exclusive (beat-but-not-downbeat, downbeat) probabilities of an RNN like
// BeatNet's. So p = sigmoid(logit) * (1 - 1e-5) + 5e-6 for both, then frame-major [frames x 2] of
// (max(p_beat - p_downbeat, 5e-6), p_downbeat): Böck et al.'s "artificial multiclass prediction".
std::vector<float> beatThisDbnActivations(const float* beatLogits, const float* downbeatLogits, int64_t frames);

enum class BeatThisPostprocess { kMinimal, kDbn };

struct BeatThisDecodeParams {
  BeatThisPostprocess postprocess = BeatThisPostprocess::kMinimal;
  // DBN candidate meters (one = a fixed meter). Postprocessor(type="dbn") uses [3, 4], 55-215 BPM,
  // transition_lambda 100 and madmom's other defaults (observation_lambda 16, threshold 0.05, correct).
  std::vector<int> meters{3, 4};
  double fps = 50.0;
};

// Beats, downbeats, meter and confidence from the per-frame logits by either postprocessor.
struct BeatThisDecoded {
  std::vector<double> beats, downbeats;
  std::vector<int32_t> positions;  // 1 = downbeat
  int beatsPerBar = 0;
  // Mean beat probability (sigmoid of the logit) at the beat frames: how sure the network is of
  // the beats kept. Not calibrated like BeatNet's confidence.
  double confidence = 0.0;
  std::vector<MeterScore> meters;  // the DBN's score per candidate meter (empty for minimal)
};
BeatThisDecoded beatThisDecode(const float* beatLogits, const float* downbeatLogits, int64_t frames,
                               const BeatThisDecodeParams& p, const CancelToken* cancel);

struct BeatThisParams {
  int64_t chunk = 1500;  // Spect2Frames: chunk_size 1500 frames (30 s), border 6
  int64_t border = 6;
  double fps = 50.0;
  bool keepLogits = false;
  BeatThisPostprocess postprocess = BeatThisPostprocess::kMinimal;
  std::vector<int> meters{3, 4};  // DBN candidates (see BeatThisDecodeParams)
};

struct BeatThisResult {
  std::vector<double> beats, downbeats, tempoCurve;
  std::vector<int32_t> positions;
  int beatsPerBar = 0;
  double tempoBpm = 0.0;
  double confidence = 0.0;  // as BeatThisDecoded::confidence
  std::vector<MeterScore> meters;
  int64_t frames = 0, chunks = 0;
  std::vector<float> beatLogits, downbeatLogits;  // when keepLogits
  double secondsFeatures = 0, secondsModel = 0, secondsDecode = 0;
};

// The whole call on mono audio at 22,050 Hz: front end, network per chunk, postprocessor, meter.
BeatThisResult trackBeatThis(const ml::Session& session, const float* audio, int64_t n, const BeatThisParams& p,
                             const CancelToken* cancel);

}  // namespace de::beat
