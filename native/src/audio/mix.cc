#include "audio/mix.h"

#include <algorithm>

namespace de::audio {

void mixToMono(const float* interleaved, int64_t frames, int channels, float* out, MixPrecision precision) {
  if (channels == 1) {
    std::copy(interleaved, interleaved + frames, out);
    return;
  }
  if (precision == MixPrecision::Float32) {
    const float count = static_cast<float>(channels);
    for (int64_t f = 0; f < frames; ++f) {
      const float* frame = interleaved + f * channels;
      float sum = 0;
      for (int c = 0; c < channels; ++c) sum += frame[c];
      out[f] = sum / count;
    }
    return;
  }
  const double scale = 1.0 / channels;
  for (int64_t f = 0; f < frames; ++f) {
    const float* frame = interleaved + f * channels;
    double sum = 0.0;
    for (int c = 0; c < channels; ++c) sum += frame[c];
    out[f] = static_cast<float>(sum * scale);
  }
}

}  // namespace de::audio
