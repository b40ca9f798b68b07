// Filterbanks and transforms with librosa 0.11's exact construction (librosa.filters.mel,
// librosa.filters.chroma, scipy's orthonormal DCT-II), built in double and stored as float32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace de::dsp {

double hzToMel(double hz, bool htk);
double melToHz(double mel, bool htk);
// librosa.mel_frequencies: n points evenly spaced in mel between fmin and fmax, in Hz.
std::vector<double> melFrequencies(int n, double fmin, double fmax, bool htk);
// numpy.fft.rfftfreq(nFft, 1/sr)
std::vector<double> fftFrequencies(double sr, int nFft);

// A row-sparse float matrix (rows x cols); each row keeps one span [begin, begin + len) outside
// which its weights are zero (or below dropBelow times the row maximum). Used for the mel bank.
struct SparseRows {
  int rows = 0, cols = 0;
  std::vector<int> begin, len;
  std::vector<size_t> offset;  // into weights
  std::vector<float> weights;
  static SparseRows fromDense(const std::vector<float>& dense, int rows, int cols, float dropBelow = 0.0f);
  // out[r] = sum_c row_r[c] * x[c], accumulated in double.
  void apply(const float* x, float* out) const;
  // count vectors x[j] into out[j * rows + r], same results as apply() on each.
  void applyFrames(const float* const* x, int count, float* out) const;
};

// A dense rows x cols float matrix laid out for a 4-lane matrix-vector product: for every block
// of 4 columns, the rows' 4 weights are contiguous. apply() sums each row's products in 4 lanes.
struct DenseBlocked {
  int rows = 0, cols = 0, blocks = 0;
  std::vector<float> w;  // [blocks][rows][4], zero-padded past cols
  static DenseBlocked fromDense(const std::vector<float>& dense, int rows, int cols);
  void apply(const float* x, float* out) const;  // x: cols values
  // Two vectors at once (each weight load serves both): out0 = W x0, out1 = W x1.
  void apply2(const float* x0, const float* x1, float* out0, float* out1) const;
  // count (1..batch()) vectors x + j * stride into out[j * rows + r]; `prefetch` (nullable)
  // points at the next batch's frames (same stride) to pull into cache meanwhile. Same results
  // as apply() on each.
  void applyFrames(const float* x, size_t stride, int count, float* out, const float* prefetch = nullptr) const;
  // frames per applyFrames call that the fastest kernel for this CPU and shape takes (2 to 4)
  int batch() const;
};

// Mel filterbank norm: "slaney" area normalisation, none, or a p-norm per filter (p > 0, inf allowed).
struct MelNorm {
  enum Kind { Slaney, None, PNorm } kind = Slaney;
  double p = 2.0;
};

// Dense nMels x (1 + nFft/2) float matrix, row-major, as librosa.filters.mel.
std::vector<float> melFilterbank(double sr, int nFft, int nMels, double fmin, double fmax, bool htk, MelNorm norm);

// Dense nChroma x (1 + nFft/2) float matrix as librosa.filters.chroma(ctroct, octwidth (<= 0: none),
// norm 2, base_c).
std::vector<float> chromaFilterbank(double sr, int nFft, int nChroma, double tuning, double ctroct, double octwidth,
                                    bool baseC);

// The first nOut rows of the orthonormal DCT-II matrix of size n (row-major nOut x n).
std::vector<double> dctOrthoMatrix(int nOut, int n);

}  // namespace de::dsp
