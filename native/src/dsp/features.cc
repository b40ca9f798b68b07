#include "dsp/features.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/limits.h"
#include "dsp/avx2.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace de::dsp {

namespace {

// A large uninitialised float buffer. On Linux it is 2 MiB aligned and advised for transparent
// huge pages, which turns ~250 page faults per MiB into one (the chroma pass stores every power
// frame: 63 MB for 3 minutes at 44.1 kHz).
class BigBuffer {
 public:
  BigBuffer() = default;
  BigBuffer(const BigBuffer&) = delete;
  BigBuffer& operator=(const BigBuffer&) = delete;
  ~BigBuffer() { std::free(p_); }
  void allocate(size_t floats) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t bytes = (floats * sizeof(float) + kHuge - 1) / kHuge * kHuge;
    void* q = nullptr;
    if (bytes >= kHuge * 2 && posix_memalign(&q, kHuge, bytes) == 0) {
#ifdef MADV_HUGEPAGE
      madvise(q, bytes, MADV_HUGEPAGE);
#endif
    } else {
      q = std::malloc(std::max<size_t>(bytes, 1));
    }
    if (!q) throw std::bad_alloc();
    p_ = static_cast<float*>(q);
  }
  float* get() const { return p_; }

 private:
  float* p_ = nullptr;
};

constexpr float kTinyF = std::numeric_limits<float>::min();

// librosa.feature.spectral_rolloff for one magnitude frame: the smallest bin whose float32
// running sum (numpy.cumsum) reaches rollPercent of the float32 total. Block sums in double find
// the crossing quickly; when it is within 1e-4 of the threshold (where float32 rounding could
// move it by a bin) the exact float32 running sum decides, so the block sums' own rounding order
// never shows. `blockSums`, when given, holds them already (avx2::spectralSums).
constexpr int kRolloffBlock = 16;
double rolloffFrame(const float* mag, int bins, const std::vector<double>& freqs, double rollPercent,
                    const double* blockSums = nullptr) {
  constexpr int kBlock = kRolloffBlock;
  const int nb = (bins + kBlock - 1) / kBlock;
  double bsum[256];
  std::vector<double> big;
  const double* bs = blockSums;
  double total = 0.0;
  if (bs) {
    for (int b = 0; b < nb; ++b) total += bs[b];
  } else {
    double* w = bsum;
    if (nb > 256) {
      big.resize(nb);
      w = big.data();
    }
    for (int b = 0; b < nb; ++b) {
      const int k0 = b * kBlock, k1 = std::min(bins, k0 + kBlock);
      double acc = 0.0;
      for (int k = k0; k < k1; ++k) acc += mag[k];
      w[b] = acc;
      total += acc;
    }
    bs = w;
  }
  const double threshold = rollPercent * total;
  double cum = 0.0, before = 0.0;
  int hit = bins - 1;
  for (int b = 0; b < nb; ++b) {
    if (cum + bs[b] >= threshold || b == nb - 1) {
      const int k0 = b * kBlock, k1 = std::min(bins, k0 + kBlock);
      for (int k = k0; k < k1; ++k) {
        before = cum;
        cum += mag[k];
        if (cum >= threshold) {
          hit = k;
          break;
        }
      }
      break;
    }
    cum += bs[b];
  }
  const double margin = 1e-4 * threshold;
  if (cum - threshold > margin && threshold - before > margin) return freqs[hit];
  // close call (or silence): numpy's exact float32 semantics. One sequential pass keeps every
  // prefix sum (the total is the last); they never decrease, so the first one reaching the
  // threshold is found by bisection instead of a second running sum.
  float preSmall[2048];
  std::vector<float> preBig;
  float* pre = preSmall;
  if (bins > 2048) {
    preBig.resize(bins);
    pre = preBig.data();
  }
  float c = 0.0f;
  for (int k = 0; k < bins; ++k) {
    c += mag[k];
    pre[k] = c;
  }
  const float thrF = static_cast<float>(rollPercent) * c;
  if (std::isnan(thrF)) return freqs[bins - 1];  // no comparison holds (a NaN reaches the total)
  const int k = static_cast<int>(std::lower_bound(pre, pre + bins, thrF) - pre);
  return freqs[std::min(k, bins - 1)];
}

// Threads used for T frames (at least 256 frames per thread).
int rangeThreads(int64_t T, int threads) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, (T + 255) / 256)));
}

// Runs fn(a, b, i) over nThreads contiguous frame ranges [a, b) (multiples of 4), the last one
// on the calling thread; rethrows the first exception after all have finished.
template <class Fn>
void forRanges(int64_t T, int nThreads, Fn fn) {
  if (nThreads <= 1) {
    fn(int64_t(0), T, 0);
    return;
  }
  std::vector<std::exception_ptr> errors(nThreads);
  std::vector<std::thread> pool;
  const int64_t per = ((T + nThreads - 1) / nThreads + 3) / 4 * 4;
  for (int i = 0; i < nThreads; ++i) {
    const int64_t a = std::min<int64_t>(T, i * per), b = std::min<int64_t>(T, (i + 1) * per);
    auto job = [&, i, a, b] {
      try {
        fn(a, b, i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    };
    if (i + 1 < nThreads) pool.emplace_back(job);
    else job();
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// power spectrum of one complex frame: pw = |X|^2 computed as (|X|)^2 in float32 like librosa
void magnitudes(const std::complex<float>* spec, int bins, float* mg, float* pv) {
#ifdef DE_HAVE_AVX2_KERNELS
  if (avx2::available()) return avx2::magnitudes(spec, bins, mg, pv);
#endif
  const float* sp = reinterpret_cast<const float*>(spec);
  int k = 0;
#ifdef __SSE2__
  for (; k + 3 < bins; k += 4) {
    const __m128 a = _mm_loadu_ps(sp + 2 * k);      // r0 i0 r1 i1
    const __m128 b = _mm_loadu_ps(sp + 2 * k + 4);  // r2 i2 r3 i3
    const __m128 re = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 im = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 m = _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(re, re), _mm_mul_ps(im, im)));
    _mm_storeu_ps(mg + k, m);
    _mm_storeu_ps(pv + k, _mm_mul_ps(m, m));
  }
#endif
  for (; k < bins; ++k) {
    const float re = sp[2 * k], im = sp[2 * k + 1];
    const float m = std::sqrt(re * re + im * im);
    mg[k] = m;
    pv[k] = m * m;
  }
}

// magnitudes() of a frame in PFFFT's packed order (StftFramer::packedFrame); X_0 and X_{n/2}
// are real, computed as re * re + 0 * 0 like the complex path.
void magnitudesPacked(const float* pk, int bins, float* mg, float* pv) {
  magnitudes(reinterpret_cast<const std::complex<float>*>(pk + 2), bins - 2, mg + 1, pv + 1);
  for (int e = 0; e < 2; ++e) {
    const int k = e == 0 ? 0 : bins - 1;
    const float re = pk[e], im = 0.0f;
    const float m = std::sqrt(re * re + im * im);
    mg[k] = m;
    pv[k] = m * m;
  }
}

// numpy's float32 median: middle element, or the float32 mean of the two middle elements.
float medianF(std::vector<float>& v) {
  const size_t n = v.size();
  const size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const float hi = v[mid];
  if (n % 2 == 1) return hi;
  const float lo = *std::max_element(v.begin(), v.begin() + mid);
  return static_cast<float>(lo + hi) / 2.0f;
}

void validateFeatureParams(const FeatureParams& p) {
  limits::requireRate(p.sr, "features", "sampleRate");
  validateStftParams(p.stft, "features");
  if (p.nMels < 1 || p.nMels > 4096) throw Error(code::kInvalidArgument, "features: nMels must be in [1, 4096]");
  if (p.nMfcc < 1 || p.nMfcc > p.nMels)
    throw Error(code::kInvalidArgument, "features: nMfcc (" + std::to_string(p.nMfcc) + ") must be in [1, nMels]");
  if (p.nChroma < 1 || p.nChroma > 120) throw Error(code::kInvalidArgument, "features: nChroma must be in [1, 120]");
  // Every real-valued setting must be finite (NaN reaching a float-to-int cast is undefined
  // behaviour); the encodings of "unset" (fmax < 0, topDb < 0, tuning NaN, chromaNorm inf) are kept.
  const double inf = std::numeric_limits<double>::infinity();
  limits::requireRange(p.fmin, 0.0, p.sr, "features", "fmin");
  if (!(p.fmax < 0) && !(p.fmax > p.fmin && p.fmax <= 1e7))
    throw Error(code::kInvalidArgument, "features: fmax must exceed fmin (or be unset)");
  limits::requireRange(p.melPowerExp, 1e-6, 1e6, "features", "power");
  limits::requireRange(p.dbRef, 1e-300, 1e300, "features", "ref");
  if (!std::isnan(p.dbTopDb)) limits::requireRange(p.dbTopDb, -inf, 1e6, "features", "topDb");
  limits::requireRange(p.dbAmin, 1e-300, 1e300, "features", "amin");
  limits::requireRange(p.lifter, 0.0, 1e9, "features", "lifter");
  if (!std::isnan(p.tuning)) limits::requireRange(p.tuning, -0.5, 0.5, "features", "tuning");
  limits::requireRange(p.ctroct, -1e3, 1e3, "features", "ctroct");
  limits::requireRange(p.octwidth, -inf, 1e3, "features", "octwidth");
  limits::requireRange(p.chromaNorm, 0.0, inf, "features", "chromaNorm");
  limits::requireRange(p.bandwidthP, 1e-6, 1e6, "features", "bandwidthP");
  if (p.melNorm.kind == MelNorm::PNorm) limits::requireRange(p.melNorm.p, 1e-6, inf, "features", "melNorm");
  if (p.threads < 1 || p.threads > 64) throw Error(code::kInvalidArgument, "features: threads must be in [1, 64]");
  if (!(p.rollPercent > 0.0 && p.rollPercent < 1.0))
    throw Error(code::kInvalidArgument, "features: rollPercent must lie in (0, 1)");
  if (!(p.dbAmin > 0)) throw Error(code::kInvalidArgument, "features: amin must be > 0");
  if (p.frameLength < 1 || p.frameHop < 1 || p.frameLength > limits::kMaxFftSize || p.frameHop > limits::kMaxHop)
    throw Error(code::kInvalidArgument, "features: frameLength must be in [1, 65536] and frameHop in [1, 2^20]");
}

}  // namespace

#ifdef __SSE2__
namespace {
// Natural log of four positive normal floats (Cephes logf: frexp, then a degree-8 polynomial
// around 1; about 1 ulp), so power_to_db runs four values per step.
inline __m128 logPs(__m128 x) {
  const __m128i bits = _mm_castps_si128(x);
  __m128i e = _mm_sub_epi32(_mm_srli_epi32(bits, 23), _mm_set1_epi32(126));
  const __m128i mant = _mm_and_si128(bits, _mm_set1_epi32(0x007fffff));
  __m128 m = _mm_castsi128_ps(_mm_or_si128(mant, _mm_set1_epi32(0x3f000000)));
  // m in [0.5, 1): if m < sqrt(0.5) use 2m - 1 and e - 1, else m - 1
  const __m128 small = _mm_cmplt_ps(m, _mm_set1_ps(0.707106781186547524f));
  e = _mm_sub_epi32(e, _mm_and_si128(_mm_castps_si128(small), _mm_set1_epi32(1)));
  m = _mm_sub_ps(_mm_add_ps(m, _mm_and_ps(small, m)), _mm_set1_ps(1.0f));
  const __m128 ef = _mm_cvtepi32_ps(e);
  const __m128 z = _mm_mul_ps(m, m);
  __m128 y = _mm_set1_ps(7.0376836292E-2f);
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(-1.1514610310E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(1.1676998740E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(-1.2420140846E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(1.4249322787E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(-1.6668057665E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(2.0000714765E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(-2.4999993993E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, m), _mm_set1_ps(3.3333331174E-1f));
  y = _mm_mul_ps(_mm_mul_ps(y, m), z);
  y = _mm_add_ps(y, _mm_mul_ps(ef, _mm_set1_ps(-2.12194440e-4f)));
  y = _mm_sub_ps(y, _mm_mul_ps(z, _mm_set1_ps(0.5f)));
  return _mm_add_ps(_mm_add_ps(m, y), _mm_mul_ps(ef, _mm_set1_ps(0.693359375f)));
}
}  // namespace
#endif

void powerToDb(float* s, size_t count, double ref, double amin, double topDb) {
  const float aminF = static_cast<float>(amin);
  const float refDb = static_cast<float>(10.0 * std::log10(std::max(amin, std::fabs(ref))));
  float maxv = -std::numeric_limits<float>::infinity();
  size_t i = 0;
#ifdef __SSE2__
  // values are >= amin > 0; amin below the smallest normal float takes the scalar path
  if (aminF >= std::numeric_limits<float>::min()) {
    const __m128 a = _mm_set1_ps(aminF), r = _mm_set1_ps(refDb);
    const __m128 k10 = _mm_set1_ps(4.342944819032518f);  // 10 / ln(10)
    // values at the floor get exactly the scalar 10 * log10(amin) (digital silence is -100 dB)
    const float floorDbF = 10.0f * std::log10(aminF) - refDb;
    const __m128 floorDb = _mm_set1_ps(floorDbF);
#ifdef DE_HAVE_AVX2_KERNELS
    if (avx2::available()) i = avx2::powerToDb(s, count, aminF, refDb, floorDbF, &maxv);
#endif
    __m128 mx = _mm_set1_ps(maxv);
    for (; i + 3 < count; i += 4) {
      const __m128 x = _mm_loadu_ps(s + i);
      const __m128 atFloor = _mm_cmple_ps(x, a);
      const __m128 lv = _mm_sub_ps(_mm_mul_ps(k10, logPs(_mm_max_ps(a, x))), r);
      const __m128 v = _mm_or_ps(_mm_and_ps(atFloor, floorDb), _mm_andnot_ps(atFloor, lv));
      _mm_storeu_ps(s + i, v);
      mx = _mm_max_ps(mx, v);
    }
    float lanes[4];
    _mm_storeu_ps(lanes, mx);
    maxv = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
  }
#endif
  for (; i < count; ++i) {
    float v = 10.0f * std::log10(std::max(aminF, s[i]));
    v -= refDb;
    s[i] = v;
    maxv = std::max(maxv, v);
  }
  if (std::isfinite(topDb) && topDb >= 0 && count > 0) {
    const float floorDb = maxv - static_cast<float>(topDb);
    for (size_t j = 0; j < count; ++j) s[j] = std::max(s[j], floorDb);
  }
}

void piptrackFrame(const float* s, int bins, const PiptrackParams& p, std::vector<float>& pitches,
                   std::vector<float>& mags) {
  if (bins < 3) return;
  float maxv;
#ifdef DE_HAVE_AVX2_KERNELS
  if (avx2::available()) {
    maxv = avx2::maxValue(s, bins);
  } else
#endif
  {
    int k = 0;
#ifdef __SSE2__
    __m128 m4 = _mm_set1_ps(s[0]);
    for (; k + 3 < bins; k += 4) m4 = _mm_max_ps(m4, _mm_loadu_ps(s + k));
    float lanes[4];
    _mm_storeu_ps(lanes, m4);
    maxv = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
#else
    maxv = s[0];
#endif
    for (; k < bins; ++k) maxv = std::max(maxv, s[k]);
  }
  const float ref = static_cast<float>(p.threshold) * maxv;
  auto masked = [&](int k) { return s[k] > ref ? s[k] : 0.0f; };
  PiptrackParams local;
  if (p.bins != bins) {
    local = p;
    piptrackBins(local, bins);
  }
  const PiptrackParams& q = p.bins == bins ? p : local;
  const int nFftEff = 2 * (bins - 1);
  const int kLo = q.kLo, kHi = q.kHi;
  auto isPeak = [&](int k) {
    const float m = masked(k);
    if (!(m > 0.0f)) return false;  // a zero can never be a strict local maximum
    if (k == bins - 1) return m > masked(k - 1);
    return m > masked(k - 1) && m >= masked(k + 1);
  };
  auto emitPeak = [&](int k) {
    float shift = 0.0f, grad;
    if (k == bins - 1) {
      grad = s[k] - s[k - 1];
    } else {
      const double a = static_cast<double>(s[k + 1] + s[k - 1]) - 2.0 * s[k];
      const double b = static_cast<double>(s[k + 1] - s[k - 1]) / 2.0;
      shift = std::fabs(b) >= std::fabs(a) ? 0.0f : static_cast<float>(-b / a);
      grad = (s[k + 1] - s[k - 1]) / 2.0f;
    }
    const float dskew = 0.5f * grad * shift;
    pitches.push_back(static_cast<float>((k + static_cast<double>(shift)) * p.sr / nFftEff));
    mags.push_back(s[k] + dskew);
  };
  int peaks[64];
  int k = kLo;
  while (k < kHi) {
    // candidates in chunks: the peak test runs vectorised where AVX2 is available
    int cnt = 0;
    const int chunkEnd = std::min(kHi, k + 56);
#ifdef DE_HAVE_AVX2_KERNELS
    if (avx2::available() && chunkEnd < bins) {
      cnt = avx2::localMaxima(s, k, chunkEnd, ref, peaks);
    } else
#endif
    {
      for (int j = k; j < chunkEnd; ++j)
        if (isPeak(j)) peaks[cnt++] = j;
    }
    k = chunkEnd;
    for (int i = 0; i < cnt; ++i) emitPeak(peaks[i]);
  }
}

void piptrackBins(PiptrackParams& p, int bins) {
  const double fmin = std::max(p.fmin, 0.0);
  const double fmax = std::min(p.fmax, p.sr / 2.0);
  // librosa's estimate_tuning hands piptrack the spectrogram with n_fft=2048, which its
  // _spectrogram replaces by 2 * (bins - 1): for odd FFT sizes the bin frequencies it uses are
  // k * sr / (nFft - 1), not k * sr / nFft
  const int nFftEff = 2 * (bins - 1);
  const double binHz = 1.0 / (nFftEff * (1.0 / p.sr));
  // the frequency mask fmin <= f < fmax is a contiguous bin range
  int kLo = 1;
  while (kLo < bins && !(fmin <= kLo * binHz)) ++kLo;
  int kHi = kLo;
  while (kHi < bins && kHi * binHz < fmax) ++kHi;
  p.bins = bins;
  p.kLo = kLo;
  p.kHi = kHi;
}

double estimateTuning(const std::vector<float>& pitches, const std::vector<float>& mags, double resolution,
                      int binsPerOctave) {
  std::vector<float> pos;
  for (size_t i = 0; i < pitches.size(); ++i)
    if (pitches[i] > 0) pos.push_back(mags[i]);
  float threshold = 0.0f;
  if (!pos.empty()) threshold = medianF(pos);
  const int nBins = static_cast<int>(std::ceil(1.0 / resolution));
  std::vector<double> edges(static_cast<size_t>(nBins) + 1);
  const double step = 1.0 / nBins;
  for (int i = 0; i <= nBins; ++i) edges[i] = i * step + -0.5;
  edges[nBins] = 0.5;
  std::vector<int64_t> counts(static_cast<size_t>(nBins), 0);
  bool any = false;
  const float bpo = static_cast<float>(binsPerOctave);
  for (size_t i = 0; i < pitches.size(); ++i) {
    const float f = pitches[i];
    if (!(f > 0) || !(mags[i] >= threshold)) continue;
    float octs = std::log2(f / 27.5f);
    float r = std::fmod(bpo * octs, 1.0f);
    if (r < 0) r += 1.0f;
    if (r >= 0.5f) r -= 1.0f;
    const double v = r;
    if (v < edges[0] || v > edges[nBins]) continue;
    int j = static_cast<int>((v - edges[0]) * nBins / (edges[nBins] - edges[0]));
    if (j >= nBins) j = nBins - 1;
    if (j > 0 && v < edges[j]) --j;
    if (j < nBins - 1 && v >= edges[j + 1]) ++j;
    ++counts[j];
    any = true;
  }
  if (!any) return 0.0;
  const size_t best = static_cast<size_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  return edges[best];
}

std::vector<float> zeroCrossingRate(const float* x, int64_t n, int frameLength, int hop, bool center, double threshold,
                                    bool zeroPos) {
  if (n <= 0) return {};
  const int64_t half = center ? frameLength / 2 : 0;
  const int64_t np = n + 2 * half;
  if (np < frameLength) return {};
  const int64_t frames = 1 + (np - frameLength) / hop;
  const float th = static_cast<float>(threshold);
  // Sign class after thresholding (|v| <= th becomes 0): with zeroPos only "negative" matters
  // (zero counts as positive); otherwise -1 / 0 / +1.
  auto cls = [&](float v) -> int {
    if (zeroPos) return v < -th;
    return (v > th) - (v < -th);
  };
  auto clsAt = [&](int64_t i) { return cls(x[padIndex(i - half, n, PadMode::Edge)]); };
  // crossing indicator between padded samples i-1 and i, for i in [lo, hi): fast in the interior
  auto countRange = [&](int64_t lo, int64_t hi) -> int64_t {
    int64_t c = 0;
    int64_t i = lo;
    const int64_t intLo = std::max<int64_t>(lo, half + 1), intHi = std::min<int64_t>(hi, half + n);
    for (; i < std::min(hi, intLo); ++i) c += clsAt(i) != clsAt(i - 1);
    if (intLo < intHi) {
      const float* p = x + (intLo - half);
      const int64_t m = intHi - intLo;
      if (zeroPos) {
        const float nth = -th;
        int64_t acc = 0;
        for (int64_t j = 0; j < m; ++j) acc += (p[j] < nth) != (p[j - 1] < nth);
        c += acc;
      } else {
        for (int64_t j = 0; j < m; ++j) c += cls(p[j]) != cls(p[j - 1]);
      }
      i = intHi;
    }
    for (; i < hi; ++i) c += clsAt(i) != clsAt(i - 1);
    return c;
  };
  std::vector<float> out(static_cast<size_t>(frames));
  // frame t counts crossings at i in [t*hop + 1, t*hop + L - 1]
  if (frameLength % hop == 0) {
    const int64_t per = frameLength / hop;
    const int64_t blocks = frames + per - 1;
    std::vector<int32_t> cb(static_cast<size_t>(blocks));  // block b: i in [b*hop + 1, (b+1)*hop + 1)
    for (int64_t b = 0; b < blocks; ++b) {
      cb[b] = static_cast<int32_t>(countRange(b * hop + 1, std::min<int64_t>((b + 1) * hop + 1, np)));
    }
    for (int64_t t = 0; t < frames; ++t) {
      int64_t c = 0;
      for (int64_t b = 0; b < per; ++b) c += cb[t + b];
      const int64_t last = t * hop + frameLength;  // counted by the last block but outside the frame
      if (last < np) c -= clsAt(last) != clsAt(last - 1);
      out[t] = static_cast<float>(static_cast<double>(c) / frameLength);
    }
    return out;
  }
  for (int64_t t = 0; t < frames; ++t)
    out[t] = static_cast<float>(static_cast<double>(countRange(t * hop + 1, t * hop + frameLength)) / frameLength);
  return out;
}

std::vector<float> rmsFrames(const float* x, int64_t n, int frameLength, int hop, bool center, PadMode pad) {
  if (n <= 0) return {};
  const int64_t half = center ? frameLength / 2 : 0;
  const int64_t np = n + 2 * half;
  if (np < frameLength) return {};
  const int64_t frames = 1 + (np - frameLength) / hop;
  auto sq = [&](int64_t i) -> double {  // padded index
    const int64_t j = i - half;
    const int64_t k = (j >= 0 && j < n) ? j : padIndex(j, n, pad);
    if (k < 0) return 0.0;
    const double v = x[k];
    return v * v;
  };
  std::vector<float> out(static_cast<size_t>(frames));
  if (frameLength % hop == 0) {
    const int64_t per = frameLength / hop;
    const int64_t blocks = frames + per - 1;
    std::vector<double> bs(static_cast<size_t>(blocks));
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t s = b * hop;
      double acc = 0.0;
      if (s - half >= 0 && s - half + hop <= n) {
        const float* p = x + (s - half);
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
        int i = 0;
        for (; i + 3 < hop; i += 4) {
          a0 += static_cast<double>(p[i]) * p[i];
          a1 += static_cast<double>(p[i + 1]) * p[i + 1];
          a2 += static_cast<double>(p[i + 2]) * p[i + 2];
          a3 += static_cast<double>(p[i + 3]) * p[i + 3];
        }
        for (; i < hop; ++i) a0 += static_cast<double>(p[i]) * p[i];
        acc = (a0 + a1) + (a2 + a3);
      } else {
        for (int i = 0; i < hop; ++i) acc += sq(s + i);
      }
      bs[b] = acc;
    }
    for (int64_t t = 0; t < frames; ++t) {
      double acc = 0.0;
      for (int64_t b = 0; b < per; ++b) acc += bs[t + b];
      out[t] = static_cast<float>(std::sqrt(acc / frameLength));
    }
  } else {
    for (int64_t t = 0; t < frames; ++t) {
      double acc = 0.0;
      for (int64_t i = 0; i < frameLength; ++i) acc += sq(t * hop + i);
      out[t] = static_cast<float>(std::sqrt(acc / frameLength));
    }
  }
  return out;
}

namespace {

// What every spectral feature shares: one STFT plan, the filterbanks, and the buffers the frame
// ranges write into. Chroma needs the tuning, which librosa estimates from every frame: short
// inputs keep their power frames for a second chroma pass (storePower); longer ones run a
// tuning-only pre-pass over the frames instead (same frames, same numbers) and then compute chroma
// inline, so memory stays flat.
struct SpectralPass {
  SpectralPass(const float* x_, int64_t n_, const FeatureParams& p_, const CancelToken* cancel_)
      : x(x_),
        n(n_),
        p(p_),
        cancel(cancel_),
        bins(p_.stft.nFft / 2 + 1),
        T(stftFrameCount(n_, p_.stft)),
        needMel(p_.melPower || p_.melDb || p_.mfcc || static_cast<bool>(p_.onMelDb)),
        estimate(p_.chroma && std::isnan(p_.tuning)),
        storePower(estimate &&
                   static_cast<double>(T) * bins * sizeof(float) <= static_cast<double>(p_.maxStoredPowerBytes)),
        nThreads(rangeThreads(T, p_.threads)),
        freqs(fftFrequencies(p_.sr, p_.stft.nFft)),
        pp{p_.sr, p_.stft.nFft} {}

  const float* x;
  int64_t n;
  const FeatureParams& p;
  const CancelToken* cancel;
  int bins;
  int64_t T;
  bool needMel;
  bool estimate;    // chroma with an estimated tuning (librosa.estimate_tuning)
  bool storePower;  // ... estimated from stored power frames, then a second chroma pass
  int nThreads;
  std::vector<double> freqs;
  PiptrackParams pp;
  SparseRows melFb;
  std::unique_ptr<DenseBlocked> chromaFb;
  BigBuffer powerFrames;  // [T][bins] when storePower (not zero-filled: the frame pass writes it)
  BigBuffer mel;          // [nMels][T] (not zero-filled: the frame pass writes every element)
  size_t melSize = 0;
};

// Pitch candidates found per thread range, concatenated in frame order, so the result is
// identical for any thread count.
void appendCandidates(std::vector<std::vector<float>>& tp, std::vector<std::vector<float>>& tm,
                      std::vector<float>& pitches, std::vector<float>& pitchMags) {
  for (size_t i = 0; i < tp.size(); ++i) {
    pitches.insert(pitches.end(), tp[i].begin(), tp[i].end());
    pitchMags.insert(pitchMags.end(), tm[i].begin(), tm[i].end());
  }
}

// librosa.estimate_tuning's piptrack over every power frame, without computing any feature (the
// pre-pass for inputs too long to keep their power frames).
void tuningPrepass(const SpectralPass& s, std::vector<float>& pitches, std::vector<float>& pitchMags) {
  const int bins = s.bins;
  std::vector<std::vector<float>> tp(s.nThreads), tm(s.nThreads);
  forRanges(s.T, s.nThreads, [&](int64_t t0, int64_t t1, int i) {
    StftFramer framer(s.p.stft);
    std::vector<std::complex<float>> spec4(framer.packed() ? 0 : static_cast<size_t>(4) * bins);
    std::vector<float> mag(bins), pw(bins);
    for (int64_t t = t0; t < t1; t += 4) {
      if (((t - t0) & 127) == 0 && s.cancel) s.cancel->throwIfRequested("features");
      const int cnt = static_cast<int>(std::min<int64_t>(4, t1 - t));
      if (!framer.packed()) framer.frames(s.x, s.n, t, cnt, spec4.data());
      for (int j = 0; j < cnt; ++j) {
        if (framer.packed()) magnitudesPacked(framer.packedFrame(s.x, s.n, t + j), bins, mag.data(), pw.data());
        else magnitudes(spec4.data() + static_cast<size_t>(j) * bins, bins, mag.data(), pw.data());
        piptrackFrame(pw.data(), bins, s.pp, tp[i], tm[i]);
      }
    }
  });
  appendCandidates(tp, tm, pitches, pitchMags);
}

// librosa.filters.chroma for the tuning, and the zeroed chroma matrix.
void buildChromaFilterbank(SpectralPass& s, FeatureSet& out, double tuning) {
  const FeatureParams& p = s.p;
  out.tuning = tuning;
  const std::vector<float> dense =
      chromaFilterbank(p.sr, p.stft.nFft, p.nChroma, tuning, p.ctroct, p.octwidth, p.chromaBaseC);
  s.chromaFb = std::make_unique<DenseBlocked>(DenseBlocked::fromDense(dense, p.nChroma, s.bins));
  out.nChroma = p.nChroma;
  out.chroma.assign(static_cast<size_t>(p.nChroma) * s.T, 0.0f);
}

// chroma_stft's per-frame normalisation (librosa.util.normalize over the chroma axis) of the raw
// filterbank output r, written to frame t of the [nChroma][T] matrix.
void normalizeChromaFrame(const FeatureParams& p, int64_t T, int64_t t, const float* r, std::vector<float>& chroma) {
  double len = 1.0;
  if (p.chromaNorm > 0) {
    len = 0.0;
    if (std::isinf(p.chromaNorm)) {
      for (int c = 0; c < p.nChroma; ++c) len = std::max(len, static_cast<double>(std::fabs(r[c])));
    } else {
      for (int c = 0; c < p.nChroma; ++c) len += std::pow(std::fabs(static_cast<double>(r[c])), p.chromaNorm);
      len = std::pow(len, 1.0 / p.chromaNorm);
    }
    if (len < kTinyF) len = 1.0;
  }
  for (int c = 0; c < p.nChroma; ++c) chroma[static_cast<size_t>(c) * T + t] = static_cast<float>(r[c] / len);
}

// The magnitude sums of spectral_centroid: total = sum mag, wsum = sum freqs * mag.
void spectralSums(const float* mag, int bins, const double* freqs, double& total, double& wsum) {
  int k = 0;
#ifdef __SSE2__
  __m128d ta = _mm_setzero_pd(), tb = _mm_setzero_pd(), wa = _mm_setzero_pd(), wb = _mm_setzero_pd();
  for (; k + 3 < bins; k += 4) {
    const __m128 m4 = _mm_loadu_ps(mag + k);
    const __m128d lo = _mm_cvtps_pd(m4), hi = _mm_cvtps_pd(_mm_movehl_ps(m4, m4));
    ta = _mm_add_pd(ta, lo);
    tb = _mm_add_pd(tb, hi);
    wa = _mm_add_pd(wa, _mm_mul_pd(_mm_loadu_pd(freqs + k), lo));
    wb = _mm_add_pd(wb, _mm_mul_pd(_mm_loadu_pd(freqs + k + 2), hi));
  }
  double tl[2], wl[2];
  _mm_storeu_pd(tl, _mm_add_pd(ta, tb));
  _mm_storeu_pd(wl, _mm_add_pd(wa, wb));
  total = tl[0] + tl[1];
  wsum = wl[0] + wl[1];
#endif
  for (; k < bins; ++k) {
    total += mag[k];
    wsum += freqs[k] * mag[k];
  }
}

// librosa.feature.spectral_bandwidth of one magnitude frame around its centroid c, with the
// centroid's normaliser len. avx2Sums: the frame's sums came from the AVX2 kernel, whose lane order
// the p = 2 sum then keeps.
float spectralBandwidthFrame(const float* mag, int bins, const double* freqs, double c, double len,
                             const FeatureParams& p, [[maybe_unused]] bool avx2Sums) {
  const double norm = p.bandwidthNorm ? len : 1.0;
  double acc = 0.0;
  if (p.bandwidthP == 2.0 && avx2Sums) {
#ifdef DE_HAVE_AVX2_KERNELS
    acc = avx2::bandwidthSum2(mag, bins, freqs, c);
#endif
  } else if (p.bandwidthP == 2.0) {
    int k2 = 0;
#ifdef __SSE2__
    {
      const __m128d cv = _mm_set1_pd(c);
      __m128d aa = _mm_setzero_pd(), ab = _mm_setzero_pd();
      for (; k2 + 3 < bins; k2 += 4) {
        const __m128 m4 = _mm_loadu_ps(mag + k2);
        const __m128d lo = _mm_cvtps_pd(m4), hi = _mm_cvtps_pd(_mm_movehl_ps(m4, m4));
        const __m128d d0 = _mm_sub_pd(_mm_loadu_pd(freqs + k2), cv);
        const __m128d d1 = _mm_sub_pd(_mm_loadu_pd(freqs + k2 + 2), cv);
        aa = _mm_add_pd(aa, _mm_mul_pd(lo, _mm_mul_pd(d0, d0)));
        ab = _mm_add_pd(ab, _mm_mul_pd(hi, _mm_mul_pd(d1, d1)));
      }
      double al[2];
      _mm_storeu_pd(al, _mm_add_pd(aa, ab));
      acc = al[0] + al[1];
    }
#endif
    for (; k2 < bins; ++k2) {
      const double d = freqs[k2] - c;
      acc += mag[k2] * d * d;
    }
  } else {
    for (int k = 0; k < bins; ++k) acc += mag[k] * std::pow(std::fabs(freqs[k] - c), p.bandwidthP);
  }
  return static_cast<float>(std::pow(acc / norm, 1.0 / p.bandwidthP));
}

// librosa.feature.spectral_centroid, spectral_bandwidth and spectral_rolloff of frame t's
// magnitudes. blockSums: scratch for the roll-off's block sums.
void spectralShapeFrame(const SpectralPass& s, FeatureSet& out, int64_t t, const float* mag,
                        std::vector<double>& blockSums, [[maybe_unused]] bool useAvx2) {
  const FeatureParams& p = s.p;
  const int bins = s.bins;
  const double* rollBlocks = nullptr;
  double total = 0.0, wsum = 0.0;
#ifdef DE_HAVE_AVX2_KERNELS
  if (useAvx2 && (p.centroid || p.bandwidth || p.rolloff)) {
    // one pass gives the centroid sums and the roll-off's block sums
    avx2::spectralSums(mag, bins, s.freqs.data(), &total, &wsum, blockSums.data());
    rollBlocks = blockSums.data();
  }
#endif
  if (p.centroid || p.bandwidth) {
    if (!rollBlocks) spectralSums(mag, bins, s.freqs.data(), total, wsum);
    const double len = total < kTinyF ? 1.0 : total;
    const double c = wsum / len;
    if (p.centroid) out.centroid[t] = static_cast<float>(c);
    if (p.bandwidth)
      out.bandwidth[t] = spectralBandwidthFrame(mag, bins, s.freqs.data(), c, len, p, rollBlocks != nullptr);
  }
  if (p.rolloff) out.rolloff[t] = static_cast<float>(rolloffFrame(mag, bins, s.freqs, p.rollPercent, rollBlocks));
}

// librosa.feature.melspectrogram's filterbank product over one frame range: four frames' inputs
// at a time through the sparse bank, into tiles of kTile frames that are then written to the
// [nMels][T] matrix, so each row's page is touched once per tile. Ranges start at multiples of 4.
class MelRange {
 public:
  MelRange(SpectralPass& s, int64_t t0) : s_(s), tileStart_(t0), tile_(static_cast<size_t>(kTile) * s.p.nMels) {
    if (s.p.melPowerExp != 2.0 && s.p.melPowerExp != 1.0) powIn_.resize(static_cast<size_t>(4) * s.bins);
  }

  // Frame t (slot t % 4 of its batch) with magnitudes mag and power pw; t1 ends the range.
  void add(int64_t t, int slot, const float* mag, const float* pw, int64_t t1) {
    const double e = s_.p.melPowerExp;
    const float* in = pw;
    if (e == 1.0) {
      in = mag;
    } else if (e != 2.0) {
      float* mi = powIn_.data() + static_cast<size_t>(slot) * s_.bins;
      for (int k = 0; k < s_.bins; ++k) mi[k] = std::pow(mag[k], static_cast<float>(e));
      in = mi;
    }
    src_[slot] = in;
    if (slot == 3 || t + 1 == t1) {
      const int64_t tb = t - slot;  // batches start at multiples of 4, as tiles do
      s_.melFb.applyFrames(src_, slot + 1, tile_.data() + static_cast<size_t>(tb - tileStart_) * s_.p.nMels);
      if (t + 1 - tileStart_ == kTile) flush(t + 1);
    }
  }

  // Writes the frames of the last, partial tile.
  void finish(int64_t t1) {
    if (tileStart_ < t1) flush(t1);
  }

 private:
  static constexpr int kTile = 16;

  void flush(int64_t tEnd) {
    const int64_t cnt = tEnd - tileStart_;
    const int nMels = s_.p.nMels;
    for (int m = 0; m < nMels; ++m) {
      float* dst = s_.mel.get() + static_cast<size_t>(m) * s_.T + tileStart_;
      for (int64_t j = 0; j < cnt; ++j) dst[j] = tile_[static_cast<size_t>(j) * nMels + m];
    }
    tileStart_ = tEnd;
  }

  SpectralPass& s_;
  int64_t tileStart_;
  std::vector<float> tile_;
  std::vector<float> powIn_;  // mag ** power for powers other than 1 and 2
  const float* src_[4] = {};
};

// The shared STFT pass over frames [t0, t1) with private buffers; writes only its own frames'
// outputs (mel, the spectral shape, chroma or its stored power frames). Pitch candidates for the
// estimated tuning go to pitches/pitchMags. t0 is a multiple of 4.
void spectralRange(SpectralPass& s, FeatureSet& out, int64_t t0, int64_t t1, std::vector<float>& pitches,
                   std::vector<float>& pitchMags) {
  const FeatureParams& p = s.p;
  const int bins = s.bins;
  StftFramer framer(p.stft);
  std::vector<std::complex<float>> spec4(framer.packed() ? 0 : static_cast<size_t>(4) * bins);
  // four frames' spectra are kept so the mel bank runs on four frames at once
  std::vector<float> mag4(static_cast<size_t>(4) * bins), pw4(static_cast<size_t>(4) * bins);
  std::vector<float> raw(static_cast<size_t>(p.nChroma));
  const bool useAvx2 = avx2::available();
  std::vector<double> blockSums(static_cast<size_t>((bins + kRolloffBlock - 1) / kRolloffBlock));
  std::optional<MelRange> mel;
  if (s.needMel) mel.emplace(s, t0);
  for (int64_t t = t0; t < t1; ++t) {
    if (((t - t0) & 127) == 0 && s.cancel) s.cancel->throwIfRequested("features");
    const int slot = static_cast<int>((t - t0) & 3);
    float* magt = mag4.data() + static_cast<size_t>(slot) * bins;
    // stored power frames are written in place (no copy)
    float* pwt = s.storePower ? s.powerFrames.get() + static_cast<size_t>(t) * bins
                              : pw4.data() + static_cast<size_t>(slot) * bins;
    if (framer.packed()) {
      magnitudesPacked(framer.packedFrame(s.x, s.n, t), bins, magt, pwt);
    } else {
      if (slot == 0) framer.frames(s.x, s.n, t, static_cast<int>(std::min<int64_t>(4, t1 - t)), spec4.data());
      magnitudes(spec4.data() + static_cast<size_t>(slot) * bins, bins, magt, pwt);
    }
    if (mel) mel->add(t, slot, magt, pwt, t1);
    spectralShapeFrame(s, out, t, magt, blockSums, useAvx2);
    if (s.storePower) {
      piptrackFrame(pwt, bins, s.pp, pitches, pitchMags);
    } else if (p.chroma) {
      s.chromaFb->apply(pwt, raw.data());
      normalizeChromaFrame(p, s.T, t, raw.data(), out.chroma);
    }
  }
  if (mel) mel->finish(t1);
}

// librosa.feature.mfcc from the dB mel matrix db [nMels][T]: scipy's orthonormal DCT-II, then the
// lifter. float32 products and sums (scipy's dct runs in float32 too), vectorised along frames;
// frames go in blocks whose dB rows (nMels x 1024 floats) stay in L2 for every coefficient.
void mfccFromMelDb(const float* db, const FeatureParams& p, int64_t T, FeatureSet& out) {
  const std::vector<double> dct = dctOrthoMatrix(p.nMfcc, p.nMels);
  out.nMfcc = p.nMfcc;
  out.mfcc.assign(static_cast<size_t>(p.nMfcc) * T, 0.0f);
  constexpr int64_t kBlock = 1024;
  std::vector<float> acc(static_cast<size_t>(std::min<int64_t>(T, kBlock)));
  [[maybe_unused]] const bool useAvx2 = avx2::available();
  for (int64_t tb = 0; tb < T; tb += kBlock) {
    const int64_t cnt = std::min<int64_t>(kBlock, T - tb);
    for (int k = 0; k < p.nMfcc; ++k) {
      float* a = acc.data();
      std::fill(a, a + cnt, 0.0f);
      for (int m = 0; m < p.nMels; ++m) {
        const float c = static_cast<float>(dct[static_cast<size_t>(k) * p.nMels + m]);
        const float* row = db + static_cast<size_t>(m) * T + tb;
#ifdef DE_HAVE_AVX2_KERNELS
        if (useAvx2) {
          avx2::axpy(a, row, c, cnt);
          continue;
        }
#endif
        for (int64_t t = 0; t < cnt; ++t) a[t] += c * row[t];
      }
      double lift = 1.0;
      if (p.lifter > 0) lift = 1.0 + (p.lifter / 2.0) * std::sin(M_PI * (k + 1) / p.lifter);
      float* dst = out.mfcc.data() + static_cast<size_t>(k) * T + tb;
      for (int64_t t = 0; t < cnt; ++t) dst[t] = static_cast<float>(a[t] * lift);
    }
  }
}

// The outputs of the mel matrix: the power copy, then power_to_db in place (handed to onMelDb),
// mfcc from it, and the dB copy.
void melOutputs(SpectralPass& s, FeatureSet& out) {
  const FeatureParams& p = s.p;
  float* mel = s.mel.get();
  if (p.melPower) out.melPower.assign(mel, mel + s.melSize);
  if (!(p.melDb || p.mfcc || p.onMelDb)) return;
  float* db = mel;  // converted in place
  powerToDb(db, s.melSize, p.dbRef, p.dbAmin, std::isnan(p.dbTopDb) ? -1.0 : p.dbTopDb);
  if (p.onMelDb) p.onMelDb(db, p.nMels, s.T);
  if (p.mfcc) mfccFromMelDb(db, p, s.T, out);
  if (p.melDb) out.melDb.assign(db, db + s.melSize);
}

// chroma_stft over the stored power frames, once the tuning is estimated from all of them: the
// filterbank in the batch its fastest kernel takes, on two threads for long inputs.
void chromaFromStoredPower(SpectralPass& s, FeatureSet& out) {
  const FeatureParams& p = s.p;
  const int bins = s.bins;
  const DenseBlocked& fb = *s.chromaFb;
  auto chromaRange = [&](int64_t t0, int64_t t1) {
    const int batch = fb.batch();
    std::vector<float> raw(static_cast<size_t>(batch) * p.nChroma);
    // the hardware prefetcher alone leaves this pass waiting on memory; frames about a dozen
    // ahead are requested explicitly
    const int64_t ahead0 = 12 / batch * batch;
    int64_t step = 0;
    for (int64_t t = t0; t < t1; t += batch, ++step) {
      if ((step & 63) == 0 && s.cancel) s.cancel->throwIfRequested("features");
      const int cnt = static_cast<int>(std::min<int64_t>(batch, t1 - t));
      const float* f0 = s.powerFrames.get() + static_cast<size_t>(t) * bins;
      const float* ahead = t + ahead0 + batch <= t1 ? f0 + static_cast<size_t>(ahead0) * bins : nullptr;
      fb.applyFrames(f0, static_cast<size_t>(bins), cnt, raw.data(), ahead);
      for (int j = 0; j < cnt; ++j)
        normalizeChromaFrame(p, s.T, t + j, raw.data() + static_cast<size_t>(j) * p.nChroma, out.chroma);
    }
  };
  const int64_t T = s.T;
  if (p.threads > 1 && T >= 512) {
    std::exception_ptr err;
    std::thread helper([&] {
      try {
        chromaRange(0, T / 2);
      } catch (...) {
        err = std::current_exception();
      }
    });
    chromaRange(T / 2, T);
    helper.join();
    if (err) std::rethrow_exception(err);
  } else {
    chromaRange(0, T);
  }
}

// Every STFT-based feature from one STFT pass (two with chroma's tuning pre-pass).
void spectralFeatures(const float* x, int64_t n, const FeatureParams& p, const CancelToken* cancel, FeatureSet& out) {
  SpectralPass s(x, n, p, cancel);
  const int64_t T = s.T;
  out.frames = T;
  // every per-frame matrix at once (mel is kept for dB/MFCC/onset), before anything is allocated
  limits::checkAlloc(static_cast<double>(T) * (p.nMels * (s.needMel ? 2.0 : 0.0) + (p.mfcc ? p.nMfcc : 0) +
                                               (p.chroma ? p.nChroma : 0) + 3.0),
                     sizeof(float), "features", "the feature matrices");
  if (s.needMel) {
    const double fmax = p.fmax < 0 ? p.sr / 2.0 : p.fmax;
    s.melFb = SparseRows::fromDense(melFilterbank(p.sr, p.stft.nFft, p.nMels, p.fmin, fmax, p.htk, p.melNorm), p.nMels,
                                    s.bins);
    out.nMels = p.nMels;
  }
  piptrackBins(s.pp, s.bins);
  std::vector<float> pitches, pitchMags;
  if (s.estimate && !s.storePower) tuningPrepass(s, pitches, pitchMags);
  if (p.chroma && !s.storePower) {
    if (cancel) cancel->throwIfRequested("features");
    buildChromaFilterbank(s, out, s.estimate ? estimateTuning(pitches, pitchMags, 0.01, p.nChroma) : p.tuning);
  }
  if (s.storePower) s.powerFrames.allocate(static_cast<size_t>(T) * s.bins);
  if (s.needMel) {
    s.melSize = static_cast<size_t>(p.nMels) * T;
    s.mel.allocate(s.melSize);
  }
  if (p.centroid) out.centroid.resize(T);
  if (p.bandwidth) out.bandwidth.resize(T);
  if (p.rolloff) out.rolloff.resize(T);
  {
    std::vector<std::vector<float>> tp(s.nThreads), tm(s.nThreads);
    forRanges(T, s.nThreads, [&](int64_t a, int64_t b, int i) { spectralRange(s, out, a, b, tp[i], tm[i]); });
    appendCandidates(tp, tm, pitches, pitchMags);
  }
  if (s.needMel) melOutputs(s, out);
  if (s.storePower) {
    if (cancel) cancel->throwIfRequested("features");
    buildChromaFilterbank(s, out, estimateTuning(pitches, pitchMags, 0.01, p.nChroma));
    chromaFromStoredPower(s, out);
  }
}

}  // namespace

FeatureSet computeFeatures(const float* x, int64_t n, const FeatureParams& p, const CancelToken* cancel) {
  validateFeatureParams(p);
  requireFinite(x, n, "features");
  FeatureSet out;
  const bool needMel = p.melPower || p.melDb || p.mfcc || static_cast<bool>(p.onMelDb);
  if (needMel || p.chroma || p.centroid || p.bandwidth || p.rolloff) spectralFeatures(x, n, p, cancel, out);
  if (p.zcr) {
    out.zcr = zeroCrossingRate(x, n, p.frameLength, p.frameHop, p.frameCenter, p.zcrThreshold, p.zcrZeroPos);
    out.frameFrames = static_cast<int64_t>(out.zcr.size());
  }
  if (p.rms) {
    out.rms = rmsFrames(x, n, p.frameLength, p.frameHop, p.frameCenter, PadMode::Constant);
    out.frameFrames = static_cast<int64_t>(out.rms.size());
  }
  return out;
}

}  // namespace de::dsp
