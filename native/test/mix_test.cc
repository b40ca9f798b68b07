// Unit tests of the one mono down-mix (audio/mix.h) against the two expressions it replaced:
// basic-pitch's float32 channel mean and the decoder's double-accumulated mean.
#include "audio/mix.h"

#include <cstring>
#include <random>
#include <vector>

#include "test.h"

using de::audio::MixPrecision;
using de::audio::mixToMono;

namespace {

std::vector<float> randomFrames(int64_t frames, int channels, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::uniform_int_distribution<int> e(-30, 2);
  std::vector<float> x(static_cast<size_t>(frames * channels));
  for (auto& v : x) v = std::ldexp(u(rng), e(rng));  // a wide range of magnitudes
  return x;
}

// The expressions as they stood in ml/basic_pitch.cc and audio/decode.cc.
float float32Mean(const float* frame, int channels) {
  float s = 0;
  for (int c = 0; c < channels; ++c) s += frame[c];
  return s / static_cast<float>(channels);
}
float float64Mean(const float* frame, int channels) {
  const double scale = 1.0 / channels;
  double sum = 0.0;
  for (int c = 0; c < channels; ++c) sum += frame[c];
  return static_cast<float>(sum * scale);
}

// Bit-identical on purpose (the float and double paths must agree exactly, signed zeros included).
// NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
bool sameBits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

}  // namespace

TEST_CASE("mixToMono: each precision is bit-identical to the expression it replaced, 1 to 8 channels") {
  const int64_t frames = 20000;
  for (int channels = 1; channels <= 8; ++channels) {
    std::vector<float> x = randomFrames(frames, channels, 17u + channels);
    std::vector<float> f32(frames), f64(frames);
    mixToMono(x.data(), frames, channels, f32.data(), MixPrecision::Float32);
    mixToMono(x.data(), frames, channels, f64.data(), MixPrecision::Float64);
    for (int64_t f = 0; f < frames; ++f) {
      const float* frame = x.data() + f * channels;
      CHECK(sameBits(f32[f], channels == 1 ? frame[0] : float32Mean(frame, channels)));
      CHECK(sameBits(f64[f], channels == 1 ? frame[0] : float64Mean(frame, channels)));
    }
  }
}

TEST_CASE("mixToMono: for mono and stereo both precisions give the same floats") {
  const int64_t frames = 50000;
  for (int channels = 1; channels <= 2; ++channels) {
    std::vector<float> x = randomFrames(frames, channels, 99u + channels);
    std::vector<float> f32(frames), f64(frames);
    mixToMono(x.data(), frames, channels, f32.data(), MixPrecision::Float32);
    mixToMono(x.data(), frames, channels, f64.data(), MixPrecision::Float64);
    // Bit-identical on purpose. NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
    CHECK(std::memcmp(f32.data(), f64.data(), frames * sizeof(float)) == 0);
  }
}
