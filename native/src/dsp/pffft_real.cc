// PFFFT (Julien Pommier, FFTPACK licence), as shipped inside the vendored libsoxr sources, compiled
// a second time here with every external name renamed so it never clashes with libsoxr's copy.
// libsoxr's version keeps only the radix-2/4 passes: sizes are powers of two >= 32. x86 SSE only.
#include "dsp/fft.h"

#if defined(__x86_64__) || defined(__SSE__)
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#include <new>

#include "common/error.h"

#define pffft_aligned_malloc(n) _mm_malloc((n), 64)
#define pffft_aligned_free(p) _mm_free(p)
#define pffft_aligned_calloc(a, b) calloc(a, b)
#define PFFFT_DOUBLE 0
#define pffft_new_setup de_pffft_new_setup
#define pffft_destroy_setup de_pffft_destroy_setup
#define pffft_zreorder de_pffft_zreorder
#define pffft_cplx_finalize de_pffft_cplx_finalize
#define pffft_cplx_preprocess de_pffft_cplx_preprocess
#define pffft_transform_internal de_pffft_transform_internal
#define cffti1_ps de_pffft_cffti1_ps
#define PFFFT_Setup de_PFFFT_Setup
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "../../vendor/src/libsoxr/src/pffft.c"
#pragma GCC diagnostic pop

namespace de::dsp {

bool PffftReal::supported(int n) { return n >= 32 && (n & (n - 1)) == 0; }

PffftReal::PffftReal(int n) : n_(n) {
  if (!supported(n)) throw Error(code::kInvalidArgument, "fft: pffft needs a power of two >= 32");
  setup_ = pffft_new_setup(n, PFFFT_REAL);
  work_ = static_cast<float*>(_mm_malloc(static_cast<size_t>(n) * sizeof(float), 64));
  if (!setup_ || !work_) throw std::bad_alloc();
}

PffftReal::~PffftReal() {
  if (setup_) pffft_destroy_setup(static_cast<PFFFT_Setup*>(setup_));
  if (work_) _mm_free(work_);
}

float* PffftReal::alignedAlloc(size_t floats) {
  auto* p = static_cast<float*>(_mm_malloc(floats * sizeof(float), 64));
  if (!p) throw std::bad_alloc();
  return p;
}
void PffftReal::alignedFree(float* p) { _mm_free(p); }

void PffftReal::forward(const float* in, float* out) {
  pffft_transform_ordered(static_cast<PFFFT_Setup*>(setup_), in, out, work_, PFFFT_FORWARD);
}

bool PffftComplex::supported(int n) { return n >= 16 && (n & (n - 1)) == 0; }

PffftComplex::PffftComplex(int n) : n_(n) {
  if (!supported(n)) throw Error(code::kInvalidArgument, "fft: pffft needs a power of two >= 16");
  setup_ = pffft_new_setup(n, PFFFT_COMPLEX);
  work_ = static_cast<float*>(_mm_malloc(static_cast<size_t>(2 * n) * sizeof(float), 64));
  if (!setup_ || !work_) throw std::bad_alloc();
}

PffftComplex::~PffftComplex() {
  if (setup_) pffft_destroy_setup(static_cast<PFFFT_Setup*>(setup_));
  if (work_) _mm_free(work_);
}

void PffftComplex::forward(const float* in, float* out) {
  pffft_transform(static_cast<PFFFT_Setup*>(setup_), in, out, work_, PFFFT_FORWARD);
}
void PffftComplex::backward(const float* in, float* out) {
  pffft_transform(static_cast<PFFFT_Setup*>(setup_), in, out, work_, PFFFT_BACKWARD);
}
// libsoxr's copy compiles pffft_zconvolve_accumulate out; its product (stored, not added) on the internal
// layout (blocks of four real parts, then their four imaginary parts).
void PffftComplex::convolve(const float* a, const float* b, float* ab, float scaling) {
  for (int blk = 0; blk < 2 * n_; blk += 8) {
    for (int j = 0; j < 4; ++j) {
      const float ar = a[blk + j], ai = a[blk + 4 + j], br = b[blk + j], bi = b[blk + 4 + j];
      ab[blk + j] = (ar * br - ai * bi) * scaling;
      ab[blk + 4 + j] = (ar * bi + ai * br) * scaling;
    }
  }
}

}  // namespace de::dsp

#else

#include "common/error.h"

namespace de::dsp {
bool PffftReal::supported(int) { return false; }
PffftReal::PffftReal(int n) : n_(n) { throw Error(code::kInvalidArgument, "fft: pffft is not available on this CPU"); }
PffftReal::~PffftReal() {}
float* PffftReal::alignedAlloc(size_t floats) { return static_cast<float*>(::operator new(floats * sizeof(float))); }
void PffftReal::alignedFree(float* p) { ::operator delete(p); }
void PffftReal::forward(const float*, float*) {}
bool PffftComplex::supported(int) { return false; }
PffftComplex::PffftComplex(int n) : n_(n) {
  throw Error(code::kInvalidArgument, "fft: pffft is not available on this CPU");
}
PffftComplex::~PffftComplex() {}
void PffftComplex::forward(const float*, float*) {}
void PffftComplex::backward(const float*, float*) {}
void PffftComplex::convolve(const float*, const float*, float*, float) {}
}  // namespace de::dsp

#endif
