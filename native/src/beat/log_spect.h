// BeatNet's input features (its LOG_SPECT, offline mode), a transcription of madmom 0.16.1's chain:
// FramedSignal (centred frames, ceil(n / hop) of them) -> STFT (symmetric Hann, FFT size = frame
// size, Nyquist dropped) -> |X| -> LogarithmicFilterbank (triangular, log-spaced, area-normalised,
// unique bins) -> log10(mul * x + add) -> positive first-order difference over diff_frames, stacked.
#pragma once

#include <cstdint>
#include <vector>

#include "common/cancel.h"

namespace de::beat {

struct LogSpectParams {
  double sampleRate = 22050.0;
  int frameSize = 1411;  // int(0.064 * 22050)
  int hopSize = 441;     // int(0.020 * 22050): 50 frames/s
  int bandsPerOctave = 24;
  double fmin = 30.0;
  double fmax = 17000.0;
  double fref = 440.0;
  float mul = 1.0f;
  float add = 1.0f;
  double diffRatio = 0.5;
  // Implementation switches for tests: the prime-factor DFT where the frame size has two coprime
  // factors (else Bluestein), and its AVX2 kernels where the CPU has them (else portable loops,
  // bit-identical).
  bool primeFactor = true;
  bool simd = true;
};

// Filterbank as madmom builds it: filters[band] spans bins [start, start + weights.size()).
struct LogFilterbank {
  int numBins = 0;  // STFT bins (frameSize / 2)
  struct Band {
    int start = 0;
    std::vector<float> weights;
  };
  std::vector<Band> bands;
};

LogFilterbank makeLogFilterbank(const LogSpectParams& p);

// madmom's _diff_frames: frames between the compared spectra for a given window overlap ratio.
int diffFrames(const LogSpectParams& p);

// Frame-major features: data[t * dims + j], j < bands: log spectrogram, j >= bands: its positive
// difference. dims = 2 * bands (272 for BeatNet's defaults).
struct LogSpectFeatures {
  int64_t frames = 0;
  int bands = 0;
  int dims = 0;
  std::vector<float> data;
};

LogSpectFeatures logSpect(const float* x, int64_t n, const LogSpectParams& p, const CancelToken* cancel);

}  // namespace de::beat
