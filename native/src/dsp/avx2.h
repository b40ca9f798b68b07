// AVX2 versions of the analysis hot loops (and an AVX-512F chroma product), chosen at run time
// (the build targets baseline x86-64). Each kernel performs the same float/double operations in the same order as the
// SSE2/scalar code it replaces, without FMA, so results are bit-identical on either path.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DE_HAVE_AVX2_KERNELS 1
// FMA is deliberately not enabled: a fused multiply-add rounds once where the SSE2 code rounds
// twice, which would change results.
#define DE_AVX2 __attribute__((target("avx2")))
#endif

namespace de::dsp {

struct SparseRows;
struct DenseBlocked;

namespace avx2 {

// True when the CPU (and OS) support AVX2; always false where the kernels are not built.
bool available();
// AVX2 and AVX-512F (for denseBlockedApply4).
bool avx512Available();

#ifdef DE_HAVE_AVX2_KERNELS
// mg = |X|, pv = mg * mg for one complex frame.
void magnitudes(const std::complex<float>* spec, int bins, float* mg, float* pv);
// Spectral sums of one magnitude frame: total = sum mag, wsum = sum freqs * mag, lanes as the
// SSE2 loop (four lanes by k % 4, then (l0 + l2) + (l1 + l3), then the scalar tail). blockSums
// (ceil(bins / 16) entries) receives each 16-bin block's sum for the roll-off search.
void spectralSums(const float* mag, int bins, const double* freqs, double* total, double* wsum, double* blockSums);
// sum mag[k] * (freqs[k] - c)^2 in the same lane order.
double bandwidthSum2(const float* mag, int bins, const double* freqs, double c);
// max of s[0, n) (n >= 1)
float maxValue(const float* s, int n);
// piptrack's peak test: the k in [kLo, kHi) (kLo >= 1, kHi + 1 <= bins) where the thresholded
// spectrum (s > ref ? s : 0) is positive, > its left and >= its right neighbour, ascending
int localMaxima(const float* s, int kLo, int kHi, float ref, int* out);
// dst[j] = src[j] * w[j]
void multiply(const float* src, const float* w, float* dst, int n);
// a[t] += c * x[t]
void axpy(float* a, const float* x, float c, int64_t n);
// power_to_db's vector body over s[0, count - count % 8): returns how many values it converted
// and their maximum (amin must be a normal float).
size_t powerToDb(float* s, size_t count, float aminF, float refDb, float floorDb, float* maxOut);

void sparseRowsApply(const SparseRows& m, const float* x, float* out);
// four vectors x[j] into out[j * rows + r]
void sparseRowsApply4(const SparseRows& m, const float* const* x, float* out);
// even rows <= 24 only
void denseBlockedApply(const DenseBlocked& m, const float* x, float* out);
// three vectors x, x + stride, x + 2 * stride into out[3 * rows]; `prefetch` (nullable) is
// the start of three frames needed soon, fetched into cache while these are computed
void denseBlockedApply3(const DenseBlocked& m, const float* x, size_t stride, float* out, const float* prefetch);
// the same for four vectors with AVX-512F (rows a multiple of 4, <= 24)
void denseBlockedApply4(const DenseBlocked& m, const float* x, size_t stride, float* out, const float* prefetch);
#endif

}  // namespace avx2
}  // namespace de::dsp
