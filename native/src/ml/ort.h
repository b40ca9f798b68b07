// ONNX Runtime through its C API. The runtime library is not linked: it is loaded at run time
// (from the onnxruntime-node package by default) and must support the API version of our headers.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/cancel.h"

struct OrtApi;
struct OrtSession;
struct OrtEnv;

namespace de::ml {

struct RuntimeInfo {
  std::string libraryPath;
  std::string version;      // runtime's own version string, e.g. "1.30.0"
  uint32_t apiVersion = 0;  // C API version requested (the headers' ORT_API_VERSION)
  std::vector<std::string> availableProviders;
};

// Loads the shared library once per process; later calls with another path are errors.
const RuntimeInfo& loadRuntime(const std::string& libraryPath);
bool runtimeLoaded();
const RuntimeInfo& runtimeInfo();  // throws DE_NATIVE_RUNTIME_MISSING when not loaded

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;  // -1 for symbolic dimensions
  std::string elementType;     // "float32", "int64", ...
};

struct SessionOptions {
  int intraOpThreads = 1;
  int interOpThreads = 1;
  std::vector<std::string> providers{"cpu"};  // in preference order; "cuda" falls back to CPU
  // ORT's memory-pattern planner keeps one arena block per distinct input shape; for big graphs
  // run on fixed segments (Demucs) that costs more resident memory than it saves in time.
  bool memoryPattern = true;
};

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct InputView {
  std::string name;
  std::vector<int64_t> shape;
  const float* data;
  size_t size;
};

class Session {
 public:
  // Exactly one of modelPath / modelBytes is used.
  static std::shared_ptr<Session> create(const std::string& modelPath, const std::vector<uint8_t>& modelBytes,
                                         const SessionOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  const std::vector<std::string>& activeProviders() const { return activeProviders_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Thread-safe (ORT allows concurrent Run on one session). Float32 inputs and outputs.
  std::vector<Tensor> run(const std::vector<InputView>& inputs, const std::vector<std::string>& outputNames,
                          const CancelToken* cancel) const;

 private:
  Session() = default;
  OrtSession* session_ = nullptr;
  std::vector<TensorSpec> inputs_;
  std::vector<TensorSpec> outputs_;
  std::vector<std::string> activeProviders_;
  std::vector<std::string> warnings_;
  std::string label_;
};

}  // namespace de::ml
