#include "dsp/avx2.h"

#include "dsp/filters.h"

#ifdef DE_HAVE_AVX2_KERNELS
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#endif

namespace de::dsp::avx2 {

#ifndef DE_HAVE_AVX2_KERNELS

bool available() { return false; }
bool avx512Available() { return false; }

#else

bool available() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

bool avx512Available() {
  static const bool yes = available() && __builtin_cpu_supports("avx512f");
  return yes;
}

namespace {

DE_AVX2 inline double hsumPairs(__m256d v) {  // (v0 + v2) + (v1 + v3)
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  double l[2];
  _mm_storeu_pd(l, s);
  return l[0] + l[1];
}

DE_AVX2 inline float hsum4(__m128 v) {  // (l0 + l2) + (l1 + l3), as the SSE2 filterbank code
  float l[4];
  _mm_storeu_ps(l, v);
  return (l[0] + l[2]) + (l[1] + l[3]);
}

// The SSE2 logPs of features.cc on eight lanes (same constants, same operation order).
DE_AVX2 inline __m256 logPs8(__m256 x) {
  const __m256i bits = _mm256_castps_si256(x);
  __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126));
  const __m256i mant = _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff));
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(mant, _mm256_set1_epi32(0x3f000000)));
  const __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OS);
  e = _mm256_sub_epi32(e, _mm256_and_si256(_mm256_castps_si256(small), _mm256_set1_epi32(1)));
  m = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), _mm256_set1_ps(1.0f));
  const __m256 ef = _mm256_cvtepi32_ps(e);
  const __m256 z = _mm256_mul_ps(m, m);
  __m256 y = _mm256_set1_ps(7.0376836292E-2f);
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(-1.1514610310E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(1.1676998740E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(-1.2420140846E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(1.4249322787E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(-1.6668057665E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(2.0000714765E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(-2.4999993993E-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, m), _mm256_set1_ps(3.3333331174E-1f));
  y = _mm256_mul_ps(_mm256_mul_ps(y, m), z);
  y = _mm256_add_ps(y, _mm256_mul_ps(ef, _mm256_set1_ps(-2.12194440e-4f)));
  y = _mm256_sub_ps(y, _mm256_mul_ps(z, _mm256_set1_ps(0.5f)));
  return _mm256_add_ps(_mm256_add_ps(m, y), _mm256_mul_ps(ef, _mm256_set1_ps(0.693359375f)));
}

}  // namespace

DE_AVX2 void magnitudes(const std::complex<float>* spec, int bins, float* mg, float* pv) {
  const float* sp = reinterpret_cast<const float*>(spec);
  int k = 0;
  for (; k + 7 < bins; k += 8) {
    const __m256 a = _mm256_loadu_ps(sp + 2 * k);      // r0 i0 r1 i1 | r2 i2 r3 i3
    const __m256 b = _mm256_loadu_ps(sp + 2 * k + 8);  // r4 i4 r5 i5 | r6 i6 r7 i7
    // in-lane shuffles give bins (0 1 4 5 | 2 3 6 7); the permute restores 0..7
    const __m256 re = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 im = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    __m256 m = _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(re, re), _mm256_mul_ps(im, im)));
    m = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), _MM_SHUFFLE(3, 1, 2, 0)));
    _mm256_storeu_ps(mg + k, m);
    _mm256_storeu_ps(pv + k, _mm256_mul_ps(m, m));
  }
  for (; k < bins; ++k) {
    const float re = sp[2 * k], im = sp[2 * k + 1];
    const float m = std::sqrt(re * re + im * im);
    mg[k] = m;
    pv[k] = m * m;
  }
}

DE_AVX2 void spectralSums(const float* mag, int bins, const double* freqs, double* total, double* wsum,
                          double* blockSums) {
  __m256d ta = _mm256_setzero_pd(), wa = _mm256_setzero_pd();
  int k = 0, b = 0;
  const int full16 = bins / 16 * 16;
  for (; k < full16; k += 16) {
    __m256d d[4];
    for (int j = 0; j < 4; ++j) {
      d[j] = _mm256_cvtps_pd(_mm_loadu_ps(mag + k + 4 * j));
      ta = _mm256_add_pd(ta, d[j]);
      wa = _mm256_add_pd(wa, _mm256_mul_pd(_mm256_loadu_pd(freqs + k + 4 * j), d[j]));
    }
    blockSums[b++] = hsumPairs(_mm256_add_pd(_mm256_add_pd(d[0], d[1]), _mm256_add_pd(d[2], d[3])));
  }
  double rest = 0.0;
  for (; k + 3 < bins; k += 4) {
    const __m256d d = _mm256_cvtps_pd(_mm_loadu_ps(mag + k));
    ta = _mm256_add_pd(ta, d);
    wa = _mm256_add_pd(wa, _mm256_mul_pd(_mm256_loadu_pd(freqs + k), d));
    rest += hsumPairs(d);
  }
  double t = hsumPairs(ta), w = hsumPairs(wa);
  for (; k < bins; ++k) {
    t += mag[k];
    w += freqs[k] * mag[k];
    rest += mag[k];
  }
  if (full16 < bins) blockSums[b] = rest;
  *total = t;
  *wsum = w;
}

DE_AVX2 double bandwidthSum2(const float* mag, int bins, const double* freqs, double c) {
  const __m256d cv = _mm256_set1_pd(c);
  __m256d a = _mm256_setzero_pd();
  int k = 0;
  for (; k + 3 < bins; k += 4) {
    const __m256d m = _mm256_cvtps_pd(_mm_loadu_ps(mag + k));
    const __m256d d = _mm256_sub_pd(_mm256_loadu_pd(freqs + k), cv);
    a = _mm256_add_pd(a, _mm256_mul_pd(m, _mm256_mul_pd(d, d)));
  }
  double acc = hsumPairs(a);
  for (; k < bins; ++k) {
    const double d = freqs[k] - c;
    acc += mag[k] * d * d;
  }
  return acc;
}

DE_AVX2 float maxValue(const float* s, int n) {
  int k = 0;
  float m = s[0];
  if (n >= 8) {
    __m256 m8 = _mm256_loadu_ps(s);
    for (k = 8; k + 7 < n; k += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(s + k));
    float l[8];
    _mm256_storeu_ps(l, m8);
    m = *std::max_element(l, l + 8);
  }
  for (; k < n; ++k) m = std::max(m, s[k]);
  return m;
}

DE_AVX2 int localMaxima(const float* s, int kLo, int kHi, float ref, int* out) {
  const __m256 rv = _mm256_set1_ps(ref), zero = _mm256_setzero_ps();
  int cnt = 0, k = kLo;
  for (; k + 7 < kHi; k += 8) {
    // s > ref ? s : 0 (NaN gives 0, as the scalar test)
    const __m256 v = _mm256_loadu_ps(s + k), vp = _mm256_loadu_ps(s + k - 1), vn = _mm256_loadu_ps(s + k + 1);
    const __m256 m = _mm256_and_ps(_mm256_cmp_ps(v, rv, _CMP_GT_OQ), v);
    const __m256 prev = _mm256_and_ps(_mm256_cmp_ps(vp, rv, _CMP_GT_OQ), vp);
    const __m256 next = _mm256_and_ps(_mm256_cmp_ps(vn, rv, _CMP_GT_OQ), vn);
    const __m256 isMax =
        _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(m, zero, _CMP_GT_OQ), _mm256_cmp_ps(m, prev, _CMP_GT_OQ)),
                      _mm256_cmp_ps(m, next, _CMP_GE_OQ));
    unsigned bits = static_cast<unsigned>(_mm256_movemask_ps(isMax));
    while (bits) {
      out[cnt++] = k + __builtin_ctz(bits);
      bits &= bits - 1;
    }
  }
  for (; k < kHi; ++k) {
    const float m = s[k] > ref ? s[k] : 0.0f;
    const float prev = s[k - 1] > ref ? s[k - 1] : 0.0f, next = s[k + 1] > ref ? s[k + 1] : 0.0f;
    if (m > 0.0f && m > prev && m >= next) out[cnt++] = k;
  }
  return cnt;
}

DE_AVX2 void multiply(const float* src, const float* w, float* dst, int n) {
  int j = 0;
  for (; j + 7 < n; j += 8) _mm256_storeu_ps(dst + j, _mm256_mul_ps(_mm256_loadu_ps(src + j), _mm256_loadu_ps(w + j)));
  for (; j < n; ++j) dst[j] = src[j] * w[j];
}

DE_AVX2 void axpy(float* a, const float* x, float c, int64_t n) {
  const __m256 cv = _mm256_set1_ps(c);
  int64_t t = 0;
  for (; t + 7 < n; t += 8)
    _mm256_storeu_ps(a + t, _mm256_add_ps(_mm256_loadu_ps(a + t), _mm256_mul_ps(cv, _mm256_loadu_ps(x + t))));
  for (; t < n; ++t) a[t] += c * x[t];
}

DE_AVX2 size_t powerToDb(float* s, size_t count, float aminF, float refDb, float floorDb, float* maxOut) {
  const __m256 a = _mm256_set1_ps(aminF), r = _mm256_set1_ps(refDb);
  const __m256 k10 = _mm256_set1_ps(4.342944819032518f);  // 10 / ln(10)
  const __m256 fl = _mm256_set1_ps(floorDb);
  __m256 mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  size_t i = 0;
  for (; i + 7 < count; i += 8) {
    const __m256 x = _mm256_loadu_ps(s + i);
    const __m256 atFloor = _mm256_cmp_ps(x, a, _CMP_LE_OS);
    const __m256 lv = _mm256_sub_ps(_mm256_mul_ps(k10, logPs8(_mm256_max_ps(a, x))), r);
    const __m256 v = _mm256_blendv_ps(lv, fl, atFloor);
    _mm256_storeu_ps(s + i, v);
    mx = _mm256_max_ps(mx, v);
  }
  float l[8];
  _mm256_storeu_ps(l, mx);
  *maxOut = *std::max_element(l, l + 8);
  return i;
}

DE_AVX2 void sparseRowsApply(const SparseRows& sr, const float* x, float* out) {
  for (int r = 0; r < sr.rows; ++r) {
    const float* w = sr.weights.data() + sr.offset[r];
    const float* xs = x + sr.begin[r];
    const int n = sr.len[r];
    __m256 acc = _mm256_setzero_ps();
    int c = 0;
    for (; c + 7 < n; c += 8) acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(xs + c)));
    float tail = 0.0f;
    for (; c < n; ++c) tail += w[c] * xs[c];
    // ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)) + tail, as SparseRows::apply
    float l[4];
    _mm_storeu_ps(l, _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1)));
    out[r] = ((l[0] + l[1]) + (l[2] + l[3])) + tail;
  }
}

DE_AVX2 void sparseRowsApply4(const SparseRows& sr, const float* const* x, float* out) {
  // four frames per row: the weights are loaded once and the four frames' sequential tail sums
  // run side by side instead of one after another
  const int R = sr.rows;
  for (int r = 0; r < R; ++r) {
    const float* w = sr.weights.data() + sr.offset[r];
    const int b = sr.begin[r], n = sr.len[r];
    const float *x0 = x[0] + b, *x1 = x[1] + b, *x2 = x[2] + b, *x3 = x[3] + b;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int c = 0;
    for (; c + 7 < n; c += 8) {
      const __m256 wv = _mm256_loadu_ps(w + c);
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(wv, _mm256_loadu_ps(x0 + c)));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(wv, _mm256_loadu_ps(x1 + c)));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(wv, _mm256_loadu_ps(x2 + c)));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(wv, _mm256_loadu_ps(x3 + c)));
    }
    float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
    for (; c < n; ++c) {
      t0 += w[c] * x0[c];
      t1 += w[c] * x1[c];
      t2 += w[c] * x2[c];
      t3 += w[c] * x3[c];
    }
    float l[4][4];
    _mm_storeu_ps(l[0], _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1)));
    _mm_storeu_ps(l[1], _mm_add_ps(_mm256_castps256_ps128(a1), _mm256_extractf128_ps(a1, 1)));
    _mm_storeu_ps(l[2], _mm_add_ps(_mm256_castps256_ps128(a2), _mm256_extractf128_ps(a2, 1)));
    _mm_storeu_ps(l[3], _mm_add_ps(_mm256_castps256_ps128(a3), _mm256_extractf128_ps(a3, 1)));
    out[r] = ((l[0][0] + l[0][1]) + (l[0][2] + l[0][3])) + t0;
    out[R + r] = ((l[1][0] + l[1][1]) + (l[1][2] + l[1][3])) + t1;
    out[2 * R + r] = ((l[2][0] + l[2][1]) + (l[2][2] + l[2][3])) + t2;
    out[3 * R + r] = ((l[3][0] + l[3][1]) + (l[3][2] + l[3][3])) + t3;
  }
}

// Row pairs: the blocked layout stores rows r and r + 1 of a block as 8 contiguous floats, so one
// 256-bit register holds both rows' four lanes and the input block is broadcast to both halves.
// P (pairs per group) and F (frames at once) are compile-time so the accumulators stay in
// registers (a run-time bound makes the compiler keep them on the stack).
namespace {

template <int P, int F>
DE_AVX2 inline void pairGroup(const DenseBlocked& d, int g, const float* const* x, float* const* out,
                              const float* const* prefetch = nullptr) {
  __m256 a[F][P];
#pragma GCC unroll 16
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) a[f][r] = _mm256_setzero_ps();
  const size_t stride = static_cast<size_t>(d.rows) * 4;
  const float* wp = d.w.data() + static_cast<size_t>(g) * 4;
  const int fullBlocks = d.cols / 4;
  int b = 0;
  for (; b < fullBlocks; ++b, wp += stride) {
    __m256 v[F];
    if (prefetch && (b & 3) == 0) {
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f) _mm_prefetch(reinterpret_cast<const char*>(prefetch[f] + 4 * b), _MM_HINT_T0);
    }
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f) v[f] = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(x[f] + 4 * b));
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) {
      const __m256 wv = _mm256_loadu_ps(wp + 8 * r);
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f) a[f][r] = _mm256_add_ps(a[f][r], _mm256_mul_ps(wv, v[f]));
    }
  }
  for (; b < d.blocks; ++b, wp += stride) {  // the zero-padded last block
    __m256 v[F];
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f) {
      float s[4];
#pragma GCC unroll 16
      for (int l = 0; l < 4; ++l) s[l] = 4 * b + l < d.cols ? x[f][4 * b + l] : 0.0f;
      v[f] = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(s));
    }
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) {
      const __m256 wv = _mm256_loadu_ps(wp + 8 * r);
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f) a[f][r] = _mm256_add_ps(a[f][r], _mm256_mul_ps(wv, v[f]));
    }
  }
#pragma GCC unroll 16
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 16
    for (int r = 0; r < P; ++r) {
      out[f][g + 2 * r] = hsum4(_mm256_castps256_ps128(a[f][r]));
      out[f][g + 2 * r + 1] = hsum4(_mm256_extractf128_ps(a[f][r], 1));
    }
}

// Up to 12 pairs per pass for one frame (accumulators + input + weight <= 16 registers).
DE_AVX2 void pairGroups1(const DenseBlocked& d, const float* const* x, float* const* out) {
  for (int g = 0; g < d.rows;) {
    const int pairs = std::min(12, (d.rows - g) / 2);
    switch (pairs) {
      case 1: pairGroup<1, 1>(d, g, x, out); break;
      case 2: pairGroup<2, 1>(d, g, x, out); break;
      case 3: pairGroup<3, 1>(d, g, x, out); break;
      case 4: pairGroup<4, 1>(d, g, x, out); break;
      case 5: pairGroup<5, 1>(d, g, x, out); break;
      case 6: pairGroup<6, 1>(d, g, x, out); break;
      case 7: pairGroup<7, 1>(d, g, x, out); break;
      case 8: pairGroup<8, 1>(d, g, x, out); break;
      case 9: pairGroup<9, 1>(d, g, x, out); break;
      case 10: pairGroup<10, 1>(d, g, x, out); break;
      case 11: pairGroup<11, 1>(d, g, x, out); break;
      default: pairGroup<12, 1>(d, g, x, out); break;
    }
    g += 2 * pairs;
  }
}

}  // namespace

DE_AVX2 void denseBlockedApply(const DenseBlocked& d, const float* x, float* out) {
  const float* xs[1] = {x};
  float* os[1] = {out};
  pairGroups1(d, xs, os);
}

DE_AVX2 void denseBlockedApply3(const DenseBlocked& d, const float* x, size_t stride, float* out,
                                const float* prefetch) {
  const float* xs[3] = {x, x + stride, x + 2 * stride};
  float* os[3] = {out, out + d.rows, out + 2 * d.rows};
  const float* pf[3] = {prefetch, prefetch ? prefetch + stride : nullptr, prefetch ? prefetch + 2 * stride : nullptr};
  // three frames by groups of three pairs: 9 accumulators, 3 inputs and a weight; the 6-row
  // group's weights and the frames stay in L1 (measured fastest of the shapes that fit)
  for (int g = 0; g < d.rows;) {
    const int pairs = std::min(3, (d.rows - g) / 2);
    switch (pairs) {
      case 1: pairGroup<1, 3>(d, g, xs, os, prefetch ? pf : nullptr); break;
      case 2: pairGroup<2, 3>(d, g, xs, os, prefetch ? pf : nullptr); break;
      default: pairGroup<3, 3>(d, g, xs, os, prefetch ? pf : nullptr); break;
    }
    g += 2 * pairs;
  }
}

// AVX-512F: four rows per 512-bit register (rows r .. r + 3 of a block are 16 contiguous floats),
// four frames at once; lanes and sums as the 128-bit code. GCC would contract the 512-bit
// multiply and add into an FMA (AVX-512F has one), hence fp-contract=off.
#if defined(__clang__)
#define DE_AVX512 __attribute__((target("avx512f")))
#else
#define DE_AVX512 __attribute__((target("avx512f"), optimize("fp-contract=off")))
// GCC 12's AVX-512 intrinsics fill unused lanes from a deliberately undefined register, which
// its uninitialized-use analysis reports once the optimize attribute is set
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

DE_AVX512 inline float hsum4x(__m128 v) {
  float l[4];
  _mm_storeu_ps(l, v);
  return (l[0] + l[2]) + (l[1] + l[3]);
}

template <int Q>
DE_AVX512 void quadGroup4(const DenseBlocked& d, int g, const float* const* x, float* const* out,
                          const float* const* prefetch) {
  constexpr int F = 4;
  __m512 a[F][Q];
#pragma GCC unroll 16
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 16
    for (int r = 0; r < Q; ++r) a[f][r] = _mm512_setzero_ps();
  const size_t stride = static_cast<size_t>(d.rows) * 4;
  const float* wp = d.w.data() + static_cast<size_t>(g) * 4;
  const int fullBlocks = d.cols / 4;
  int b = 0;
  for (; b < fullBlocks; ++b, wp += stride) {
    if (prefetch && (b & 3) == 0) {
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f) _mm_prefetch(reinterpret_cast<const char*>(prefetch[f] + 4 * b), _MM_HINT_T0);
    }
    __m512 v[F];
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f) v[f] = _mm512_broadcast_f32x4(_mm_loadu_ps(x[f] + 4 * b));
#pragma GCC unroll 16
    for (int r = 0; r < Q; ++r) {
      const __m512 wv = _mm512_loadu_ps(wp + 16 * r);
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f) a[f][r] = _mm512_add_ps(a[f][r], _mm512_mul_ps(wv, v[f]));
    }
  }
  for (; b < d.blocks; ++b, wp += stride) {  // the zero-padded last block
    __m512 v[F];
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f) {
      float s[4];
#pragma GCC unroll 16
      for (int l = 0; l < 4; ++l) s[l] = 4 * b + l < d.cols ? x[f][4 * b + l] : 0.0f;
      v[f] = _mm512_broadcast_f32x4(_mm_loadu_ps(s));
    }
#pragma GCC unroll 16
    for (int r = 0; r < Q; ++r) {
      const __m512 wv = _mm512_loadu_ps(wp + 16 * r);
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f) a[f][r] = _mm512_add_ps(a[f][r], _mm512_mul_ps(wv, v[f]));
    }
  }
#pragma GCC unroll 16
  for (int f = 0; f < F; ++f)
#pragma GCC unroll 16
    for (int r = 0; r < Q; ++r) {
      out[f][g + 4 * r] = hsum4x(_mm512_extractf32x4_ps(a[f][r], 0));
      out[f][g + 4 * r + 1] = hsum4x(_mm512_extractf32x4_ps(a[f][r], 1));
      out[f][g + 4 * r + 2] = hsum4x(_mm512_extractf32x4_ps(a[f][r], 2));
      out[f][g + 4 * r + 3] = hsum4x(_mm512_extractf32x4_ps(a[f][r], 3));
    }
}

}  // namespace

DE_AVX512 void denseBlockedApply4(const DenseBlocked& d, const float* x, size_t stride, float* out,
                                  const float* prefetch) {
  const float* xs[4] = {x, x + stride, x + 2 * stride, x + 3 * stride};
  float* os[4] = {out, out + d.rows, out + 2 * d.rows, out + 3 * d.rows};
  const float* pf[4] = {};
  if (prefetch)
    for (int f = 0; f < 4; ++f) pf[f] = prefetch + f * stride;
  // up to three row quads per pass: 12 accumulators, 4 inputs and a weight (measured fastest)
  for (int g = 0; g < d.rows;) {
    const int quads = std::min(3, (d.rows - g) / 4);
    switch (quads) {
      case 1: quadGroup4<1>(d, g, xs, os, prefetch ? pf : nullptr); break;
      case 2: quadGroup4<2>(d, g, xs, os, prefetch ? pf : nullptr); break;
      default: quadGroup4<3>(d, g, xs, os, prefetch ? pf : nullptr); break;
    }
    g += 4 * quads;
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif

}  // namespace de::dsp::avx2
