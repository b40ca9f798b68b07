// Dynamic-programming beat tracker (Ellis 2007) with librosa 0.11's exact semantics
// (librosa.beat.beat_track: tightness, trim, float32 local and cumulative scores).
#pragma once

#include <cstdint>
#include <vector>

#include "beat/tempo.h"
#include "common/cancel.h"

namespace de::beat {

struct BeatParams {
  TempoParams tempo;  // sr, hop and the tempo estimator's parameters
  double tightness = 100.0;
  bool trim = true;
  double bpm = 0.0;  // > 0: use this tempo instead of estimating it
};

struct BeatResult {
  double bpm = 0.0;              // 0 when the envelope is all zero
  std::vector<int64_t> beats;    // frame indices
  std::vector<double> localBpm;  // per beat, from the neighbouring inter-beat intervals
};

// librosa.beat.beat_track(onset_envelope=env, ...) with units='frames', sparse=True.
BeatResult beatTrack(const float* env, int64_t n, const BeatParams& p, const CancelToken* cancel);

// Per-beat tempo: 60 * frameRate / interval, where the interval is the mean of the gaps to the
// previous and next beat (one-sided at the ends); a single beat gets `fallbackBpm`.
std::vector<double> localTempo(const std::vector<int64_t>& beats, double frameRate, double fallbackBpm);

}  // namespace de::beat
