// WAV writing with libsndfile, atomically: a temp file in the target folder is renamed into place.
#pragma once

#include <cstdint>
#include <string>

namespace de::audio {

enum class WavSubtype { Pcm16, Pcm24, Float32 };

struct EncodeResult {
  int64_t frames = 0;
  int64_t clippedSamples = 0;  // samples outside [-1, 1] that were clipped (PCM only)
  int64_t bytes = 0;
};

// `interleaved` holds frames * channels samples. Non-finite samples are rejected.
EncodeResult writeWavAtomic(const std::string& path, const float* interleaved, int64_t frames, int channels,
                            int sampleRate, WavSubtype subtype);

}  // namespace de::audio
