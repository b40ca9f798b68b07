#include "dsp/stft.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "common/error.h"
#include "common/limits.h"
#include "dsp/avx2.h"

namespace de::dsp {

PadMode parsePadMode(const std::string& name) {
  if (name == "constant") return PadMode::Constant;
  if (name == "reflect") return PadMode::Reflect;
  if (name == "edge") return PadMode::Edge;
  throw Error(code::kInvalidArgument, "stft: unknown padMode '" + name + "' (constant, reflect, edge)");
}

void validateStftParams(const StftParams& p, const char* op) {
  const std::string o(op);
  if (p.nFft < 1 || p.nFft > limits::kMaxFftSize)
    throw Error(code::kInvalidArgument, o + ": nFft (" + std::to_string(p.nFft) + ") must be in [1, 65536]");
  if (p.hopLength < 1 || p.hopLength > limits::kMaxHop)
    throw Error(code::kInvalidArgument, o + ": hopLength (" + std::to_string(p.hopLength) + ") must be in [1, 2^20]");
  // kissfft transforms a prime factor q in O(n * q) (no Bluestein): nFft = 65521 cost seconds per
  // frame (found by fuzz_audio). Sizes whose factors are all <= 127 stay within ~12x of a power of two.
  int rest = p.nFft, largest = 1;
  for (int q = 2; q * q <= rest; ++q)
    while (rest % q == 0) {
      largest = q;
      rest /= q;
    }
  if (rest > 1) largest = std::max(largest, rest);
  if (largest > kMaxFftPrimeFactor)
    throw Error(code::kInvalidArgument, o + ": nFft (" + std::to_string(p.nFft) + ") has the prime factor " +
                                            std::to_string(largest) + "; factors above 127 are not supported");
  if (p.winLength < 1 || p.winLength > p.nFft)
    throw Error(code::kInvalidArgument, o + ": winLength (" + std::to_string(p.winLength) +
                                            ") must be in [1, nFft=" + std::to_string(p.nFft) + "]");
}

int64_t stftFrameCount(int64_t n, const StftParams& p) {
  const int64_t padded = p.center ? n + 2 * (p.nFft / 2) : n;
  if (padded < p.nFft) return 0;
  return 1 + (padded - p.nFft) / p.hopLength;
}

int64_t padIndex(int64_t i, int64_t n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  if (n <= 0) return -1;
  switch (mode) {
    case PadMode::Constant: return -1;
    case PadMode::Edge: return i < 0 ? 0 : n - 1;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t j = i % period;
      if (j < 0) j += period;
      return j < n ? j : period - j;
    }
  }
  return -1;
}

namespace {
// Validates before any member is built: fft_ used to allocate its plan for nFft = INT_MAX (16 GiB)
// before the body's check ran (found by fuzz_audio).
const StftParams& validated(const StftParams& p) {
  validateStftParams(p, "stft");
  return p;
}
}  // namespace

StftFramer::StftFramer(const StftParams& p) : p_(validated(p)), fft_(p.nFft) {
  const std::vector<double> w = padCenter(makeWindow(p.window, p.winLength), p.nFft);
  window_.assign(w.begin(), w.end());
  buf_.resize(static_cast<size_t>(p.nFft));
  if (PffftReal::supported(p.nFft)) {
    pffft_ = std::make_unique<PffftReal>(p.nFft);
    pin_ = PffftReal::alignedAlloc(static_cast<size_t>(p.nFft));
    pout_ = PffftReal::alignedAlloc(static_cast<size_t>(p.nFft));
  } else if (RealFft4::supported(p.nFft)) {
    fft4_ = std::make_unique<RealFft4>(p.nFft);
    const size_t floats = static_cast<size_t>(4) * p.nFft + static_cast<size_t>(8) * fft_.bins() + 8;
    store4_.resize(floats);
    auto align = [](float* q) {
      // Rounding an address up to 16 bytes is what this cast is for.
      return reinterpret_cast<float*>(  // NOLINT(performance-no-int-to-ptr)
          (reinterpret_cast<uintptr_t>(q) + 15) & ~static_cast<uintptr_t>(15));
    };
    in4_ = align(store4_.data());
    out4_ = align(in4_ + static_cast<size_t>(4) * p.nFft);
  }
}

void StftFramer::fill(const float* x, int64_t n, int64_t t, float* dst, int stride) {
  const int nFft = p_.nFft;
  const int64_t start = t * p_.hopLength - (p_.center ? nFft / 2 : 0);
  const float* w = window_.data();
  if (start >= 0 && start + nFft <= n) {
    const float* src = x + start;
    if (stride == 1) {
      // the samples new to the frame kAhead hops later are requested now (the hardware
      // prefetcher alone leaves the framing waiting on memory)
      constexpr int kAhead = 8;
      const int64_t from = start + nFft + static_cast<int64_t>(kAhead - 1) * p_.hopLength;
      const int64_t to = std::min<int64_t>(n, from + p_.hopLength);
      for (int64_t i = from; i < to; i += 16) __builtin_prefetch(x + i);
#ifdef DE_HAVE_AVX2_KERNELS
      if (avx2::available()) return avx2::multiply(src, w, dst, nFft);
#endif
      for (int j = 0; j < nFft; ++j) dst[j] = src[j] * w[j];
    } else {
      for (int j = 0; j < nFft; ++j) dst[static_cast<size_t>(j) * stride] = src[j] * w[j];
    }
  } else {
    for (int j = 0; j < nFft; ++j) {
      const int64_t idx = padIndex(start + j, n, p_.padMode);
      dst[static_cast<size_t>(j) * stride] = idx < 0 ? 0.0f : x[idx] * w[j];
    }
  }
}

StftFramer::~StftFramer() {
  if (pin_) PffftReal::alignedFree(pin_);
  if (pout_) PffftReal::alignedFree(pout_);
}

void StftFramer::frame(const float* x, int64_t n, int64_t t, std::complex<float>* out) {
  if (pffft_) {
    fill(x, n, t, pin_, 1);
    pffft_->forward(pin_, pout_);
    const int half = p_.nFft / 2;
    out[0] = {pout_[0], 0.0f};
    out[half] = {pout_[1], 0.0f};
    std::copy(pout_ + 2, pout_ + p_.nFft, reinterpret_cast<float*>(out + 1));
    return;
  }
  fill(x, n, t, buf_.data(), 1);
  fft_.forward(buf_.data(), out);
}

const float* StftFramer::packedFrame(const float* x, int64_t n, int64_t t) {
  fill(x, n, t, pin_, 1);
  pffft_->forward(pin_, pout_);
  return pout_;
}

void StftFramer::frames(const float* x, int64_t n, int64_t t0, int count, std::complex<float>* out) {
  const int bins = fft_.bins();
  if (pffft_ || !fft4_ || count < 2) {
    for (int j = 0; j < count; ++j) frame(x, n, t0 + j, out + static_cast<size_t>(j) * bins);
    return;
  }
  for (int s = 0; s < 4; ++s) {
    if (s < count) {
      fill(x, n, t0 + s, in4_ + s, 4);
    } else {
      for (int j = 0; j < p_.nFft; ++j) in4_[static_cast<size_t>(j) * 4 + s] = 0.0f;
    }
  }
  fft4_->forward(in4_, out4_);
  for (int s = 0; s < count; ++s) {
    std::complex<float>* o = out + static_cast<size_t>(s) * bins;
    for (int k = 0; k < bins; ++k) {
      o[k] = {out4_[static_cast<size_t>(k) * 8 + s], out4_[static_cast<size_t>(k) * 8 + 4 + s]};
    }
  }
}

Spectrogram stft(const float* x, int64_t n, const StftParams& p, const CancelToken* cancel) {
  StftFramer framer(p);
  Spectrogram s;
  s.bins = framer.bins();
  s.frames = stftFrameCount(n, p);
  limits::checkAlloc(static_cast<double>(s.frames) * s.bins, sizeof(std::complex<float>), "stft", "the spectrogram");
  s.data.resize(static_cast<size_t>(s.frames) * s.bins);
  for (int64_t t = 0; t < s.frames; t += 4) {
    if ((t & 255) == 0 && cancel) cancel->throwIfRequested("stft");
    framer.frames(x, n, t, static_cast<int>(std::min<int64_t>(4, s.frames - t)), s.data.data() + t * s.bins);
  }
  return s;
}

std::vector<float> istft(const std::complex<float>* spec, int bins, int64_t frames, const StftParams& p, int64_t length,
                         const CancelToken* cancel) {
  validateStftParams(p, "istft");
  if (bins != p.nFft / 2 + 1)
    throw Error(code::kInvalidArgument, "istft: bins (" + std::to_string(bins) + ") must be nFft/2 + 1 (" +
                                            std::to_string(p.nFft / 2 + 1) + ")");
  const int nFft = p.nFft, hop = p.hopLength;
  const int64_t half = p.center ? nFft / 2 : 0;
  int64_t nFrames = frames;
  if (length >= 0) {
    const int64_t padded = length + 2 * half;
    nFrames = std::min<int64_t>(frames, (padded + hop - 1) / hop);
  }
  int64_t outLen;
  if (length >= 0) {
    outLen = length;
  } else {
    outLen = nFrames > 0 ? nFft + static_cast<int64_t>(hop) * (nFrames - 1) - 2 * half : 0;
    if (outLen < 0) outLen = 0;
  }
  if (frames < 0) throw Error(code::kInvalidArgument, "istft: frames must not be negative");
  const int64_t fullLen = nFrames > 0 ? nFft + static_cast<int64_t>(hop) * (nFrames - 1) : 0;
  // two double buffers of fullLen, then the float output
  limits::checkAlloc(static_cast<double>(fullLen), 2 * sizeof(double), "istft", "the overlap-add buffers");
  limits::checkAlloc(static_cast<double>(outLen), sizeof(float), "istft", "the output");
  std::vector<double> acc(static_cast<size_t>(fullLen), 0.0);
  std::vector<double> wss(static_cast<size_t>(fullLen), 0.0);
  const std::vector<double> w = padCenter(makeWindow(p.window, p.winLength), nFft);
  RealFft fft(nFft);
  std::vector<float> buf(static_cast<size_t>(nFft));
  for (int64_t t = 0; t < nFrames; ++t) {
    if ((t & 255) == 0 && cancel) cancel->throwIfRequested("istft");
    fft.inverse(spec + t * bins, buf.data());
    double* a = acc.data() + t * hop;
    double* s = wss.data() + t * hop;
    for (int j = 0; j < nFft; ++j) {
      a[j] += w[j] * static_cast<double>(buf[j]);
      s[j] += w[j] * w[j];
    }
  }
  // librosa computes the window sum in the output dtype (float32) and compares with its "tiny".
  const double tiny = std::numeric_limits<float>::min();
  std::vector<float> y(static_cast<size_t>(outLen), 0.0f);
  for (int64_t i = 0; i < outLen; ++i) {
    const int64_t k = i + half;
    if (k >= fullLen) break;
    const double ws = static_cast<float>(wss[k]);
    y[i] = static_cast<float>(ws > tiny ? acc[k] / ws : acc[k]);
  }
  return y;
}

void requireFinite(const float* x, int64_t n, const char* op) {
  // Blocks are screened with integer bit tests (an all-ones exponent is NaN or infinity), which
  // vectorise; the exact index is searched only when a block fails.
  constexpr int64_t kBlock = 4096;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    uint32_t bad = 0;
    for (int64_t i = b; i < e; ++i) {
      uint32_t bits;
      std::memcpy(&bits, x + i, sizeof bits);
      bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (!bad) continue;
    for (int64_t i = b; i < e; ++i) {
      if (!std::isfinite(x[i])) {
        throw Error(code::kNonFiniteSamples, std::string(op) + ": input contains a non-finite sample at index " +
                                                 std::to_string(i) + " (NaN or infinity)");
      }
    }
  }
}

}  // namespace de::dsp
