// Onset strength (librosa.onset.onset_strength) from a precomputed dB spectrogram.
#pragma once

#include <cstdint>
#include <vector>

namespace de::beat {

enum class Aggregate { Mean, Median, Max, Min };

struct OnsetParams {
  int lag = 1;
  int maxSize = 1;  // local max filter across frequency (1: none)
  bool detrend = false;
  bool center = true;
  int nFft = 2048;  // only for the centring delay nFft / (2 * hop)
  int hopLength = 512;
  Aggregate aggregate = Aggregate::Mean;
};

// db: row-major [bands][frames] (e.g. power_to_db of a mel spectrogram). Returns `frames` values
// (float32, as librosa): max(0, S[f, t] - ref[f, t - lag]) aggregated over bands, delayed by
// lag + (center ? nFft / (2 * hop) : 0) frames of zeros and cut to `frames`.
std::vector<float> onsetStrengthFromDb(const float* db, int bands, int64_t frames, const OnsetParams& p);

}  // namespace de::beat
