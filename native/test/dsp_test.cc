// Unit tests of the DSP core: shapes, a naive DFT oracle, round trips, filterbanks, edge cases.
#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "common/error.h"
#include "dsp/features.h"
#include "dsp/fft.h"
#include "dsp/filters.h"
#include "dsp/stft.h"
#include "test.h"

using namespace de::dsp;

namespace {

std::vector<float> noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.3f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

}  // namespace

TEST_CASE("stft frame count follows librosa") {
  StftParams p;
  CHECK(stftFrameCount(22050, p) == 1 + 22050 / 512);
  CHECK(stftFrameCount(100, p) == 1);
  CHECK(stftFrameCount(1, p) == 1);
  p.center = false;
  CHECK(stftFrameCount(2047, p) == 0);
  CHECK(stftFrameCount(2048 + 512 * 3, p) == 4);
}

TEST_CASE("padIndex mirrors numpy.pad") {
  CHECK(padIndex(-1, 5, PadMode::Reflect) == 1);
  CHECK(padIndex(-4, 5, PadMode::Reflect) == 4);
  CHECK(padIndex(5, 5, PadMode::Reflect) == 3);
  CHECK(padIndex(-7, 5, PadMode::Reflect) == 1);  // reflects twice
  CHECK(padIndex(-3, 5, PadMode::Edge) == 0);
  CHECK(padIndex(9, 5, PadMode::Edge) == 4);
  CHECK(padIndex(-1, 5, PadMode::Constant) == -1);
}

TEST_CASE("stft matches a naive windowed DFT (pffft, 4-lane kissfft and odd-size paths)") {
  const std::vector<float> x = noise(3000, 1);
  for (int nFft : {256, 1000, 255}) {
    StftParams p;
    p.nFft = nFft;
    p.hopLength = 64;
    p.winLength = 200;
    p.padMode = PadMode::Reflect;
    const Spectrogram s = stft(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
    CHECK(s.bins == nFft / 2 + 1);
    CHECK(s.frames == 1 + 3000 / 64);
    const std::vector<double> w = padCenter(makeWindow(WindowType::Hann, 200), nFft);
    double maxErr = 0.0, maxMag = 0.0;
    for (int64_t t : {int64_t(0), int64_t(1), int64_t(2), int64_t(3), int64_t(20), s.frames - 1}) {
      for (int k = 0; k < s.bins; ++k) {
        std::complex<double> acc = 0.0;
        for (int j = 0; j < nFft; ++j) {
          const int64_t idx = padIndex(t * 64 - nFft / 2 + j, 3000, PadMode::Reflect);
          acc += w[j] * static_cast<double>(x[idx]) * std::polar(1.0, -2.0 * M_PI * k * j / nFft);
        }
        const std::complex<double> got(s.data[t * s.bins + k]);
        maxErr = std::max(maxErr, std::abs(got - acc));
        maxMag = std::max(maxMag, std::abs(acc));
      }
    }
    CHECK(maxErr <= 1e-5 * maxMag);
  }
}

TEST_CASE("odd nFft uses the complex path") {
  const std::vector<float> x = noise(1000, 2);
  StftParams p;
  p.nFft = 255;
  p.winLength = 255;
  p.hopLength = 100;
  const Spectrogram s = stft(x.data(), 1000, p, nullptr);
  CHECK(s.bins == 128);
  const std::vector<float> y = istft(s.data.data(), s.bins, s.frames, p, 1000, nullptr);
  double err = 0.0, ref = 0.0;
  for (int i = 0; i < 1000; ++i) {
    err += std::pow(y[i] - x[i], 2);
    ref += std::pow(x[i], 2);
  }
  CHECK(std::sqrt(err / ref) < 1e-6);
}

TEST_CASE("istft round trip is below 1e-6 relative") {
  const std::vector<float> x = noise(44100, 3);
  for (WindowType wt : {WindowType::Hann, WindowType::Hamming, WindowType::Blackman}) {
    StftParams p;
    p.window = wt;
    const Spectrogram s = stft(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
    const std::vector<float> y = istft(s.data.data(), s.bins, s.frames, p, static_cast<int64_t>(x.size()), nullptr);
    CHECK(y.size() == x.size());
    double err = 0.0, ref = 0.0, maxAbs = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      err += std::pow(static_cast<double>(y[i]) - x[i], 2);
      ref += std::pow(static_cast<double>(x[i]), 2);
      maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(y[i]) - x[i]));
    }
    CHECK(std::sqrt(err / ref) < 1e-6);
  }
}

TEST_CASE("RealFft inverse: a naive inverse DFT, scaled by 1/n or by a given scale, DC/Nyquist imaginary ignored") {
  for (int n : {16, 15}) {
    const int bins = n / 2 + 1;
    std::mt19937 rng(3);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<std::complex<float>> spec(static_cast<size_t>(bins));
    for (auto& c : spec) c = {d(rng), d(rng)};
    // irfft's oracle: the Hermitian extension, only the real part of DC (and of Nyquist for even n).
    std::vector<double> want(static_cast<size_t>(n));
    for (int t = 0; t < n; ++t) {
      double v = spec[0].real();
      for (int k = 1; k < bins; ++k) {
        const double a = 2.0 * M_PI * k * t / n;
        const double w = (n % 2 == 0 && k == n / 2) ? 1.0 : 2.0;
        v += w * (spec[k].real() * std::cos(a) - (w == 1.0 ? 0.0 : spec[k].imag() * std::sin(a)));
      }
      want[static_cast<size_t>(t)] = v;
    }
    RealFft fft(n);
    std::vector<float> unit(static_cast<size_t>(n)), scaled(static_cast<size_t>(n));
    fft.inverse(spec.data(), unit.data());
    fft.inverse(spec.data(), scaled.data(), 0.25f);
    for (int t = 0; t < n; ++t) {
      CHECK_NEAR(unit[t], want[t] / n, 1e-5);
      CHECK_NEAR(scaled[t], want[t] * 0.25, 1e-4);
    }
  }
}

TEST_CASE("mel filterbank: slaney triangles and area norm") {
  const std::vector<float> fb = melFilterbank(22050, 2048, 128, 0.0, 11025.0, false, MelNorm{});
  CHECK(fb.size() == 128u * 1025u);
  // first filter peaks near mel 1 of 130 evenly spaced points; every weight is non-negative
  for (float v : fb) CHECK(v >= 0.0f);
  CHECK_NEAR(hzToMel(1000.0, false), 15.0, 1e-12);
  CHECK_NEAR(melToHz(hzToMel(3000.0, false), false), 3000.0, 1e-9);
  CHECK_NEAR(melToHz(hzToMel(3000.0, true), true), 3000.0, 1e-9);
}

TEST_CASE("chroma filterbank columns are octave-weighted unit vectors") {
  const std::vector<float> fb = chromaFilterbank(22050, 2048, 12, 0.0, 5.0, 0.0, true);
  // without octave weighting every column (bin >= 1) has unit L2 norm
  for (int k = 1; k < 1025; k += 97) {
    double s = 0.0;
    for (int c = 0; c < 12; ++c) s += std::pow(fb[c * 1025 + k], 2);
    CHECK_NEAR(std::sqrt(s), 1.0, 1e-6);
  }
}

TEST_CASE("features: a 440 Hz tone") {
  const double sr = 22050;
  std::vector<float> x(22050);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 440.0 * i / sr));
  FeatureParams p;
  p.sr = sr;
  p.centroid = p.chroma = p.rms = p.zcr = p.mfcc = p.rolloff = p.bandwidth = true;
  p.nMfcc = 13;
  const FeatureSet f = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  CHECK(f.frames == 44);
  const int64_t mid = 20;
  CHECK_NEAR(f.centroid[mid], 440.0, 15.0);
  CHECK_NEAR(f.rms[mid], 0.5 / std::sqrt(2.0), 1e-3);
  CHECK_NEAR(f.zcr[mid], 2.0 * 440.0 / sr, 2e-3);
  // A is chroma 9 (C = 0) and must be the frame maximum (1.0 after inf-norm)
  CHECK_NEAR(f.chroma[9 * f.frames + mid], 1.0, 1e-6);
  CHECK(std::fabs(f.tuning) < 0.05);
}

TEST_CASE("features: digital silence gives zeros, not NaN") {
  std::vector<float> x(10000, 0.0f);
  FeatureParams p;
  p.centroid = p.chroma = p.rms = p.zcr = p.mfcc = p.rolloff = p.bandwidth = p.melDb = true;
  const FeatureSet f = computeFeatures(x.data(), 10000, p, nullptr);
  for (float v : f.centroid) CHECK(v == 0.0f);
  for (float v : f.bandwidth) CHECK(v == 0.0f);
  for (float v : f.rolloff) CHECK(v == 0.0f);
  for (float v : f.chroma) CHECK(v == 0.0f);
  for (float v : f.melDb) CHECK(v == -100.0f);
  for (float v : f.mfcc) CHECK(std::isfinite(v));
  CHECK(f.tuning == 0.0);
}

TEST_CASE("features: input shorter than nFft") {
  std::vector<float> x = noise(300, 4);
  FeatureParams p;
  p.centroid = p.mfcc = p.zcr = p.rms = p.chroma = true;
  const FeatureSet f = computeFeatures(x.data(), 300, p, nullptr);
  CHECK(f.frames == 1);
  CHECK(f.zcr.size() == 1u);
  CHECK(f.rms.size() == 1u);
}

TEST_CASE("features: non-finite samples are rejected") {
  std::vector<float> x(4096, 0.1f);
  x[1234] = std::nanf("");
  FeatureParams p;
  p.rms = true;
  CHECK_THROWS_CODE(computeFeatures(x.data(), 4096, p, nullptr), de::code::kNonFiniteSamples);
  x[1234] = INFINITY;
  CHECK_THROWS_CODE(computeFeatures(x.data(), 4096, p, nullptr), de::code::kNonFiniteSamples);
}

TEST_CASE("features: cancellation") {
  std::vector<float> x = noise(100000, 5);
  de::CancelToken token;
  token.request();
  FeatureParams p;
  p.mfcc = true;
  CHECK_THROWS_CODE(computeFeatures(x.data(), 100000, p, &token), de::code::kAborted);
}

TEST_CASE("power_to_db floors at max - top_db") {
  std::vector<float> s = {1.0f, 1e-3f, 1e-12f, 0.0f};
  powerToDb(s.data(), s.size(), 1.0, 1e-10, 80.0);
  CHECK_NEAR(s[0], 0.0, 1e-6);
  CHECK_NEAR(s[1], -30.0, 1e-4);
  CHECK_NEAR(s[2], -80.0, 1e-6);
  CHECK_NEAR(s[3], -80.0, 1e-6);
}

TEST_CASE("features: threads give identical results") {
  std::vector<float> x = noise(22050 * 6, 9);
  for (size_t i = 0; i < x.size(); i += 5000) x[i] += 0.9f;
  FeatureParams p;
  p.centroid = p.chroma = p.mfcc = p.rolloff = p.bandwidth = p.melDb = true;
  const FeatureSet a = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  p.threads = 3;
  const FeatureSet b = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  CHECK(a.tuning == b.tuning);
  CHECK(a.chroma == b.chroma);
  CHECK(a.mfcc == b.mfcc);
  CHECK(a.melDb == b.melDb);
  CHECK(a.centroid == b.centroid);
  CHECK(a.rolloff == b.rolloff);
}

TEST_CASE("estimateTuning: histogram of residuals, left bin edge, median magnitude gate") {
  // pitches 20 cents sharp of A440 and friends; low-magnitude outliers at -40 cents are gated out
  std::vector<float> pitches, mags;
  for (double midi : {69.0, 64.0, 60.0, 72.0, 57.0}) {
    pitches.push_back(static_cast<float>(440.0 * std::pow(2.0, (midi + 0.205 - 69.0) / 12.0)));
    mags.push_back(10.0f);
  }
  for (int i = 0; i < 4; ++i) {
    pitches.push_back(static_cast<float>(440.0 * std::pow(2.0, -0.4 / 12.0)));
    mags.push_back(0.1f);
  }
  CHECK_NEAR(estimateTuning(pitches, mags, 0.01, 12), 0.2, 1e-12);
  CHECK(estimateTuning({}, {}, 0.01, 12) == 0.0);
}

TEST_CASE("zero-crossing rate: threshold, zero counts as positive, edge padding") {
  // +1, -1e-11 (treated as 0 -> positive: no crossing), -1 (crossing), +1 (crossing)
  std::vector<float> x = {1.0f, -1e-11f, -1.0f, 1.0f};
  const std::vector<float> z = zeroCrossingRate(x.data(), 4, 4, 1, false, 1e-10, true);
  CHECK(z.size() == 1u);
  CHECK_NEAR(z[0], 2.0 / 4.0, 1e-12);
  // without zeroPos, 0 is its own class: 1 -> 0 -> -1 -> 1 is three changes
  const std::vector<float> z2 = zeroCrossingRate(x.data(), 4, 4, 1, false, 1e-10, false);
  CHECK_NEAR(z2[0], 3.0 / 4.0, 1e-12);
  // centred frames with edge padding: the padded copies of x[0] add no crossings
  const std::vector<float> z3 = zeroCrossingRate(x.data(), 4, 4, 1, true, 1e-10, true);
  CHECK(z3.size() == 5u);
  CHECK_NEAR(z3[0], 0.0, 1e-12);  // [1, 1, 1, -1e-11]
}

TEST_CASE("rms: block path equals the direct path") {
  const std::vector<float> x = noise(10000, 11);
  const std::vector<float> a = rmsFrames(x.data(), 10000, 2048, 512, true, PadMode::Constant);
  const std::vector<float> b = rmsFrames(x.data(), 10000, 2048, 511, true, PadMode::Constant);  // direct
  CHECK(a.size() == 1u + 10000u / 512u);
  double ss = 0.0;
  for (int i = 0; i < 1024; ++i) ss += static_cast<double>(x[i]) * x[i];  // frame 0: 1024 zeros + x[0..1024)
  CHECK_NEAR(a[0], std::sqrt(ss / 2048), 1e-6);
  CHECK_NEAR(b[0], a[0], 1e-6);
}

TEST_CASE("uncentred stft and istft") {
  const std::vector<float> x = noise(8192, 12);
  StftParams p;
  p.center = false;
  p.nFft = 512;
  p.hopLength = 128;
  p.winLength = 512;
  const Spectrogram s = stft(x.data(), 8192, p, nullptr);
  CHECK(s.frames == 1 + (8192 - 512) / 128);
  const std::vector<float> y = istft(s.data.data(), s.bins, s.frames, p, -1, nullptr);
  CHECK(y.size() == static_cast<size_t>(512 + 128 * (s.frames - 1)));
  // away from the first and last window the overlap-add reconstructs the input
  for (size_t i = 512; i + 512 < y.size(); ++i) CHECK_NEAR(y[i], x[i], 1e-5);
}

TEST_CASE("reflect padding of a one-sample input") {
  const float x[1] = {0.5f};
  StftParams p;
  p.nFft = 64;
  p.hopLength = 16;
  p.winLength = 64;
  p.padMode = PadMode::Reflect;
  const Spectrogram s = stft(x, 1, p, nullptr);
  CHECK(s.frames == 1);
  // numpy reflects a length-1 array into a constant: DC = 0.5 * sum(window)
  double wsum = 0.0;
  for (double w : makeWindow(WindowType::Hann, 64)) wsum += w;
  CHECK_NEAR(s.data[0].real(), 0.5 * wsum, 1e-4);
}

TEST_CASE("chroma: the tuning pre-pass (long inputs) equals the stored-frames pass") {
  std::vector<float> x = noise(22050 * 5, 13);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 0.3f * static_cast<float>(std::sin(2 * M_PI * 452.0 * i / 22050.0));
  FeatureParams p;
  p.chroma = p.mfcc = p.centroid = true;
  const FeatureSet stored = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  p.maxStoredPowerBytes = 0;  // force the pre-pass
  const FeatureSet prepass = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  p.threads = 2;
  const FeatureSet prepass2 = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  CHECK(stored.tuning == prepass.tuning);
  CHECK(stored.tuning != 0.0);
  CHECK(stored.chroma == prepass.chroma);
  CHECK(stored.chroma == prepass2.chroma);
  CHECK(stored.mfcc == prepass.mfcc);
  // a given tuning skips estimation and matches the estimated run when equal
  p.threads = 1;
  p.tuning = stored.tuning;
  const FeatureSet given = computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  CHECK(given.chroma == stored.chroma);
}
