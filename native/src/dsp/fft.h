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

}  // namespace de::dsp
