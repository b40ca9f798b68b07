// madmom's LOG_SPECT chain for BeatNet (see log_spect.h). The 1411-point DFT is odd-sized, which
// kissfft handles with slow generic radix-83 passes, so it runs as a prime-factor DFT (1411 =
// 17 x 83, eight frames at once), or, for a frame size without two coprime factors, as a Bluestein
// convolution on a power-of-two PFFFT complex transform with two real frames packed into one input.
#include "beat/log_spect.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/error.h"
#include "dsp/avx2.h"
#include "dsp/fft.h"

#ifdef DE_HAVE_AVX2_KERNELS
#include <immintrin.h>
#endif

namespace de::beat {
namespace {

constexpr double kPi = 3.14159265358979323846;

// numpy.hanning(m): symmetric Hann.
std::vector<double> hanning(int m) {
  std::vector<double> w(static_cast<size_t>(m), 1.0);
  if (m == 1) return w;
  for (int i = 0; i < m; ++i) w[i] = 0.5 - 0.5 * std::cos(2.0 * kPi * i / (m - 1));
  return w;
}

// Magnitudes of bins [0, numBins) of the N-point DFT of real frames.
class FrameDft {
 public:
  FrameDft(int n, int numBins) : n_(n), numBins_(numBins) {
    int m = 1;
    while (m < 2 * n - 1) m <<= 1;
    if (dsp::PffftComplex::supported(m)) {
      try {
        pffft_ = std::make_unique<dsp::PffftComplex>(m);
      } catch (const Error&) {
        pffft_.reset();
      }
    }
    if (pffft_) {
      m_ = m;
      in_ = dsp::PffftReal::alignedAlloc(2 * static_cast<size_t>(m));
      spec_ = dsp::PffftReal::alignedAlloc(2 * static_cast<size_t>(m));
      acc_ = dsp::PffftReal::alignedAlloc(2 * static_cast<size_t>(m));
      chirpSpec_ = dsp::PffftReal::alignedAlloc(2 * static_cast<size_t>(m));
      std::fill(in_, in_ + 2 * m, 0.0f);
      chirp_.resize(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        // n^2 mod 2N keeps the angle exact for long transforms.
        const int64_t q = (static_cast<int64_t>(i) * i) % (2 * static_cast<int64_t>(n));
        const double a = -kPi * static_cast<double>(q) / n;
        chirp_[i] = {std::cos(a), std::sin(a)};
      }
      // b_m = conj(w_|m|), circularly wrapped.
      for (int i = 0; i < n; ++i) {
        const std::complex<double> b = std::conj(chirp_[i]);
        in_[2 * i] = static_cast<float>(b.real());
        in_[2 * i + 1] = static_cast<float>(b.imag());
        if (i > 0) {
          in_[2 * (m - i)] = static_cast<float>(b.real());
          in_[2 * (m - i) + 1] = static_cast<float>(b.imag());
        }
      }
      pffft_->forward(in_, chirpSpec_);
      std::fill(in_, in_ + 2 * m, 0.0f);
      zr_.resize(static_cast<size_t>(n));
      zi_.resize(static_cast<size_t>(n));
      chirpF_.resize(2 * static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        chirpF_[2 * i] = static_cast<float>(chirp_[i].real());
        chirpF_[2 * i + 1] = static_cast<float>(chirp_[i].imag());
      }
    } else {
      fft_ = std::make_unique<dsp::RealFft>(n);
      bins_.resize(static_cast<size_t>(fft_->bins()));
    }
  }
  ~FrameDft() {
    if (in_) dsp::PffftReal::alignedFree(in_);
    if (spec_) dsp::PffftReal::alignedFree(spec_);
    if (acc_) dsp::PffftReal::alignedFree(acc_);
    if (chirpSpec_) dsp::PffftReal::alignedFree(chirpSpec_);
  }
  FrameDft(const FrameDft&) = delete;
  FrameDft& operator=(const FrameDft&) = delete;

  // Windowed frames a (and b, may be null) -> magnitudes magA / magB.
  void magnitudes(const float* a, const float* b, float* magA, float* magB) {
    if (!pffft_) {
      fft_->forward(a, bins_.data());
      for (int k = 0; k < numBins_; ++k) magA[k] = std::abs(bins_[k]);
      if (b) {
        fft_->forward(b, bins_.data());
        for (int k = 0; k < numBins_; ++k) magB[k] = std::abs(bins_[k]);
      }
      return;
    }
    // Plain arithmetic: std::complex's operator* and abs go through __mulsc3 / hypot (slow).
    for (int i = 0; i < n_; ++i) {
      const float xr = a[i], xi = b ? b[i] : 0.0f;
      const float wr = chirpF_[2 * i], wi = chirpF_[2 * i + 1];
      in_[2 * i] = xr * wr - xi * wi;
      in_[2 * i + 1] = xr * wi + xi * wr;
    }
    pffft_->forward(in_, spec_);
    pffft_->convolve(spec_, chirpSpec_, acc_, 1.0f / static_cast<float>(m_));
    pffft_->backward(acc_, spec_);
    for (int k = 0; k < n_; ++k) {
      const double sr = spec_[2 * k], si = spec_[2 * k + 1];
      const double cr = chirp_[k].real(), ci = chirp_[k].imag();
      zr_[k] = sr * cr - si * ci;
      zi_[k] = sr * ci + si * cr;
    }
    if (!b) {
      for (int k = 0; k < numBins_; ++k) magA[k] = static_cast<float>(std::sqrt(zr_[k] * zr_[k] + zi_[k] * zi_[k]));
      return;
    }
    // Two real frames packed as a + ib: A_k = (Z_k + conj Z_{N-k}) / 2, B_k = (Z_k - conj Z_{N-k}) / 2i.
    for (int k = 0; k < numBins_; ++k) {
      const int r = k == 0 ? 0 : n_ - k;
      const double ar = 0.5 * (zr_[k] + zr_[r]), ai = 0.5 * (zi_[k] - zi_[r]);
      const double br = 0.5 * (zi_[k] + zi_[r]), bi = 0.5 * (zr_[r] - zr_[k]);
#if defined(__SSE2__)
      // Both square roots in one sqrtpd (correctly rounded, as std::sqrt): the scalar calls carry
      // an errno branch each and were a fifth of this function's time.
      const __m128d r2 = _mm_sqrt_pd(_mm_set_pd(br * br + bi * bi, ar * ar + ai * ai));
      magA[k] = static_cast<float>(_mm_cvtsd_f64(r2));
      magB[k] = static_cast<float>(_mm_cvtsd_f64(_mm_unpackhi_pd(r2, r2)));
#else
      magA[k] = static_cast<float>(std::sqrt(ar * ar + ai * ai));
      magB[k] = static_cast<float>(std::sqrt(br * br + bi * bi));
#endif
    }
  }

 private:
  int n_, numBins_, m_ = 0;
  std::unique_ptr<dsp::PffftComplex> pffft_;
  float* in_ = nullptr;
  float* spec_ = nullptr;
  float* acc_ = nullptr;
  float* chirpSpec_ = nullptr;
  std::vector<std::complex<double>> chirp_;
  std::vector<float> chirpF_;
  std::vector<double> zr_, zi_;
  std::unique_ptr<dsp::RealFft> fft_;
  std::vector<std::complex<float>> bins_;
};

// A DFT of size n = n1 * n2 with coprime n1, n2 (Good-Thomas: the index maps remove the twiddles
// between the stages), each stage a direct DFT, for eight frames at once (one per lane). For
// BeatNet's 1411 = 17 x 83 this is about a tenth of the Bluestein path's multiplies (folded stages), and each frame's
// error is relative to itself (no pairing). Only magnitudes are needed, so X[k] and its conjugate
// X[n - k] are interchangeable, and for real input the first stage needs k1 <= n1 / 2 only.
class PrimeFactorDft {
 public:
  static constexpr int kLanes = 8;

  // Coprime factors of n, both in [3, 128], or false.
  static bool factors(int n, int* n1, int* n2) {
    for (int a = 3; a <= 128; ++a) {
      if (n % a != 0) continue;
      const int b = n / a;
      if (b < 3 || b > 128 || std::gcd(a, b) != 1) continue;
      *n1 = a;
      *n2 = b;
      return true;
    }
    return false;
  }

  PrimeFactorDft(int n, int n1, int n2, int numBins, bool simd)
      : n_(n), n1_(n1), n2_(n2), h1_(n1 / 2 + 1), h2_(n2 / 2), simd_(simd) {
    inIndex_.resize(static_cast<size_t>(n1) * n2);
    for (int a = 0; a < n1; ++a)
      for (int b = 0; b < n2; ++b) inIndex_[static_cast<size_t>(a) * n2 + b] = (a * n2 + b * n1) % n;
    auto inverse = [](int x, int m) {
      for (int y = 1; y < m; ++y)
        if ((static_cast<int64_t>(x) * y) % m == 1) return y;
      return 1;
    };
    const int64_t a1 = static_cast<int64_t>(n2) * inverse(n2 % n1, n1),
                  a2 = static_cast<int64_t>(n1) * inverse(n1 % n2, n2);
    outBin_.assign(static_cast<size_t>(h1_) * n2, -1);
    for (int k1 = 0; k1 < h1_; ++k1) {
      for (int k2 = 0; k2 < n2; ++k2) {
        const int k = static_cast<int>((a1 * k1 + a2 * k2) % n);
        const int bin = k < numBins ? k : (n - k < numBins ? n - k : -1);
        outBin_[static_cast<size_t>(k1) * n2 + k2] = bin;
      }
    }
    // Angles reduced exactly (integer products mod the size) before the cosine.
    c1_.resize(static_cast<size_t>(h1_) * n1);
    s1_.resize(c1_.size());
    for (int k = 0; k < h1_; ++k) {
      for (int j = 0; j < n1; ++j) {
        const double a = 2.0 * kPi * static_cast<double>((j * k) % n1) / n1;
        c1_[static_cast<size_t>(k) * n1 + j] = static_cast<float>(std::cos(a));
        s1_[static_cast<size_t>(k) * n1 + j] = static_cast<float>(std::sin(a));
      }
    }
    c2_.resize(static_cast<size_t>(h2_ + 1) * n2);
    s2_.resize(c2_.size());
    for (int k = 0; k <= h2_; ++k) {
      for (int j = 0; j < n2; ++j) {
        const double a = 2.0 * kPi * static_cast<double>((j * k) % n2) / n2;
        c2_[static_cast<size_t>(k) * n2 + j] = static_cast<float>(std::cos(a));
        s2_[static_cast<size_t>(k) * n2 + j] = static_cast<float>(std::sin(a));
      }
    }
    x_.resize(static_cast<size_t>(n) * kLanes);
    yr_.resize(static_cast<size_t>(h1_) * n2 * kLanes);
    yi_.resize(yr_.size());
    fold_.resize(static_cast<size_t>(std::max(2 * ((n1 - 1) / 2), 4 * ((n2 - 1) / 2))) * kLanes);
  }

  // The input of transform(): lanes()[i * kLanes + l] is sample i of frame l (windowed).
  float* lanes() { return x_.data(); }

  // The frames in lanes() -> mags[k * kLanes + l] (bin-major: a bin's lanes are one vector for the
  // filterbank).
  void transform(float* mags) {
    firstStage(x_.data(), inIndex_.data(), c1_.data(), s1_.data(), n1_, n2_, h1_, fold_.data(), yr_.data(), yi_.data(),
               simd_);
    secondStage(yr_.data(), yi_.data(), c2_.data(), s2_.data(), n2_, h1_, h2_, outBin_.data(), fold_.data(), mags,
                simd_);
  }

 private:
  // Both stages fold their inputs first: terms j and m - j of an m-point DFT share the cosine and
  // negate the sine, so their sum meets the cosines and their difference the sines, and each sum
  // takes half the multiplies. An even m's middle term (sine 0) is added on its own. The AVX2 path
  // does each lane's multiplies and adds in the portable loop's order (no FMA): identical.

  // Y[k1][n2] = sum_n1 x[in(n1, n2)] e^{-2 pi i n1 k1 / n1}, k1 <= n1 / 2 (real input).
  static void firstStage(const float* x, const int* inIndex, const float* c1, const float* s1, int n1, int n2, int h1,
                         float* fold, float* yr, float* yi, bool simd) {
#ifdef DE_HAVE_AVX2_KERNELS
    if (simd && dsp::avx2::available()) {
      firstStageAvx2(x, inIndex, c1, s1, n1, n2, h1, fold, yr, yi);
      return;
    }
#endif
    const int half = (n1 - 1) / 2;
    float* sum = fold;
    float* dif = fold + static_cast<size_t>(half) * kLanes;
    for (int b = 0; b < n2; ++b) {
      const float* x0 = x + static_cast<size_t>(inIndex[b]) * kLanes;
      for (int a = 1; a <= half; ++a) {
        const float* xa = x + static_cast<size_t>(inIndex[a * n2 + b]) * kLanes;
        const float* xb = x + static_cast<size_t>(inIndex[(n1 - a) * n2 + b]) * kLanes;
        for (int l = 0; l < kLanes; ++l) {
          sum[(a - 1) * kLanes + l] = xa[l] + xb[l];
          dif[(a - 1) * kLanes + l] = xa[l] - xb[l];
        }
      }
      const float* xm = n1 % 2 == 0 ? x + static_cast<size_t>(inIndex[(n1 / 2) * n2 + b]) * kLanes : nullptr;
      for (int k = 0; k < h1; ++k) {
        float re[kLanes], im[kLanes] = {};
        for (int l = 0; l < kLanes; ++l) re[l] = x0[l];
        for (int a = 1; a <= half; ++a) {
          const float c = c1[k * n1 + a], s = s1[k * n1 + a];
          for (int l = 0; l < kLanes; ++l) {
            re[l] += sum[(a - 1) * kLanes + l] * c;
            im[l] -= dif[(a - 1) * kLanes + l] * s;
          }
        }
        if (xm)
          for (int l = 0; l < kLanes; ++l) re[l] += xm[l] * c1[k * n1 + n1 / 2];
        float* r = yr + (static_cast<size_t>(k) * n2 + b) * kLanes;
        float* i = yi + (static_cast<size_t>(k) * n2 + b) * kLanes;
        for (int l = 0; l < kLanes; ++l) {
          r[l] = re[l];
          i[l] = im[l];
        }
      }
    }
  }

  // The second stage's folded inputs in the scratch: for b = 1 .. half, r and i summed with and
  // differenced from their mirror terms n2 - b; an even n2's middle term (mid) stays unfolded.
  struct SecondFold {
    SecondFold(int n2, float* fold)
        : half((n2 - 1) / 2),
          mid(n2 % 2 == 0 ? n2 / 2 : -1),
          rSum(fold),
          rDif(fold + static_cast<size_t>(half) * kLanes),
          iSum(fold + 2 * static_cast<size_t>(half) * kLanes),
          iDif(fold + 3 * static_cast<size_t>(half) * kLanes) {}
    int half, mid;
    float *rSum, *rDif, *iSum, *iDif;
  };

  // X[k1][k2] = sum_n2 Y[k1][n2] e^{-2 pi i n2 k2 / n2}; k2 and n2 - k2 share four sums:
  // A = sum r c, B = sum i s, C = sum i c, D = sum r s; X[k2] = (A + B) + i (C - D),
  // X[n2 - k2] = (A - B) + i (C + D). Folded: A and C take r and i summed with their mirror terms,
  // B and D the differences.
  static void secondStage(const float* yr, const float* yi, const float* c2, const float* s2, int n2, int h1, int h2,
                          const int* outBin, float* fold, float* mags, bool simd) {
#ifdef DE_HAVE_AVX2_KERNELS
    if (simd && dsp::avx2::available()) {
      secondStageAvx2(yr, yi, c2, s2, n2, h1, h2, outBin, fold, mags);
      return;
    }
#endif
    auto store = [&](int k1, int k2, const float* re, const float* im) {
      const int bin = outBin[k1 * n2 + k2];
      if (bin < 0) return;
      for (int l = 0; l < kLanes; ++l)
        mags[static_cast<size_t>(bin) * kLanes + l] = std::sqrt(re[l] * re[l] + im[l] * im[l]);
    };
    const SecondFold sf(n2, fold);
    const int half = sf.half, mid = sf.mid;
    float *rSum = sf.rSum, *rDif = sf.rDif, *iSum = sf.iSum, *iDif = sf.iDif;
    for (int k1 = 0; k1 < h1; ++k1) {
      const float* r = yr + static_cast<size_t>(k1) * n2 * kLanes;
      const float* i = yi + static_cast<size_t>(k1) * n2 * kLanes;
      for (int b = 1; b <= half; ++b) {
        for (int l = 0; l < kLanes; ++l) {
          const size_t f = static_cast<size_t>(b - 1) * kLanes + l;
          rSum[f] = r[b * kLanes + l] + r[(n2 - b) * kLanes + l];
          rDif[f] = r[b * kLanes + l] - r[(n2 - b) * kLanes + l];
          iSum[f] = i[b * kLanes + l] + i[(n2 - b) * kLanes + l];
          iDif[f] = i[b * kLanes + l] - i[(n2 - b) * kLanes + l];
        }
      }
      float re[kLanes], im[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        re[l] = r[l];
        im[l] = i[l];
      }
      for (int b = 1; b <= half; ++b) {
        for (int l = 0; l < kLanes; ++l) {
          re[l] += rSum[(b - 1) * kLanes + l];
          im[l] += iSum[(b - 1) * kLanes + l];
        }
      }
      if (mid > 0) {
        for (int l = 0; l < kLanes; ++l) {
          re[l] += r[mid * kLanes + l];
          im[l] += i[mid * kLanes + l];
        }
      }
      store(k1, 0, re, im);
      for (int k2 = 1; k2 <= h2; ++k2) {
        float A[kLanes], B[kLanes] = {}, C[kLanes], D[kLanes] = {};
        for (int l = 0; l < kLanes; ++l) {
          A[l] = r[l];
          C[l] = i[l];
        }
        const float* c = c2 + static_cast<size_t>(k2) * n2;
        const float* s = s2 + static_cast<size_t>(k2) * n2;
        for (int b = 1; b <= half; ++b) {
          for (int l = 0; l < kLanes; ++l) {
            const size_t f = static_cast<size_t>(b - 1) * kLanes + l;
            A[l] += rSum[f] * c[b];
            B[l] += iDif[f] * s[b];
            C[l] += iSum[f] * c[b];
            D[l] += rDif[f] * s[b];
          }
        }
        if (mid > 0) {
          for (int l = 0; l < kLanes; ++l) {
            A[l] += r[mid * kLanes + l] * c[mid];
            C[l] += i[mid * kLanes + l] * c[mid];
          }
        }
        float pr[kLanes], pi[kLanes], mr[kLanes], mi[kLanes];
        for (int l = 0; l < kLanes; ++l) {
          pr[l] = A[l] + B[l];
          pi[l] = C[l] - D[l];
          mr[l] = A[l] - B[l];
          mi[l] = C[l] + D[l];
        }
        store(k1, k2, pr, pi);
        store(k1, n2 - k2, mr, mi);
      }
    }
  }

#ifdef DE_HAVE_AVX2_KERNELS
  DE_AVX2 static void firstStageAvx2(const float* x, const int* inIndex, const float* c1, const float* s1, int n1,
                                     int n2, int h1, float* fold, float* yr, float* yi) {
    const int half = (n1 - 1) / 2;
    float* sum = fold;
    float* dif = fold + static_cast<size_t>(half) * kLanes;
    for (int b = 0; b < n2; ++b) {
      const __m256 x0 = _mm256_loadu_ps(x + static_cast<size_t>(inIndex[b]) * kLanes);
      for (int a = 1; a <= half; ++a) {
        const __m256 xa = _mm256_loadu_ps(x + static_cast<size_t>(inIndex[a * n2 + b]) * kLanes);
        const __m256 xb = _mm256_loadu_ps(x + static_cast<size_t>(inIndex[(n1 - a) * n2 + b]) * kLanes);
        _mm256_storeu_ps(sum + (a - 1) * kLanes, _mm256_add_ps(xa, xb));
        _mm256_storeu_ps(dif + (a - 1) * kLanes, _mm256_sub_ps(xa, xb));
      }
      const bool even = n1 % 2 == 0;
      const __m256 xm =
          even ? _mm256_loadu_ps(x + static_cast<size_t>(inIndex[(n1 / 2) * n2 + b]) * kLanes) : _mm256_setzero_ps();
      int k = 0;
      for (; k + 1 < h1; k += 2) {  // two k at a time: four independent sums
        __m256 re0 = x0, im0 = _mm256_setzero_ps(), re1 = x0, im1 = _mm256_setzero_ps();
        for (int a = 1; a <= half; ++a) {
          const __m256 sa = _mm256_loadu_ps(sum + (a - 1) * kLanes), da = _mm256_loadu_ps(dif + (a - 1) * kLanes);
          re0 = _mm256_add_ps(re0, _mm256_mul_ps(sa, _mm256_set1_ps(c1[k * n1 + a])));
          im0 = _mm256_sub_ps(im0, _mm256_mul_ps(da, _mm256_set1_ps(s1[k * n1 + a])));
          re1 = _mm256_add_ps(re1, _mm256_mul_ps(sa, _mm256_set1_ps(c1[(k + 1) * n1 + a])));
          im1 = _mm256_sub_ps(im1, _mm256_mul_ps(da, _mm256_set1_ps(s1[(k + 1) * n1 + a])));
        }
        if (even) {
          re0 = _mm256_add_ps(re0, _mm256_mul_ps(xm, _mm256_set1_ps(c1[k * n1 + n1 / 2])));
          re1 = _mm256_add_ps(re1, _mm256_mul_ps(xm, _mm256_set1_ps(c1[(k + 1) * n1 + n1 / 2])));
        }
        _mm256_storeu_ps(yr + (static_cast<size_t>(k) * n2 + b) * kLanes, re0);
        _mm256_storeu_ps(yi + (static_cast<size_t>(k) * n2 + b) * kLanes, im0);
        _mm256_storeu_ps(yr + (static_cast<size_t>(k + 1) * n2 + b) * kLanes, re1);
        _mm256_storeu_ps(yi + (static_cast<size_t>(k + 1) * n2 + b) * kLanes, im1);
      }
      for (; k < h1; ++k) {
        __m256 re = x0, im = _mm256_setzero_ps();
        for (int a = 1; a <= half; ++a) {
          re =
              _mm256_add_ps(re, _mm256_mul_ps(_mm256_loadu_ps(sum + (a - 1) * kLanes), _mm256_set1_ps(c1[k * n1 + a])));
          im =
              _mm256_sub_ps(im, _mm256_mul_ps(_mm256_loadu_ps(dif + (a - 1) * kLanes), _mm256_set1_ps(s1[k * n1 + a])));
        }
        if (even) re = _mm256_add_ps(re, _mm256_mul_ps(xm, _mm256_set1_ps(c1[k * n1 + n1 / 2])));
        _mm256_storeu_ps(yr + (static_cast<size_t>(k) * n2 + b) * kLanes, re);
        _mm256_storeu_ps(yi + (static_cast<size_t>(k) * n2 + b) * kLanes, im);
      }
    }
  }

  DE_AVX2 static void storeMagnitudes(__m256 re, __m256 im, int bin, float* mags) {
    if (bin < 0) return;
    _mm256_storeu_ps(mags + static_cast<size_t>(bin) * kLanes,
                     _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(re, re), _mm256_mul_ps(im, im))));
  }

  DE_AVX2 static void secondStageAvx2(const float* yr, const float* yi, const float* c2, const float* s2, int n2,
                                      int h1, int h2, const int* outBin, float* fold, float* mags) {
    const SecondFold sf(n2, fold);
    const int half = sf.half, mid = sf.mid;
    float *rSum = sf.rSum, *rDif = sf.rDif, *iSum = sf.iSum, *iDif = sf.iDif;
    for (int k1 = 0; k1 < h1; ++k1) {
      const float* r = yr + static_cast<size_t>(k1) * n2 * kLanes;
      const float* i = yi + static_cast<size_t>(k1) * n2 * kLanes;
      __m256 re = _mm256_loadu_ps(r), im = _mm256_loadu_ps(i);
      for (int b = 1; b <= half; ++b) {
        const __m256 ra = _mm256_loadu_ps(r + b * kLanes), rb = _mm256_loadu_ps(r + (n2 - b) * kLanes);
        const __m256 ia = _mm256_loadu_ps(i + b * kLanes), ib = _mm256_loadu_ps(i + (n2 - b) * kLanes);
        const __m256 rs = _mm256_add_ps(ra, rb), is = _mm256_add_ps(ia, ib);
        const size_t f = static_cast<size_t>(b - 1) * kLanes;
        _mm256_storeu_ps(rSum + f, rs);
        _mm256_storeu_ps(rDif + f, _mm256_sub_ps(ra, rb));
        _mm256_storeu_ps(iSum + f, is);
        _mm256_storeu_ps(iDif + f, _mm256_sub_ps(ia, ib));
        re = _mm256_add_ps(re, rs);
        im = _mm256_add_ps(im, is);
      }
      __m256 rm = _mm256_setzero_ps(), imid = _mm256_setzero_ps();
      if (mid > 0) {
        rm = _mm256_loadu_ps(r + mid * kLanes);
        imid = _mm256_loadu_ps(i + mid * kLanes);
        re = _mm256_add_ps(re, rm);
        im = _mm256_add_ps(im, imid);
      }
      storeMagnitudes(re, im, outBin[k1 * n2], mags);
      const __m256 r0 = _mm256_loadu_ps(r), i0 = _mm256_loadu_ps(i);
      // Two k2 at a time: eight independent sums keep the adders busy; each sum still adds its
      // terms in b order, as the portable loop does.
      int k2 = 1;
      for (; k2 + 1 <= h2; k2 += 2) {
        __m256 A0 = r0, B0 = _mm256_setzero_ps(), C0 = i0, D0 = _mm256_setzero_ps();
        __m256 A1 = r0, B1 = _mm256_setzero_ps(), C1 = i0, D1 = _mm256_setzero_ps();
        const float* c0 = c2 + static_cast<size_t>(k2) * n2;
        const float* s0 = s2 + static_cast<size_t>(k2) * n2;
        const float* c1 = c0 + n2;
        const float* s1 = s0 + n2;
        for (int b = 1; b <= half; ++b) {
          const size_t f = static_cast<size_t>(b - 1) * kLanes;
          const __m256 rs = _mm256_loadu_ps(rSum + f), rd = _mm256_loadu_ps(rDif + f);
          const __m256 is = _mm256_loadu_ps(iSum + f), id = _mm256_loadu_ps(iDif + f);
          const __m256 cb0 = _mm256_set1_ps(c0[b]), sb0 = _mm256_set1_ps(s0[b]);
          const __m256 cb1 = _mm256_set1_ps(c1[b]), sb1 = _mm256_set1_ps(s1[b]);
          A0 = _mm256_add_ps(A0, _mm256_mul_ps(rs, cb0));
          B0 = _mm256_add_ps(B0, _mm256_mul_ps(id, sb0));
          C0 = _mm256_add_ps(C0, _mm256_mul_ps(is, cb0));
          D0 = _mm256_add_ps(D0, _mm256_mul_ps(rd, sb0));
          A1 = _mm256_add_ps(A1, _mm256_mul_ps(rs, cb1));
          B1 = _mm256_add_ps(B1, _mm256_mul_ps(id, sb1));
          C1 = _mm256_add_ps(C1, _mm256_mul_ps(is, cb1));
          D1 = _mm256_add_ps(D1, _mm256_mul_ps(rd, sb1));
        }
        if (mid > 0) {
          A0 = _mm256_add_ps(A0, _mm256_mul_ps(rm, _mm256_set1_ps(c0[mid])));
          C0 = _mm256_add_ps(C0, _mm256_mul_ps(imid, _mm256_set1_ps(c0[mid])));
          A1 = _mm256_add_ps(A1, _mm256_mul_ps(rm, _mm256_set1_ps(c1[mid])));
          C1 = _mm256_add_ps(C1, _mm256_mul_ps(imid, _mm256_set1_ps(c1[mid])));
        }
        storeMagnitudes(_mm256_add_ps(A0, B0), _mm256_sub_ps(C0, D0), outBin[k1 * n2 + k2], mags);
        storeMagnitudes(_mm256_sub_ps(A0, B0), _mm256_add_ps(C0, D0), outBin[k1 * n2 + n2 - k2], mags);
        storeMagnitudes(_mm256_add_ps(A1, B1), _mm256_sub_ps(C1, D1), outBin[k1 * n2 + k2 + 1], mags);
        storeMagnitudes(_mm256_sub_ps(A1, B1), _mm256_add_ps(C1, D1), outBin[k1 * n2 + n2 - k2 - 1], mags);
      }
      for (; k2 <= h2; ++k2) {
        __m256 A = r0, B = _mm256_setzero_ps(), C = i0, D = _mm256_setzero_ps();
        const float* c = c2 + static_cast<size_t>(k2) * n2;
        const float* s = s2 + static_cast<size_t>(k2) * n2;
        for (int b = 1; b <= half; ++b) {
          const size_t f = static_cast<size_t>(b - 1) * kLanes;
          const __m256 cb = _mm256_set1_ps(c[b]), sb = _mm256_set1_ps(s[b]);
          A = _mm256_add_ps(A, _mm256_mul_ps(_mm256_loadu_ps(rSum + f), cb));
          B = _mm256_add_ps(B, _mm256_mul_ps(_mm256_loadu_ps(iDif + f), sb));
          C = _mm256_add_ps(C, _mm256_mul_ps(_mm256_loadu_ps(iSum + f), cb));
          D = _mm256_add_ps(D, _mm256_mul_ps(_mm256_loadu_ps(rDif + f), sb));
        }
        if (mid > 0) {
          A = _mm256_add_ps(A, _mm256_mul_ps(rm, _mm256_set1_ps(c[mid])));
          C = _mm256_add_ps(C, _mm256_mul_ps(imid, _mm256_set1_ps(c[mid])));
        }
        storeMagnitudes(_mm256_add_ps(A, B), _mm256_sub_ps(C, D), outBin[k1 * n2 + k2], mags);
        storeMagnitudes(_mm256_sub_ps(A, B), _mm256_add_ps(C, D), outBin[k1 * n2 + n2 - k2], mags);
      }
    }
  }
#endif

  int n_, n1_, n2_, h1_, h2_;
  bool simd_;
  std::vector<int> inIndex_, outBin_;
  std::vector<float> c1_, s1_, c2_, s2_, x_, yr_, yi_, fold_;
};

// log10 of positive normal floats by Cephes's log10f (mantissa polynomial, log10(e) and log10(2)
// split so the terms add in order of size): within 3 ulp of glibc's, 0 or 1 ulp for 98 % of a
// song's features. Anything else (zero, negative, subnormal, infinite, NaN) goes to std::log10.
// The AVX2 loop does the same float operations in the same order (no FMA): identical bits.
namespace cephes {
constexpr float kSqrtHalf = 0.707106781186547524f;
constexpr float kP[9] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,  -1.2420140846E-1f, 1.4249322787E-1f,
                         -1.6668057665E-1f, 2.0000714765E-1f,  -2.4999993993E-1f, 3.3333331174E-1f};
constexpr float kLog10_2A = 3.0078125E-1f, kLog10_2B = 2.48745663981195213739E-4f;
constexpr float kLog10EA = 4.3359375E-1f, kLog10EB = 7.00731903251827651129E-4f;

inline bool normalPositive(float x) {
  return x >= std::numeric_limits<float>::min() && x <= std::numeric_limits<float>::max();
}

float log10(float x) {
  if (!normalPositive(x)) return std::log10(x);
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int e = static_cast<int>((bits >> 23) & 0xff) - 126;  // x = m 2^e, m in [0.5, 1)
  bits = (bits & 0x807fffffu) | 0x3f000000u;
  float m;
  std::memcpy(&m, &bits, sizeof m);
  float f;
  if (m < kSqrtHalf) {
    e -= 1;
    f = (m + m) - 1.0f;
  } else {
    f = (m + 0.0f) - 1.0f;
  }
  const float z = f * f;
  float poly = kP[0];
  for (int i = 1; i < 9; ++i) poly = poly * f + kP[i];
  float y = f * (z * poly);
  y = y + -0.5f * z;
  float r = (f + y) * kLog10EB;
  r = r + y * kLog10EA;
  r = r + f * kLog10EA;
  const float fe = static_cast<float>(e);
  r = r + fe * kLog10_2B;
  r = r + fe * kLog10_2A;
  return r;
}

#ifdef DE_HAVE_AVX2_KERNELS
DE_AVX2 void log10Avx2(float* v, size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), sqrtHalf = _mm256_set1_ps(kSqrtHalf), zero = _mm256_setzero_ps();
  const __m256 lo = _mm256_set1_ps(std::numeric_limits<float>::min());
  const __m256 hi = _mm256_set1_ps(std::numeric_limits<float>::max());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GE_OQ), _mm256_cmp_ps(x, hi, _CMP_LE_OQ));
    const __m256i bits = _mm256_castps_si256(x);
    __m256i e = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xff)),
                                 _mm256_set1_epi32(126));
    const __m256 m = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x807fffff)), _mm256_set1_epi32(0x3f000000)));
    const __m256 small = _mm256_cmp_ps(m, sqrtHalf, _CMP_LT_OQ);
    e = _mm256_add_epi32(e, _mm256_castps_si256(small));  // all-ones lanes: e - 1
    const __m256 f = _mm256_sub_ps(_mm256_add_ps(m, _mm256_blendv_ps(zero, m, small)), one);
    const __m256 z = _mm256_mul_ps(f, f);
    __m256 poly = _mm256_set1_ps(kP[0]);
    for (int k = 1; k < 9; ++k) poly = _mm256_add_ps(_mm256_mul_ps(poly, f), _mm256_set1_ps(kP[k]));
    __m256 y = _mm256_mul_ps(f, _mm256_mul_ps(z, poly));
    y = _mm256_add_ps(y, _mm256_mul_ps(_mm256_set1_ps(-0.5f), z));
    __m256 r = _mm256_mul_ps(_mm256_add_ps(f, y), _mm256_set1_ps(kLog10EB));
    r = _mm256_add_ps(r, _mm256_mul_ps(y, _mm256_set1_ps(kLog10EA)));
    r = _mm256_add_ps(r, _mm256_mul_ps(f, _mm256_set1_ps(kLog10EA)));
    const __m256 fe = _mm256_cvtepi32_ps(e);
    r = _mm256_add_ps(r, _mm256_mul_ps(fe, _mm256_set1_ps(kLog10_2B)));
    r = _mm256_add_ps(r, _mm256_mul_ps(fe, _mm256_set1_ps(kLog10_2A)));
    const int good = _mm256_movemask_ps(ok);
    alignas(32) float xs[8];
    if (good != 0xff) _mm256_store_ps(xs, x);
    _mm256_storeu_ps(v + i, r);
    if (good != 0xff) {
      for (int l = 0; l < 8; ++l)
        if (!(good >> l & 1)) v[i + l] = std::log10(xs[l]);
    }
  }
  for (; i < n; ++i) v[i] = log10(v[i]);
}
#endif

void log10InPlace(float* v, size_t n, bool simd) {
#ifdef DE_HAVE_AVX2_KERNELS
  if (simd && dsp::avx2::available()) {
    log10Avx2(v, n);
    return;
  }
#endif
  (void)simd;
  for (size_t i = 0; i < n; ++i) v[i] = log10(v[i]);
}
}  // namespace cephes

// The filterbank and log of kLanes frames whose magnitudes are bin-major (mags[k * kLanes + l]),
// into rows[l] for l < count: each lane's sum in double, in k order, as the one-frame projection
// (so the vector path, eight frames per band at once, is bit-identical to it).
#ifdef DE_HAVE_AVX2_KERNELS
DE_AVX2 void projectLanesAvx2(const LogFilterbank& fb, const float* mags, double* acc) {
  constexpr int kLanes = PrimeFactorDft::kLanes;
  for (size_t b = 0; b < fb.bands.size(); ++b) {
    const LogFilterbank::Band& band = fb.bands[b];
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    const float* m = mags + static_cast<size_t>(band.start) * kLanes;
    for (size_t k = 0; k < band.weights.size(); ++k, m += kLanes) {
      const __m256 v = _mm256_loadu_ps(m);
      const __m256d w = _mm256_set1_pd(static_cast<double>(band.weights[k]));
      lo = _mm256_add_pd(lo, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), w));
      hi = _mm256_add_pd(hi, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), w));
    }
    _mm256_storeu_pd(acc + b * kLanes, lo);
    _mm256_storeu_pd(acc + b * kLanes + 4, hi);
  }
}
#endif

void projectLanes(const LogFilterbank& fb, const float* mags, float mul, float add, bool simd, int count,
                  float* const* rows) {
  constexpr int kLanes = PrimeFactorDft::kLanes;
  thread_local std::vector<double> acc;
  acc.assign(fb.bands.size() * kLanes, 0.0);
#ifdef DE_HAVE_AVX2_KERNELS
  if (simd && dsp::avx2::available()) projectLanesAvx2(fb, mags, acc.data());
  else
#endif
  {
    (void)simd;
    for (size_t b = 0; b < fb.bands.size(); ++b) {
      const LogFilterbank::Band& band = fb.bands[b];
      for (size_t k = 0; k < band.weights.size(); ++k)
        for (int l = 0; l < kLanes; ++l)
          acc[b * kLanes + l] += static_cast<double>(mags[(band.start + k) * kLanes + l]) * band.weights[k];
    }
  }
  thread_local std::vector<float> level;
  level.resize(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) level[i] = static_cast<float>(acc[i]) * mul + add;
  cephes::log10InPlace(level.data(), level.size(), simd);
  for (int l = 0; l < count; ++l)
    for (size_t b = 0; b < fb.bands.size(); ++b) rows[l][b] = level[b * kLanes + l];
}

// madmom.audio.filters.log_frequencies
std::vector<double> logFrequencies(int bandsPerOctave, double fmin, double fmax, double fref) {
  const double left = std::floor(std::log2(fmin / fref) * bandsPerOctave);
  const double right = std::ceil(std::log2(fmax / fref) * bandsPerOctave);
  std::vector<double> f;
  for (double i = left; i < right; i += 1.0) {
    f.push_back(fref * std::pow(2.0, i / static_cast<double>(bandsPerOctave)));
  }
  const auto lo = std::lower_bound(f.begin(), f.end(), fmin) - f.begin();
  f.erase(f.begin(), f.begin() + lo);
  const auto hi = std::upper_bound(f.begin(), f.end(), fmax) - f.begin();
  f.resize(static_cast<size_t>(hi));
  return f;
}

}  // namespace

LogFilterbank makeLogFilterbank(const LogSpectParams& p) {
  LogFilterbank fb;
  fb.numBins = p.frameSize >> 1;
  if (fb.numBins < 3) throw Error(code::kInvalidArgument, "logSpect: frame size too small");
  // madmom's fft_frequencies(num_bins, sr) = np.fft.fftfreq(2 * num_bins, 1 / sr)[:num_bins]:
  // for the odd 1411-point frame these are k * sr / 1410, not the DFT's k * sr / 1411.
  std::vector<double> binFreq(static_cast<size_t>(fb.numBins));
  const double val = 1.0 / (2.0 * fb.numBins * (1.0 / p.sampleRate));
  for (int k = 0; k < fb.numBins; ++k) binFreq[k] = k * val;
  // frequencies2bins(..., unique_bins=True)
  std::vector<int> bins;
  for (double f : logFrequencies(p.bandsPerOctave, p.fmin, p.fmax, p.fref)) {
    int idx = static_cast<int>(std::lower_bound(binFreq.begin(), binFreq.end(), f) - binFreq.begin());
    idx = std::clamp(idx, 1, fb.numBins - 1);
    const double left = binFreq[idx - 1], right = binFreq[idx];
    if (f - left < right - f) --idx;
    bins.push_back(idx);
  }
  std::sort(bins.begin(), bins.end());
  bins.erase(std::unique(bins.begin(), bins.end()), bins.end());
  // TriangularFilter.filters(bins, norm=True, overlap=True)
  for (size_t i = 0; i + 3 <= bins.size(); ++i) {
    int start = bins[i], center = bins[i + 1], stop = bins[i + 2];
    if (stop - start < 2) {
      center = start;
      stop = start + 1;
    }
    const int c = center - start, len = stop - start;
    std::vector<double> w(static_cast<size_t>(len), 0.0);
    for (int k = 0; k < c; ++k) w[k] = static_cast<double>(k) * (1.0 / c);
    const int down = len - c;
    for (int k = 0; k < down; ++k) w[c + k] = static_cast<double>(k) * (-1.0 / down) + 1.0;
    LogFilterbank::Band band;
    band.start = start;
    band.weights.resize(static_cast<size_t>(len));
    double sum = 0.0;
    for (int k = 0; k < len; ++k) sum += static_cast<float>(w[k]);
    for (int k = 0; k < len; ++k) band.weights[k] = static_cast<float>(static_cast<float>(w[k]) / sum);
    if (band.start + len > fb.numBins) band.weights.resize(static_cast<size_t>(fb.numBins - band.start));
    fb.bands.push_back(std::move(band));
  }
  return fb;
}

int diffFrames(const LogSpectParams& p) {
  const std::vector<double> w = hanning(p.frameSize);
  const double mx = *std::max_element(w.begin(), w.end());
  int sample = 0;
  for (int i = 0; i < p.frameSize; ++i) {
    if (w[i] > p.diffRatio * mx) {
      sample = i;
      break;
    }
  }
  const double diffSamples = p.frameSize / 2.0 - sample;
  return static_cast<int>(std::max(1.0, std::nearbyint(diffSamples / p.hopSize)));
}

namespace {

// Eight consecutive frames, all inside the signal, windowed into the lane-interleaved layout:
// out[i * 8 + l] = x[l * hop + i] * win[i]. Eight samples of the eight frames are multiplied as
// eight vectors and transposed in registers (the same float products as the scalar loop).
#ifdef DE_HAVE_AVX2_KERNELS
DE_AVX2 void windowLanesAvx2(const float* x, int hop, const float* win, int n, float* out) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 w = _mm256_loadu_ps(win + i);
    __m256 r[8];
    for (int l = 0; l < 8; ++l) r[l] = _mm256_mul_ps(_mm256_loadu_ps(x + static_cast<size_t>(l) * hop + i), w);
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    float* o = out + static_cast<size_t>(i) * 8;
    _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(o + 16, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(o + 24, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(o + 32, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(o + 40, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(o + 48, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(o + 56, _mm256_permute2f128_ps(u3, u7, 0x31));
  }
  for (; i < n; ++i)
    for (int l = 0; l < 8; ++l) out[static_cast<size_t>(i) * 8 + l] = x[static_cast<size_t>(l) * hop + i] * win[i];
}
#endif

}  // namespace

LogSpectFeatures logSpect(const float* x, int64_t n, const LogSpectParams& p, const CancelToken* cancel) {
  if (p.frameSize < 8 || p.hopSize < 1) throw Error(code::kInvalidArgument, "logSpect: bad frame or hop size");
  const LogFilterbank fb = makeLogFilterbank(p);
  const int nb = static_cast<int>(fb.bands.size());
  const int df = diffFrames(p);
  LogSpectFeatures out;
  out.bands = nb;
  out.dims = 2 * nb;
  out.frames = n > 0 ? static_cast<int64_t>(std::ceil(static_cast<double>(n) / p.hopSize)) : 0;
  out.data.assign(static_cast<size_t>(out.frames) * out.dims, 0.0f);
  if (out.frames == 0) return out;

  const std::vector<double> win = hanning(p.frameSize);
  std::vector<float> winF(win.begin(), win.end());
  int n1 = 0, n2 = 0;
  const bool primeFactor = p.primeFactor && PrimeFactorDft::factors(p.frameSize, &n1, &n2);
  // The Bluestein transform (its chirp spectrum costs a transform to set up) only where it runs.
  std::unique_ptr<FrameDft> dft = primeFactor ? nullptr : std::make_unique<FrameDft>(p.frameSize, fb.numBins);
  std::vector<float> fa(static_cast<size_t>(p.frameSize)), fbuf(static_cast<size_t>(p.frameSize));
  std::vector<float> ma(static_cast<size_t>(fb.numBins)), mb(static_cast<size_t>(fb.numBins));
  const int half = p.frameSize / 2;

  auto window = [&](int64_t t, float* dst) {
    const int64_t start = t * p.hopSize - half;  // FramedSignal, origin 0: centred on t * hop
    if (start >= 0 && start + p.frameSize <= n) {
      for (int i = 0; i < p.frameSize; ++i) dst[i] = x[start + i] * winF[i];
    } else {
      for (int i = 0; i < p.frameSize; ++i) {
        const int64_t j = start + i;
        dst[i] = (j >= 0 && j < n) ? x[j] * winF[i] : 0.0f;
      }
    }
  };
  auto fill = [&](int64_t t, float* dst) {  // the windowed frame, returning its energy (Bluestein path)
    window(t, dst);
    // Four partial sums: a single running sum was a latency-bound chain. The energy only picks
    // the pair's power-of-two scale and spots digital silence (exactly 0 in any order).
    double e0 = 0.0, e1 = 0.0, e2 = 0.0, e3 = 0.0;
    int i = 0;
    for (; i + 4 <= p.frameSize; i += 4) {
      e0 += static_cast<double>(dst[i]) * dst[i];
      e1 += static_cast<double>(dst[i + 1]) * dst[i + 1];
      e2 += static_cast<double>(dst[i + 2]) * dst[i + 2];
      e3 += static_cast<double>(dst[i + 3]) * dst[i + 3];
    }
    for (; i < p.frameSize; ++i) e0 += static_cast<double>(dst[i]) * dst[i];
    return (e0 + e1) + (e2 + e3);
  };
  auto project = [&](const float* mag, float* row) {
    for (int b = 0; b < nb; ++b) {
      const LogFilterbank::Band& band = fb.bands[b];
      double acc = 0.0;
      for (size_t k = 0; k < band.weights.size(); ++k)
        acc += static_cast<double>(mag[band.start + k]) * band.weights[k];
      row[b] = std::log10(static_cast<float>(acc) * p.mul + p.add);
    }
  };
  auto spectrum = [&](const float* frame, double energy, float* mag) {
    if (energy == 0.0) std::fill(mag, mag + fb.numBins, 0.0f);  // digital silence: no transform
    else dft->magnitudes(frame, nullptr, mag, nullptr);
  };

  // Two frames share one complex transform. The float32 transform's error is relative to the
  // louder frame, so the quieter one is first scaled up by a power of two (exact, and undone
  // exactly on its magnitudes) to within 3 dB of the other; only digital silence, or a frame more
  // than 300 dB below its neighbour, is transformed on its own (or not at all).
  constexpr int kMaxScaleExp = 50;
  auto pair = [&](float* a, double ea, float* b, double eb, float* magA, float* magB) {
    if (ea <= 0.0 || eb <= 0.0) return false;
    const bool scaleB = ea >= eb;
    const int e = static_cast<int>(std::lround(0.5 * std::log2(scaleB ? ea / eb : eb / ea)));
    if (e > kMaxScaleExp) return false;
    if (e > 0) {
      float* q = scaleB ? b : a;
      const float up = std::ldexp(1.0f, e);
      for (int i = 0; i < p.frameSize; ++i) q[i] *= up;
    }
    dft->magnitudes(a, b, magA, magB);
    if (e > 0) {
      float* mq = scaleB ? magB : magA;
      const float down = std::ldexp(1.0f, -e);
      for (int k = 0; k < fb.numBins; ++k) mq[k] *= down;
    }
    return true;
  };
  if (primeFactor) {
    constexpr int kLanes = PrimeFactorDft::kLanes;
    PrimeFactorDft pfa(p.frameSize, n1, n2, fb.numBins, p.simd);
    std::vector<float> mags(static_cast<size_t>(kLanes) * fb.numBins);
    float* lanes = pfa.lanes();
#ifdef DE_HAVE_AVX2_KERNELS
    const bool avx2 = p.simd && dsp::avx2::available();
#endif
    for (int64_t t0 = 0; t0 < out.frames; t0 += kLanes) {
      if ((t0 & 255) == 0 && cancel) cancel->throwIfRequested("logSpect");
      const int count = static_cast<int>(std::min<int64_t>(kLanes, out.frames - t0));
      const int64_t first = t0 * p.hopSize - half;  // FramedSignal, origin 0: centred on t * hop
      bool done = false;
#ifdef DE_HAVE_AVX2_KERNELS
      if (avx2 && count == kLanes && first >= 0 && first + (kLanes - 1) * p.hopSize + p.frameSize <= n) {
        windowLanesAvx2(x + first, p.hopSize, winF.data(), p.frameSize, lanes);
        done = true;
      }
#endif
      if (!done) {
        for (int l = 0; l < kLanes; ++l) {
          const int64_t start = first + static_cast<int64_t>(l) * p.hopSize;
          for (int i = 0; i < p.frameSize; ++i) {
            const int64_t j = start + i;
            lanes[static_cast<size_t>(i) * kLanes + l] = l < count && j >= 0 && j < n ? x[j] * winF[i] : 0.0f;
          }
        }
      }
      pfa.transform(mags.data());
      float* rows[kLanes];
      for (int l = 0; l < kLanes; ++l) rows[l] = &out.data[static_cast<size_t>(t0 + std::min(l, count - 1)) * out.dims];
      projectLanes(fb, mags.data(), p.mul, p.add, p.simd, count, rows);
    }
  }
  int64_t t = primeFactor ? out.frames : 0;
  while (t < out.frames) {
    if ((t & 255) == 0 && cancel) cancel->throwIfRequested("logSpect");
    const double ea = fill(t, fa.data());
    if (t + 1 < out.frames) {
      const double eb = fill(t + 1, fbuf.data());
      if (!pair(fa.data(), ea, fbuf.data(), eb, ma.data(), mb.data())) {
        spectrum(fa.data(), ea, ma.data());
        spectrum(fbuf.data(), eb, mb.data());
      }
      project(ma.data(), &out.data[static_cast<size_t>(t) * out.dims]);
      project(mb.data(), &out.data[static_cast<size_t>(t + 1) * out.dims]);
      t += 2;
    } else {
      spectrum(fa.data(), ea, ma.data());
      project(ma.data(), &out.data[static_cast<size_t>(t) * out.dims]);
      t += 1;
    }
  }
  // Positive difference against diff_frames earlier; the first diff_frames rows stay 0.
  for (int64_t t = df; t < out.frames; ++t) {
    float* row = &out.data[static_cast<size_t>(t) * out.dims];
    const float* prev = &out.data[static_cast<size_t>(t - df) * out.dims];
    for (int b = 0; b < nb; ++b) row[nb + b] = std::max(row[b] - prev[b], 0.0f);
  }
  return out;
}

}  // namespace de::beat
