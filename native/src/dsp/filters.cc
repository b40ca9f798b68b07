#include "dsp/filters.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "dsp/avx2.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace de::dsp {

double hzToMel(double hz, bool htk) {
  if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  const double fSp = 200.0 / 3;
  double mel = hz / fSp;
  const double minLogHz = 1000.0;
  const double minLogMel = minLogHz / fSp;
  const double logstep = std::log(6.4) / 27.0;
  if (hz >= minLogHz) mel = minLogMel + std::log(hz / minLogHz) / logstep;
  return mel;
}

double melToHz(double mel, bool htk) {
  if (htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  const double fSp = 200.0 / 3;
  double hz = fSp * mel;
  const double minLogHz = 1000.0;
  const double minLogMel = minLogHz / fSp;
  const double logstep = std::log(6.4) / 27.0;
  if (mel >= minLogMel) hz = minLogHz * std::exp(logstep * (mel - minLogMel));
  return hz;
}

// numpy.linspace(start, stop, num) with endpoint: arange * step + start, last = stop.
static std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> out(static_cast<size_t>(std::max(num, 0)));
  if (num == 1) {
    out[0] = start;
    return out;
  }
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

std::vector<double> melFrequencies(int n, double fmin, double fmax, bool htk) {
  std::vector<double> mels = linspace(hzToMel(fmin, htk), hzToMel(fmax, htk), n);
  for (double& m : mels) m = melToHz(m, htk);
  return mels;
}

std::vector<double> fftFrequencies(double sr, int nFft) {
  const double val = 1.0 / (nFft * (1.0 / sr));
  std::vector<double> f(static_cast<size_t>(nFft / 2 + 1));
  for (size_t k = 0; k < f.size(); ++k) f[k] = static_cast<double>(k) * val;
  return f;
}

SparseRows SparseRows::fromDense(const std::vector<float>& dense, int rows, int cols, float dropBelow) {
  SparseRows s;
  s.rows = rows;
  s.cols = cols;
  s.begin.resize(rows);
  s.len.resize(rows);
  s.offset.resize(rows);
  for (int r = 0; r < rows; ++r) {
    const float* row = dense.data() + static_cast<size_t>(r) * cols;
    float rowMax = 0.0f;
    for (int c = 0; c < cols; ++c) rowMax = std::max(rowMax, std::fabs(row[c]));
    const float cut = rowMax * dropBelow;
    int b = 0, e = cols;
    // trim the row to its span of weights above `cut` (exact zeros when dropBelow is 0)
    while (b < cols && std::fabs(row[b]) <= cut) ++b;
    while (e > b && std::fabs(row[e - 1]) <= cut) --e;
    s.begin[r] = b;
    s.len[r] = e - b;
    s.offset[r] = s.weights.size();
    s.weights.insert(s.weights.end(), row + b, row + e);
  }
  return s;
}

void SparseRows::apply(const float* x, float* out) const {
#ifdef DE_HAVE_AVX2_KERNELS
  if (avx2::available()) return avx2::sparseRowsApply(*this, x, out);
#endif
  // float32 products and sums (as librosa's sgemm) in 8 independent lanes, which the compiler
  // can keep in vector registers
  for (int r = 0; r < rows; ++r) {
    const float* w = weights.data() + offset[r];
    const float* xs = x + begin[r];
    const int n = len[r];
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int c = 0;
    for (; c + 7 < n; c += 8)
      for (int l = 0; l < 8; ++l) acc[l] += w[c + l] * xs[c + l];
    float tail = 0.0f;
    for (; c < n; ++c) tail += w[c] * xs[c];
    out[r] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
  }
}

void SparseRows::applyFrames(const float* const* x, int count, float* out) const {
#ifdef DE_HAVE_AVX2_KERNELS
  if (count == 4 && avx2::available()) return avx2::sparseRowsApply4(*this, x, out);
#endif
  for (int j = 0; j < count; ++j) apply(x[j], out + static_cast<size_t>(j) * rows);
}

DenseBlocked DenseBlocked::fromDense(const std::vector<float>& dense, int rows, int cols) {
  DenseBlocked d;
  d.rows = rows;
  d.cols = cols;
  d.blocks = (cols + 3) / 4;
  d.w.assign(static_cast<size_t>(d.blocks) * rows * 4, 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      d.w[(static_cast<size_t>(c / 4) * rows + r) * 4 + (c % 4)] = dense[static_cast<size_t>(r) * cols + c];
  return d;
}

void DenseBlocked::apply(const float* x, float* out) const {
  constexpr int kMaxRows = 24;
#ifdef DE_HAVE_AVX2_KERNELS
  if (rows <= kMaxRows && rows % 2 == 0 && avx2::available()) return avx2::denseBlockedApply(*this, x, out);
#endif
  if (rows > kMaxRows) {  // generic path
    for (int r = 0; r < rows; ++r) {
      float acc = 0.0f;
      for (int c = 0; c < cols; ++c) acc += w[(static_cast<size_t>(c / 4) * rows + r) * 4 + (c % 4)] * x[c];
      out[r] = acc;
    }
    return;
  }
  float xs[4];
#ifdef __SSE2__
  __m128 acc[kMaxRows];
  for (int r = 0; r < rows; ++r) acc[r] = _mm_setzero_ps();
  const float* wp = w.data();
  for (int b = 0; b < blocks; ++b, wp += static_cast<size_t>(rows) * 4) {
    __m128 xv;
    if (4 * b + 4 <= cols) {
      xv = _mm_loadu_ps(x + 4 * b);
    } else {
      for (int l = 0; l < 4; ++l) xs[l] = 4 * b + l < cols ? x[4 * b + l] : 0.0f;
      xv = _mm_loadu_ps(xs);
    }
    for (int r = 0; r < rows; ++r) acc[r] = _mm_add_ps(acc[r], _mm_mul_ps(_mm_loadu_ps(wp + 4 * r), xv));
  }
  for (int r = 0; r < rows; ++r) {
    float lanes[4];
    _mm_storeu_ps(lanes, acc[r]);
    out[r] = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
  }
#else
  float acc[kMaxRows][4] = {};
  const float* wp = w.data();
  for (int b = 0; b < blocks; ++b, wp += static_cast<size_t>(rows) * 4) {
    for (int l = 0; l < 4; ++l) xs[l] = 4 * b + l < cols ? x[4 * b + l] : 0.0f;
    for (int r = 0; r < rows; ++r)
      for (int l = 0; l < 4; ++l) acc[r][l] += wp[4 * r + l] * xs[l];
  }
  for (int r = 0; r < rows; ++r) out[r] = (acc[r][0] + acc[r][2]) + (acc[r][1] + acc[r][3]);
#endif
}

void DenseBlocked::apply2(const float* x0, const float* x1, float* out0, float* out1) const {
#ifdef __SSE2__
  constexpr int kGroup = 6;  // 2 x 6 accumulators + 2 inputs + 1 weight fit in 16 registers
  if (rows <= 24) {
    const int fullBlocks = cols / 4;
    for (int g = 0; g < rows; g += kGroup) {
      const int gr = std::min(kGroup, rows - g);
      __m128 a0[kGroup], a1[kGroup];
      for (int r = 0; r < kGroup; ++r) a0[r] = a1[r] = _mm_setzero_ps();
      const float* wp = w.data() + static_cast<size_t>(g) * 4;
      const size_t stride = static_cast<size_t>(rows) * 4;
      int b = 0;
      if (gr == kGroup) {
        for (; b < fullBlocks; ++b, wp += stride) {
          const __m128 v0 = _mm_loadu_ps(x0 + 4 * b), v1 = _mm_loadu_ps(x1 + 4 * b);
          for (int r = 0; r < kGroup; ++r) {
            const __m128 wv = _mm_loadu_ps(wp + 4 * r);
            a0[r] = _mm_add_ps(a0[r], _mm_mul_ps(wv, v0));
            a1[r] = _mm_add_ps(a1[r], _mm_mul_ps(wv, v1));
          }
        }
      }
      for (; b < blocks; ++b, wp += stride) {
        float s0[4], s1[4];
        for (int l = 0; l < 4; ++l) {
          s0[l] = 4 * b + l < cols ? x0[4 * b + l] : 0.0f;
          s1[l] = 4 * b + l < cols ? x1[4 * b + l] : 0.0f;
        }
        const __m128 v0 = _mm_loadu_ps(s0), v1 = _mm_loadu_ps(s1);
        for (int r = 0; r < gr; ++r) {
          const __m128 wv = _mm_loadu_ps(wp + 4 * r);
          a0[r] = _mm_add_ps(a0[r], _mm_mul_ps(wv, v0));
          a1[r] = _mm_add_ps(a1[r], _mm_mul_ps(wv, v1));
        }
      }
      for (int r = 0; r < gr; ++r) {
        float l0[4], l1[4];
        _mm_storeu_ps(l0, a0[r]);
        _mm_storeu_ps(l1, a1[r]);
        out0[g + r] = (l0[0] + l0[2]) + (l0[1] + l0[3]);
        out1[g + r] = (l1[0] + l1[2]) + (l1[1] + l1[3]);
      }
    }
    return;
  }
#endif
  apply(x0, out0);
  apply(x1, out1);
}

int DenseBlocked::batch() const {
#ifdef DE_HAVE_AVX2_KERNELS
  if (rows <= 24 && rows % 4 == 0 && avx2::avx512Available()) return 4;
  if (rows <= 24 && rows % 2 == 0 && avx2::available()) return 3;
#endif
  return 2;
}

void DenseBlocked::applyFrames(const float* x, size_t stride, int count, float* out, const float* prefetch) const {
#ifdef DE_HAVE_AVX2_KERNELS
  if (count == 4 && rows <= 24 && rows % 4 == 0 && avx2::avx512Available())
    return avx2::denseBlockedApply4(*this, x, stride, out, prefetch);
  if (count == 3 && rows <= 24 && rows % 2 == 0 && avx2::available())
    return avx2::denseBlockedApply3(*this, x, stride, out, prefetch);
#endif
  (void)prefetch;
  int j = 0;
  for (; j + 1 < count; j += 2) apply2(x + j * stride, x + (j + 1) * stride, out + j * rows, out + (j + 1) * rows);
  if (j < count) apply(x + j * stride, out + j * rows);
}

std::vector<float> melFilterbank(double sr, int nFft, int nMels, double fmin, double fmax, bool htk, MelNorm norm) {
  if (nMels < 1) throw Error(code::kInvalidArgument, "mel: nMels must be >= 1 (" + std::to_string(nMels) + ")");
  const int bins = nFft / 2 + 1;
  std::vector<float> w(static_cast<size_t>(nMels) * bins, 0.0f);
  const std::vector<double> fftf = fftFrequencies(sr, nFft);
  const std::vector<double> melf = melFrequencies(nMels + 2, fmin, fmax, htk);
  for (int i = 0; i < nMels; ++i) {
    const double fdl = melf[i + 1] - melf[i];
    const double fdu = melf[i + 2] - melf[i + 1];
    for (int k = 0; k < bins; ++k) {
      const double lower = -(melf[i] - fftf[k]) / fdl;
      const double upper = (melf[i + 2] - fftf[k]) / fdu;
      w[static_cast<size_t>(i) * bins + k] = static_cast<float>(std::max(0.0, std::min(lower, upper)));
    }
  }
  if (norm.kind == MelNorm::Slaney) {
    for (int i = 0; i < nMels; ++i) {
      const double enorm = 2.0 / (melf[i + 2] - melf[i]);
      for (int k = 0; k < bins; ++k) {
        float& v = w[static_cast<size_t>(i) * bins + k];
        v = static_cast<float>(v * enorm);
      }
    }
  } else if (norm.kind == MelNorm::PNorm) {
    const double tiny = std::numeric_limits<float>::min();
    for (int i = 0; i < nMels; ++i) {
      float* row = w.data() + static_cast<size_t>(i) * bins;
      double len = 0.0;
      if (std::isinf(norm.p)) {
        for (int k = 0; k < bins; ++k) len = std::max(len, static_cast<double>(std::fabs(row[k])));
      } else {
        for (int k = 0; k < bins; ++k) len += std::pow(std::fabs(row[k]), norm.p);
        len = std::pow(len, 1.0 / norm.p);
      }
      if (len < tiny) len = 1.0;
      for (int k = 0; k < bins; ++k) row[k] = static_cast<float>(row[k] / len);
    }
  }
  return w;
}

// numpy.remainder (floor modulo) for doubles.
static double floorMod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0 && ((b < 0) != (m < 0))) m += b;
  return m;
}

std::vector<float> chromaFilterbank(double sr, int nFft, int nChroma, double tuning, double ctroct, double octwidth,
                                    bool baseC) {
  if (nChroma < 1) throw Error(code::kInvalidArgument, "chroma: nChroma must be >= 1");
  const double a440 = 440.0 * std::pow(2.0, tuning / nChroma);
  const double ref = a440 / 16;
  std::vector<double> frq(static_cast<size_t>(nFft));
  const double step = sr / nFft;  // numpy.linspace(0, sr, nFft, endpoint=False)
  for (int k = 1; k < nFft; ++k) frq[k] = nChroma * std::log2((k * step) / ref);
  frq[0] = nFft > 1 ? frq[1] - 1.5 * nChroma : 0.0;
  std::vector<double> width(static_cast<size_t>(nFft), 1.0);
  for (int k = 0; k + 1 < nFft; ++k) width[k] = std::max(frq[k + 1] - frq[k], 1.0);
  const double half = std::nearbyint(nChroma / 2.0);
  std::vector<double> wts(static_cast<size_t>(nChroma) * nFft);
  for (int c = 0; c < nChroma; ++c) {
    for (int k = 0; k < nFft; ++k) {
      const double d = floorMod(frq[k] - c + half + 10.0 * nChroma, nChroma) - half;
      const double z = 2.0 * d / width[k];
      wts[static_cast<size_t>(c) * nFft + k] = std::exp(-0.5 * z * z);
    }
  }
  const double tiny = std::numeric_limits<double>::min();
  for (int k = 0; k < nFft; ++k) {
    double len = 0.0;
    for (int c = 0; c < nChroma; ++c) {
      const double v = wts[static_cast<size_t>(c) * nFft + k];
      len += v * v;
    }
    len = std::sqrt(len);
    if (len < tiny) len = 1.0;
    double oct = 1.0;
    if (octwidth > 0) {
      const double z = (frq[k] / nChroma - ctroct) / octwidth;
      oct = std::exp(-0.5 * z * z);
    }
    for (int c = 0; c < nChroma; ++c) {
      double& v = wts[static_cast<size_t>(c) * nFft + k];
      v = (v / len) * oct;
    }
  }
  const int shift = baseC ? 3 * (nChroma / 12) : 0;
  const int bins = nFft / 2 + 1;
  std::vector<float> out(static_cast<size_t>(nChroma) * bins);
  for (int r = 0; r < nChroma; ++r) {
    const int src = ((r + shift) % nChroma + nChroma) % nChroma;
    for (int k = 0; k < bins; ++k)
      out[static_cast<size_t>(r) * bins + k] = static_cast<float>(wts[static_cast<size_t>(src) * nFft + k]);
  }
  return out;
}

std::vector<double> dctOrthoMatrix(int nOut, int n) {
  std::vector<double> m(static_cast<size_t>(nOut) * n);
  for (int k = 0; k < nOut; ++k) {
    const double s = k == 0 ? std::sqrt(1.0 / n) : std::sqrt(2.0 / n);
    for (int i = 0; i < n; ++i) m[static_cast<size_t>(k) * n + i] = s * std::cos(M_PI * k * (2.0 * i + 1) / (2.0 * n));
  }
  return m;
}

}  // namespace de::dsp
