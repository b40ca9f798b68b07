// Global tempo (librosa.feature.tempo with the default log-normal prior) and the autocorrelation
// tempogram averaged over frames, computed exactly but without one FFT pair per frame.
#pragma once

#include <cstdint>
#include <vector>

#include "common/cancel.h"

namespace de::beat {

struct TempoParams {
  double sr = 22050;
  int hopLength = 512;
  double startBpm = 120.0;
  double stdBpm = 1.0;
  double acSize = 8.0;      // seconds of autocorrelation window
  double maxTempo = 320.0;  // <= 0 or NaN: no limit
  int threads = 1;          // threads for the tempogram (the result does not depend on it)
};

// Longest tempogram window (frames): 2^14 is 6.3 minutes at librosa's 43 frames per second
// (the default acSize of 8 s is 344). The mean tempogram's final transform costs W^2, so a window
// of 2^20 frames (found by fuzz_audio) kept a worker busy for hours.
inline constexpr int kMaxTempogramWindow = 1 << 14;

// Window length in frames: floor(trunc(acSize * sr) / hop), saturated to kMaxTempogramWindow + 1
// (0 for NaN).
int tempogramWindow(const TempoParams& p);

// mean over frames of librosa.feature.tempogram(onset_envelope, win_length=W, center=True,
// window='hann', norm=inf): W lags.
std::vector<double> meanTempogram(const float* env, int64_t n, int winLength, const CancelToken* cancel,
                                  int threads = 1);

// BPM of each lag: 60 * sr / (hop * k), lag 0 = +inf.
std::vector<double> tempoFrequencies(int n, double sr, int hop);

struct TempoEstimate {
  double bpm = 0.0;
  int lag = 0;  // the winning lag (frames per beat period)
};

// librosa.feature.tempo(onset_envelope=env, aggregate=mean, prior=None).
TempoEstimate estimateTempo(const float* env, int64_t n, const TempoParams& p, const CancelToken* cancel);

}  // namespace de::beat
