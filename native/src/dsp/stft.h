// Short-time Fourier transform with librosa 0.11 conventions (librosa.stft / librosa.istft).
#pragma once

#include <complex>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "dsp/fft.h"
#include "dsp/window.h"

namespace de::dsp {

enum class PadMode { Constant, Reflect, Edge };

PadMode parsePadMode(const std::string& name);  // "constant", "reflect", "edge"

// Fully resolved parameters (defaults live in TypeScript).
struct StftParams {
  int nFft = 2048;
  int hopLength = 512;
  int winLength = 2048;
  WindowType window = WindowType::Hann;
  bool center = true;
  PadMode padMode = PadMode::Constant;
};

// Largest prime factor an FFT size may have (see validateStftParams).
inline constexpr int kMaxFftPrimeFactor = 127;

void validateStftParams(const StftParams& p, const char* op);

// Frames for n samples: 1 + floor((n + 2*(nFft/2) - nFft) / hop) when centred, else
// 1 + floor((n - nFft) / hop) (0 if n < nFft).
int64_t stftFrameCount(int64_t n, const StftParams& p);

// Index of padded position i (may be negative or >= n) into x[0, n) by numpy.pad's rules;
// returns -1 for constant padding outside the signal.
int64_t padIndex(int64_t i, int64_t n, PadMode mode);

// Computes single frames; reusable across frames, one instance per thread.
class StftFramer {
 public:
  StftFramer(const StftParams& p);
  ~StftFramer();
  StftFramer(const StftFramer&) = delete;
  StftFramer& operator=(const StftFramer&) = delete;
  int bins() const { return fft_.bins(); }
  const StftParams& params() const { return p_; }
  // Spectrum of frame t of x[0, n) into out[0, bins).
  void frame(const float* x, int64_t n, int64_t t, std::complex<float>* out);
  // Spectra of frames t0 .. t0 + count - 1 (count <= 4) into out[j * bins + k]; four lanes of
  // one SSE transform where available, identical results to frame().
  void frames(const float* x, int64_t n, int64_t t0, int count, std::complex<float>* out);
  // True for PFFFT sizes: packedFrame() then returns frame t's spectrum in PFFFT's order
  // (X_0, X_{n/2}, then re, im of X_1 .. X_{n/2-1}; valid until the next call) without frame()'s copy.
  bool packed() const { return pffft_ != nullptr; }
  const float* packedFrame(const float* x, int64_t n, int64_t t);

 private:
  void fill(const float* x, int64_t n, int64_t t, float* dst, int stride);
  StftParams p_;
  RealFft fft_;
  std::unique_ptr<RealFft4> fft4_;
  std::unique_ptr<PffftReal> pffft_;  // preferred for power-of-two sizes
  float* pin_ = nullptr;              // aligned nFft input / output for pffft
  float* pout_ = nullptr;
  std::vector<float> window_;  // nFft, centred winLength window
  std::vector<float> buf_;
  float* in4_ = nullptr;   // 16-byte aligned, 4 * nFft
  float* out4_ = nullptr;  // 16-byte aligned, 8 * bins
  std::vector<float> store4_;
};

// Complex spectrogram, frame-major: data[t * bins + k].
struct Spectrogram {
  int bins = 0;
  int64_t frames = 0;
  std::vector<std::complex<float>> data;
};

Spectrogram stft(const float* x, int64_t n, const StftParams& p, const CancelToken* cancel);

// librosa.istft: inverse FFT, window, overlap-add, divide by the window's squared sum where it
// exceeds float "tiny". `length` < 0 means librosa's default length.
std::vector<float> istft(const std::complex<float>* spec, int bins, int64_t frames, const StftParams& p, int64_t length,
                         const CancelToken* cancel);

// Throws DE_NON_FINITE_SAMPLES if any sample is NaN or infinite.
void requireFinite(const float* x, int64_t n, const char* op);

}  // namespace de::dsp
