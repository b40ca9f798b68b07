// Real FFT of one fixed size (kissfft, float). Even sizes use kiss_fftr; odd sizes fall back to
// the complex transform with a zero imaginary part. Not thread-safe: one instance per thread.
#pragma once

#include <complex>
#include <cstddef>
#include <memory>
#include <vector>

namespace de::dsp {

class RealFft {
 public:
  explicit RealFft(int n);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return n_; }
  int bins() const { return n_ / 2 + 1; }

  // in: n samples; out: n/2 + 1 bins (unnormalised, e^{-i...} convention).
  void forward(const float* in, std::complex<float>* out);
  // in: n/2 + 1 bins; out: n samples, scaled by 1/n (a true inverse). The imaginary parts of DC
  // and Nyquist are ignored, as numpy's irfft does.
  void inverse(const std::complex<float>* in, float* out) { inverse(in, out, 1.0f / static_cast<float>(n_)); }
  // The same with the output scaled by `scale` (a normalised transform's inverse takes 1/sqrt(n)).
  void inverse(const std::complex<float>* in, float* out, float scale);

 private:
  struct Impl;
  int n_;
  std::unique_ptr<Impl> impl_;
};

// Four real forward transforms of the same even size at once (kissfft's SSE build). Input is
// interleaved by lane: sample j of signal s at in[4 * j + s]; output bin k of signal s is
// (out[8 * k + s], out[8 * k + 4 + s]). Both buffers must be 16-byte aligned.
class RealFft4 {
 public:
  static bool supported(int n);
  explicit RealFft4(int n);
  ~RealFft4();
  RealFft4(const RealFft4&) = delete;
  RealFft4& operator=(const RealFft4&) = delete;
  void forward(const float* in, float* out);

 private:
  void* cfg_ = nullptr;
};

// PFFFT real forward transform of a power-of-two size >= 32 (SSE). `in` and `out` hold n floats
// and must be 16-byte aligned (use alignedAlloc). Output order: out[0] = X_0, out[1] = X_{n/2}
// (both real), then (re, im) of X_1 ... X_{n/2-1}.
class PffftReal {
 public:
  static bool supported(int n);
  explicit PffftReal(int n);
  ~PffftReal();
  PffftReal(const PffftReal&) = delete;
  PffftReal& operator=(const PffftReal&) = delete;
  void forward(const float* in, float* out);
  static float* alignedAlloc(size_t floats);
  static void alignedFree(float* p);

 private:
  int n_;
  void* setup_ = nullptr;
  float* work_ = nullptr;
};

// PFFFT complex transform of a power-of-two size >= 16 in PFFFT's internal (unordered) order, for
// fast convolutions (Bluestein DFTs of odd sizes). Buffers hold 2 * n floats, 16-byte aligned.
class PffftComplex {
 public:
  static bool supported(int n);
  explicit PffftComplex(int n);
  ~PffftComplex();
  PffftComplex(const PffftComplex&) = delete;
  PffftComplex& operator=(const PffftComplex&) = delete;
  void forward(const float* in, float* out);   // unordered spectrum
  void backward(const float* in, float* out);  // unnormalised inverse of forward()
  // ab = a * b * scaling, element-wise on unordered spectra.
  void convolve(const float* a, const float* b, float* ab, float scaling);

 private:
  int n_;
  void* setup_ = nullptr;
  float* work_ = nullptr;
};

}  // namespace de::dsp
