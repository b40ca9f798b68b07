#include "dsp/fft.h"

#include <kiss_fft.h>
#include <kiss_fftr.h>

#include <cstdlib>
#include <new>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define DE_HAVE_KISS_SIMD 1
// The renamed SSE build of kissfft (kissfft_simd.cc).
extern "C" {
void* de_kissv_fftr_alloc(int nfft, int inverse_fft, void* mem, size_t* lenmem);
void de_kissv_fftr(void* cfg, const __m128* timedata, void* freqdata);
}
#endif

#include "common/error.h"

namespace de::dsp {

static_assert(sizeof(kiss_fft_cpx) == sizeof(std::complex<float>), "kissfft must be built with float scalars");

struct RealFft::Impl {
  kiss_fftr_cfg fwd = nullptr;  // even n
  kiss_fftr_cfg inv = nullptr;
  kiss_fft_cfg cfwd = nullptr;  // odd n
  kiss_fft_cfg cinv = nullptr;
  std::vector<kiss_fft_cpx> a, b;
  ~Impl() {
    std::free(fwd);
    std::free(inv);
    std::free(cfwd);
    std::free(cinv);
  }
};

RealFft::RealFft(int n) : n_(n), impl_(std::make_unique<Impl>()) {
  if (n < 1) throw Error(code::kInvalidArgument, "fft: size must be positive (" + std::to_string(n) + ")");
  if (n % 2 == 0) {
    impl_->fwd = kiss_fftr_alloc(n, 0, nullptr, nullptr);
    impl_->inv = kiss_fftr_alloc(n, 1, nullptr, nullptr);
    if (!impl_->fwd || !impl_->inv) throw std::bad_alloc();
  } else {
    impl_->cfwd = kiss_fft_alloc(n, 0, nullptr, nullptr);
    impl_->cinv = kiss_fft_alloc(n, 1, nullptr, nullptr);
    if (!impl_->cfwd || !impl_->cinv) throw std::bad_alloc();
    impl_->a.resize(n);
    impl_->b.resize(n);
  }
}

RealFft::~RealFft() = default;

void RealFft::forward(const float* in, std::complex<float>* out) {
  if (impl_->fwd) {
    kiss_fftr(impl_->fwd, in, reinterpret_cast<kiss_fft_cpx*>(out));
    return;
  }
  for (int i = 0; i < n_; ++i) impl_->a[i] = kiss_fft_cpx{in[i], 0.0f};
  kiss_fft(impl_->cfwd, impl_->a.data(), impl_->b.data());
  for (int k = 0; k < bins(); ++k) out[k] = {impl_->b[k].r, impl_->b[k].i};
}

void RealFft::inverse(const std::complex<float>* in, float* out, float scale) {
  if (impl_->inv) {
    // The imaginary parts of DC and Nyquist must be ignored, as numpy's irfft does.
    std::vector<kiss_fft_cpx>& tmp = impl_->a;
    tmp.resize(bins());
    for (int k = 0; k < bins(); ++k) tmp[k] = kiss_fft_cpx{in[k].real(), in[k].imag()};
    tmp[0].i = 0.0f;
    tmp[bins() - 1].i = 0.0f;
    kiss_fftri(impl_->inv, tmp.data(), out);
    for (int i = 0; i < n_; ++i) out[i] *= scale;
    return;
  }
  // Hermitian extension, then a complex inverse; keep the real part.
  const int nb = bins();
  for (int k = 0; k < nb; ++k) impl_->a[k] = kiss_fft_cpx{in[k].real(), k == 0 ? 0.0f : in[k].imag()};
  for (int k = nb; k < n_; ++k) impl_->a[k] = kiss_fft_cpx{in[n_ - k].real(), -in[n_ - k].imag()};
  kiss_fft(impl_->cinv, impl_->a.data(), impl_->b.data());
  for (int i = 0; i < n_; ++i) out[i] = impl_->b[i].r * scale;
}

bool RealFft4::supported(int n) {
#ifdef DE_HAVE_KISS_SIMD
  return n >= 2 && n % 2 == 0;
#else
  (void)n;
  return false;
#endif
}

RealFft4::RealFft4(int n) {
#ifdef DE_HAVE_KISS_SIMD
  if (!supported(n)) throw Error(code::kInvalidArgument, "fft: the 4-lane transform needs an even size");
  cfg_ = de_kissv_fftr_alloc(n, 0, nullptr, nullptr);
  if (!cfg_) throw std::bad_alloc();
#else
  (void)n;
  throw Error(code::kInvalidArgument, "fft: the 4-lane transform is not available on this CPU");
#endif
}

RealFft4::~RealFft4() {
#ifdef DE_HAVE_KISS_SIMD
  if (cfg_) _mm_free(cfg_);
#endif
}

void RealFft4::forward(const float* in, float* out) {
#ifdef DE_HAVE_KISS_SIMD
  de_kissv_fftr(cfg_, reinterpret_cast<const __m128*>(in), out);
#else
  (void)in;
  (void)out;
#endif
}

}  // namespace de::dsp
