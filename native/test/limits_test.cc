// The cores' own argument and allocation bounds (issue 13, point 1): every hostile number is a
// coded error before any work or allocation happens.
#include "common/limits.h"

#include <cmath>
#include <limits>
#include <vector>

#include "audio/decode.h"
#include "audio/resample.h"
#include "beat/beat_track.h"
#include "beat/onset.h"
#include "beat/tempo.h"
#include "dsp/features.h"
#include "dsp/stft.h"
#include "test.h"

using namespace de;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("limits: requireInt never casts NaN or out-of-range doubles") {
  CHECK(limits::requireInt(12.0, 1, 100, "t", "x") == 12);
  CHECK_THROWS_CODE(limits::requireInt(kNaN, 1, 100, "t", "x"), code::kInvalidArgument);
  CHECK_THROWS_CODE(limits::requireInt(1e300, 1, 100, "t", "x"), code::kInvalidArgument);
  CHECK_THROWS_CODE(limits::requireInt(2.5, 1, 100, "t", "x"), code::kInvalidArgument);
  CHECK_THROWS_CODE(limits::requireRate(1e12, "t", "sr"), code::kInvalidArgument);
  CHECK_THROWS_CODE(limits::requireRate(999.0, "t", "sr"), code::kInvalidArgument);
  limits::requireRate(768000.0, "t", "sr");
  CHECK_THROWS_CODE(limits::checkAlloc(1e30, 4, "t", "x"), code::kResourceLimit);
  CHECK_THROWS_CODE(limits::checkAlloc(kNaN, 4, "t", "x"), code::kResourceLimit);
}

TEST_CASE("limits: resample bounds rates, channels and samples") {
  std::vector<float> x(1000, 0.25f);
  using audio::ResampleEngine;
  CHECK_THROWS_CODE(audio::resample(x.data(), 1000, 1, 22050, 4e8, ResampleEngine::SoxrHQ, nullptr),
                    code::kInvalidArgument);
  CHECK_THROWS_CODE(audio::resample(x.data(), 1000, 1, kNaN, 44100, ResampleEngine::SincBest, nullptr),
                    code::kInvalidArgument);
  CHECK_THROWS_CODE(audio::resample(x.data(), 1000, 0, 22050, 44100, ResampleEngine::SoxrHQ, nullptr),
                    code::kInvalidArgument);
  CHECK_THROWS_CODE(audio::resample(x.data(), 1000, 5000, 22050, 44100, ResampleEngine::SoxrHQ, nullptr),
                    code::kInvalidArgument);
  x[700] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_CODE(audio::resample(x.data(), 1000, 1, 22050, 44100, ResampleEngine::SoxrHQ, nullptr),
                    code::kNonFiniteSamples);
  x[700] = 0.0f;
  CHECK(audio::resample(x.data(), 1000, 1, 22050, 44100, ResampleEngine::SoxrHQ, nullptr).size() == 2000);
}

TEST_CASE("limits: stft, istft and features reject absurd framing and outputs") {
  std::vector<float> x(4096, 0.1f);
  dsp::StftParams p;
  p.nFft = 1 << 17;
  p.winLength = 1 << 17;
  CHECK_THROWS_CODE(dsp::stft(x.data(), 4096, p, nullptr), code::kInvalidArgument);
  p.nFft = p.winLength = 2048;
  p.hopLength = (1 << 20) + 1;
  CHECK_THROWS_CODE(dsp::stft(x.data(), 4096, p, nullptr), code::kInvalidArgument);
  p.hopLength = 512;
  const dsp::Spectrogram s = dsp::stft(x.data(), 4096, p, nullptr);
  CHECK_THROWS_CODE(dsp::istft(s.data.data(), s.bins, s.frames, p, int64_t{1} << 40, nullptr), code::kResourceLimit);

  dsp::FeatureParams f;
  f.mfcc = true;
  f.sr = 1e12;
  CHECK_THROWS_CODE(dsp::computeFeatures(x.data(), 4096, f, nullptr), code::kInvalidArgument);
  f.sr = 22050;
  f.fmin = kNaN;
  CHECK_THROWS_CODE(dsp::computeFeatures(x.data(), 4096, f, nullptr), code::kInvalidArgument);
  f.fmin = 0;
  f.melPowerExp = kInf;
  CHECK_THROWS_CODE(dsp::computeFeatures(x.data(), 4096, f, nullptr), code::kInvalidArgument);
  f.melPowerExp = 2;
  f.nMels = 100000;
  CHECK_THROWS_CODE(dsp::computeFeatures(x.data(), 4096, f, nullptr), code::kInvalidArgument);
}

TEST_CASE("limits: tempo and beat tracking reject windows and tempi beyond any music") {
  std::vector<float> env(2000, 0.0f);
  for (size_t i = 0; i < env.size(); i += 43) env[i] = 1.0f;
  beat::TempoParams t;
  t.acSize = 1e300;
  CHECK(beat::tempogramWindow(t) == beat::kMaxTempogramWindow + 1);
  CHECK_THROWS_CODE(beat::estimateTempo(env.data(), 2000, t, nullptr), code::kInvalidArgument);
  t.acSize = kNaN;
  CHECK(beat::tempogramWindow(t) == 0);
  t.acSize = 8;
  t.sr = 1e12;
  CHECK_THROWS_CODE(beat::estimateTempo(env.data(), 2000, t, nullptr), code::kInvalidArgument);
  beat::BeatParams b;
  b.bpm = 1e-9;
  CHECK_THROWS_CODE(beat::beatTrack(env.data(), 2000, b, nullptr), code::kInvalidArgument);
  b.bpm = kNaN;
  CHECK_THROWS_CODE(beat::beatTrack(env.data(), 2000, b, nullptr), code::kInvalidArgument);
  b.bpm = 0;
  CHECK(!beat::beatTrack(env.data(), 2000, b, nullptr).beats.empty());
}

TEST_CASE("limits: a WAV header claiming 2 GHz is an unsupported format") {
  // 44-byte PCM header, mono 16-bit, then 8 samples
  std::vector<uint8_t> wav = {'R', 'I', 'F', 'F', 52, 0, 0,   0,   'W', 'A', 'V', 'E', 'f', 'm', 't',
                              ' ', 16,  0,   0,   0,  1, 0,   1,   0,   0,   0,   0,   0,   0,   0,
                              0,   0,   2,   0,   16, 0, 'd', 'a', 't', 'a', 16,  0,   0,   0};
  wav.resize(wav.size() + 16, 1);
  auto setRate = [&](uint32_t r) {
    for (int i = 0; i < 4; ++i) wav[24 + i] = static_cast<uint8_t>(r >> (8 * i));
    for (int i = 0; i < 4; ++i) wav[28 + i] = static_cast<uint8_t>((r * 2) >> (8 * i));
  };
  setRate(2000000000u);
  CHECK_THROWS_CODE(audio::decodeMemory(wav.data(), wav.size(), {}, nullptr), code::kUnsupportedFormat);
  setRate(1);
  CHECK_THROWS_CODE(audio::decodeMemory(wav.data(), wav.size(), {}, nullptr), code::kUnsupportedFormat);
  setRate(8000);
  CHECK(audio::decodeMemory(wav.data(), wav.size(), {}, nullptr).frames == 8);
}

TEST_CASE("onset strength: the sliding maximum across bands equals the direct window maximum") {
  // reference: the direct max over a reflected window, as scipy.ndimage.maximum_filter1d
  auto reflect = [](int i, int n) {
    if (n == 1) return 0;
    const int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
  };
  uint32_t seed = 12345;
  auto rnd = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / 16777216.0f * 80.0f - 60.0f;
  };
  for (int bands : {1, 2, 7, 40}) {
    for (int maxSize : {2, 3, 4, 5, 16, 81, 200}) {
      const int64_t T = 23;
      std::vector<float> db(static_cast<size_t>(bands) * T);
      for (float& v : db) v = rnd();
      beat::OnsetParams p;
      p.maxSize = maxSize;
      p.center = false;
      const std::vector<float> fast = beat::onsetStrengthFromDb(db.data(), bands, T, p);
      // the envelope with the direct reference spectrum, computed the same way by hand
      std::vector<float> ref(db.size());
      for (int f = 0; f < bands; ++f)
        for (int64_t t = 0; t < T; ++t) {
          float m = -std::numeric_limits<float>::infinity();
          for (int j = 0; j < maxSize; ++j)
            m = std::max(m, db[static_cast<size_t>(reflect(f - maxSize / 2 + j, bands)) * T + t]);
          ref[static_cast<size_t>(f) * T + t] = m;
        }
      std::vector<float> expect(static_cast<size_t>(T), 0.0f);
      for (int64_t t = 1; t < T; ++t) {
        double sum = 0.0;
        for (int f = 0; f < bands; ++f)
          sum += std::max(0.0f, db[static_cast<size_t>(f) * T + t] - ref[static_cast<size_t>(f) * T + t - 1]);
        expect[static_cast<size_t>(t)] = static_cast<float>(sum / bands);
      }
      CHECK(fast.size() == expect.size());
      for (size_t i = 0; i < fast.size(); ++i) CHECK_NEAR(fast[i], expect[i], 1e-4);
    }
  }
}
