// Demucs (htdemucs) stem separation around an ONNX graph that holds everything but the spectral
// transforms: the mix normalisation, the 7.8 s segmenting with its triangular cross-fade, the
// torch.stft-convention STFT/iSTFT (n_fft 4096, hop 1024, normalized, Demucs' reflect padding),
// random shifts and the overlap-add live here. See docs/models.md "Demucs (htdemucs)".
#pragma once

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "dsp/fft.h"
#include "ml/ort.h"

namespace de::ml::demucs {

inline constexpr int kSampleRate = 44100;
inline constexpr int kChannels = 2;
inline constexpr int kNfft = 4096;
inline constexpr int kHop = 1024;
inline constexpr int kBins = 2048;                  // the Nyquist bin is dropped
inline constexpr int64_t kDefaultSegment = 343980;  // int(Fraction(39, 5) * 44100)

// What the model file says about itself, checked against the session's tensor shapes.
struct ModelInfo {
  int sources = 0;
  std::vector<std::string> sourceNames;  // from metadata "sources" (comma-separated), else htdemucs' order
  int64_t segment = kDefaultSegment;     // samples per segment (input 0's last dim)
  int64_t frames = 0;                    // STFT frames per segment (input 1's last dim)
  int sampleRate = kSampleRate;          // metadata "sample_rate" when present
  int64_t batch = 1;                     // fixed batch dim of the graph, or -1 when dynamic
  std::string mixName, specName, specOutName, timeOutName;
};

// Top-level metadata_props of an ONNX ModelProto, read without parsing the graph.
std::vector<std::pair<std::string, std::string>> readOnnxMetadata(const std::string& path,
                                                                  const std::vector<uint8_t>& bytes);

// Validates the session against the contract; throws DE_MODEL_INVALID with the reason.
ModelInfo inspectModel(const Session& session, const std::vector<std::pair<std::string, std::string>>& metadata);

struct SeparateOptions {
  double overlap = 0.25;
  double transitionPower = 1.0;
  int shifts = 0;             // 0: no random shift (deterministic)
  uint64_t seed = 0;          // for the shift offsets
  int batch = 1;              // segments per session run (1 when the graph's batch is fixed at 1)
  double segmentSeconds = 0;  // 0: the model's segment; else shorter segments (zero-padded in the model)
};

// Per-segment progress: done, total (segment runs over all shifts).
using Progress = std::function<void(int64_t done, int64_t total)>;

struct Stems {
  int sources = 0;
  int64_t frames = 0;
  // One interleaved stereo buffer per source.
  std::vector<std::vector<float>> data;
};

// `mix` is interleaved stereo at 44.1 kHz (read in place, not copied). The output keeps the length.
// Memory: the stems (sources x frames x 2 floats) plus one batch of segment tensors.
Stems separate(const Session& session, const ModelInfo& model, const float* mix, int64_t frames,
               const SeparateOptions& options, const CancelToken* cancel, const Progress& progress);

// Resamples (soxr HQ) to 44.1 kHz and up-mixes mono / keeps the first two channels; returns
// interleaved stereo. Only needed when needsConversion().
bool needsConversion(int channels, double sampleRate);
std::vector<float> toModelInput(const float* interleaved, int64_t frames, int channels, double sampleRate,
                                int64_t* outFrames, const CancelToken* cancel);

// The spectral transforms, exposed for tests: one channel of one segment (length `segment`) to its
// [2 * kBins * frames] interleaved re/im spectrum, and back (adds into `out`, length `segment`).
// Holds its FFT and scratch buffers: one instance per thread.
class Spectral {
 public:
  explicit Spectral(int64_t segment);
  int64_t frames() const { return frames_; }
  // out: [bins][frames] real parts then the same for imaginary parts, at stride given by caller.
  void forward(const float* x, float* re, float* im, int64_t stride);
  void inverse(const float* re, const float* im, int64_t stride, float* out);

 private:
  int64_t segment_, frames_, padLeft_, padded_;
  std::vector<float> window_, envelopeInv_;
  std::vector<float> frame_;               // one windowed frame
  std::vector<std::complex<float>> spec_;  // its kNfft / 2 + 1 bins
  dsp::RealFft fft_;
};

}  // namespace de::ml::demucs
