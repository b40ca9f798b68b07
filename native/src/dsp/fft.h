// Real FFT of one fixed size (kissfft, float). Even sizes use kiss_fftr; odd sizes fall back to
// the complex transform with a zero imaginary part. Not thread-safe: one instance per thread.
#pragma once

#include <complex>
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
  // in: n/2 + 1 bins; out: n samples, scaled by 1/n (a true inverse).
  void inverse(const std::complex<float>* in, float* out);

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

}  // namespace de::dsp
