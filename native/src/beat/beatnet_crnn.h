// BeatNet's CRNN (the wheel's BDA: Conv1d(1->2, 10) -> ReLU -> MaxPool(2) -> Linear(262->150) ->
// 2-layer LSTM(150) -> Linear(150->3) -> softmax) on the addon's own AVX2/FMA kernels, read from the
// same ONNX export that ONNX Runtime would run (models/beatnet/README.md). The network is small and
// sequential: ONNX Runtime spends about twice these kernels' time on it (its LSTM issues a GEMM call
// per step), and opening the runtime and a session costs ~0.1 s of CPU that a run without other
// models then never pays. Any model that is not exactly this network, and any CPU without AVX2, FMA
// and F16C, stays on ONNX Runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/cancel.h"

namespace de::beat {

// How the LSTMs' recurrent weights are held. The recurrence reads both layers' weights every frame,
// sequentially in time, and is bound by the bytes it moves from L2: float16 halves them (about a
// fifth off the network's CPU time) and moves the activations by up to ~2e-3; float32 reproduces
// PyTorch to ~1e-6. The input projections and all arithmetic stay float32 either way.
enum class RecurrentPrecision { kFloat16, kFloat32 };

class BeatNetCrnn {
 public:
  // True when this build has the kernels and the CPU runs them (AVX2, FMA and F16C).
  static bool supported();
  // The network of a serialized ONNX model when it has exactly BDA's structure and shapes; null
  // (with the reason in *why) when it does not or the kernels cannot run here. Throws de::Error
  // DE_MODEL_INVALID for bytes that are not a readable ONNX model.
  static std::unique_ptr<BeatNetCrnn> fromOnnx(const uint8_t* bytes, size_t size, RecurrentPrecision precision,
                                               std::string* why);
  // The same for a model file (DE_MODEL_NOT_FOUND when it cannot be read).
  static std::unique_ptr<BeatNetCrnn> fromOnnxFile(const std::string& path, RecurrentPrecision precision,
                                                   std::string* why);

  // features: frame-major [frames x 272] (BeatNet's LOG_SPECT); returns [frames x 3] softmax
  // (beat, downbeat, no beat), the LSTM starting from a zero state.
  std::vector<float> run(const float* features, int64_t frames, const CancelToken* cancel) const;

  struct Weights;
  explicit BeatNetCrnn(std::unique_ptr<Weights> w);
  ~BeatNetCrnn();
  BeatNetCrnn(const BeatNetCrnn&) = delete;
  BeatNetCrnn& operator=(const BeatNetCrnn&) = delete;

 private:
  std::unique_ptr<Weights> w_;
};

}  // namespace de::beat
