// kissfft built a second time with USE_SIMD: one call transforms four independent real signals
// packed as __m128 lanes (see kissfft's README.simd). Every public name is renamed so this copy
// never clashes with the float32 kissfft library linked beside it. x86 SSE only.
#if defined(__SSE__) || defined(__x86_64__)
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#undef kiss_fft_scalar
#define USE_SIMD 1
#define kiss_fft_alloc de_kissv_fft_alloc
#define kiss_fft de_kissv_fft
#define kiss_fft_stride de_kissv_fft_stride
#define kiss_fft_cleanup de_kissv_fft_cleanup
#define kiss_fft_next_fast_size de_kissv_fft_next_fast_size
#define kiss_fftr_alloc de_kissv_fftr_alloc
#define kiss_fftr de_kissv_fftr
#define kiss_fftri de_kissv_fftri
#define kiss_fft_state de_kissv_fft_state
#define kiss_fftr_state de_kissv_fftr_state
#define kiss_fft_cpx de_kissv_fft_cpx
#define kiss_fft_cfg de_kissv_fft_cfg
#define kiss_fftr_cfg de_kissv_fftr_cfg
#define KISS_FFT_API

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kiss_fft.c"
#include "kiss_fftr.c"
#pragma GCC diagnostic pop
#endif
