#include "ml/ort.h"

#include <dlfcn.h>
#include <onnxruntime_c_api.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/error.h"

namespace de::ml {
namespace {

std::mutex runtimeMutex;
RuntimeInfo runtime;
const OrtApi* api = nullptr;
OrtEnv* env = nullptr;
std::atomic<bool> loaded{false};

// Converts an OrtStatus into a de::Error (and releases it).
void check(OrtStatus* status, const char* code, const std::string& what) {
  if (!status) return;
  std::string message = api->GetErrorMessage(status);
  api->ReleaseStatus(status);
  throw Error(code, what + ": " + message);
}

const char* elementTypeName(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return "bool";
    default: return "other";
  }
}

std::vector<TensorSpec> describe(OrtSession* session, bool inputs) {
  OrtAllocator* allocator = nullptr;
  check(api->GetAllocatorWithDefaultOptions(&allocator), code::kModelInvalid, "session");
  size_t count = 0;
  check(inputs ? api->SessionGetInputCount(session, &count) : api->SessionGetOutputCount(session, &count),
        code::kModelInvalid, "session");
  std::vector<TensorSpec> specs(count);
  for (size_t i = 0; i < count; ++i) {
    char* name = nullptr;
    check(inputs ? api->SessionGetInputName(session, i, allocator, &name)
                 : api->SessionGetOutputName(session, i, allocator, &name),
          code::kModelInvalid, "session");
    specs[i].name = name;
    allocator->Free(allocator, name);
    OrtTypeInfo* typeInfo = nullptr;
    check(inputs ? api->SessionGetInputTypeInfo(session, i, &typeInfo)
                 : api->SessionGetOutputTypeInfo(session, i, &typeInfo),
          code::kModelInvalid, "session");
    const OrtTensorTypeAndShapeInfo* tensorInfo = nullptr;
    OrtStatus* st = api->CastTypeInfoToTensorInfo(typeInfo, &tensorInfo);
    if (!st && tensorInfo) {
      ONNXTensorElementDataType type{};
      size_t dims = 0;
      // Status checked after the type info is released, so an error cannot leak it.
      st = api->GetTensorElementType(tensorInfo, &type);
      if (!st) st = api->GetDimensionsCount(tensorInfo, &dims);
      if (!st) {
        specs[i].shape.resize(dims);
        st = api->GetDimensions(tensorInfo, specs[i].shape.data(), dims);
      }
      specs[i].elementType = elementTypeName(type);
      if (st) api->ReleaseTypeInfo(typeInfo);
      check(st, code::kModelInvalid, "session: tensor shape");
    } else {
      if (st) api->ReleaseStatus(st);
      specs[i].elementType = "non-tensor";
    }
    api->ReleaseTypeInfo(typeInfo);
  }
  return specs;
}

}  // namespace

const RuntimeInfo& loadRuntime(const std::string& libraryPath) {
  std::lock_guard<std::mutex> lock(runtimeMutex);
  if (loaded.load()) return runtime;
  void* handle = ::dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    throw Error(code::kRuntimeMissing, "onnxruntime: cannot load " + libraryPath + " (" + (why ? why : "?") +
                                           "); install onnxruntime-node or set DIDACTIC_ORT_LIBRARY");
  }
  using GetApiBaseFn = const OrtApiBase* (*)();
  auto getApiBase = reinterpret_cast<GetApiBaseFn>(::dlsym(handle, "OrtGetApiBase"));
  if (!getApiBase) {
    ::dlclose(handle);
    throw Error(code::kRuntimeMissing, "onnxruntime: " + libraryPath + " does not export OrtGetApiBase");
  }
  const OrtApiBase* base = getApiBase();
  const std::string version = base->GetVersionString();
  const OrtApi* candidate = base->GetApi(ORT_API_VERSION);
  if (!candidate) {
    ::dlclose(handle);
    throw Error(code::kRuntimeTooOld, "onnxruntime: runtime " + version + " at " + libraryPath +
                                          " does not support C API version " + std::to_string(ORT_API_VERSION) +
                                          " (need onnxruntime >= 1." + std::to_string(ORT_API_VERSION) + ")");
  }
  api = candidate;
  // FATAL only: recoverable problems (e.g. a missing CUDA provider) reach users as our own warnings.
  OrtStatus* st = api->CreateEnv(ORT_LOGGING_LEVEL_FATAL, "didactic-engine", &env);
  check(st, code::kRuntimeMissing, "onnxruntime: CreateEnv");
  runtime.libraryPath = libraryPath;
  runtime.version = version;
  runtime.apiVersion = ORT_API_VERSION;
  char** providers = nullptr;
  int count = 0;
  if (!api->GetAvailableProviders(&providers, &count)) {
    for (int i = 0; i < count; ++i) runtime.availableProviders.emplace_back(providers[i]);
    // Releasing a provider list cannot fail in a way we could act on; drop its status.
    if (OrtStatus* released = api->ReleaseAvailableProviders(providers, count)) api->ReleaseStatus(released);
  }
  // The handle is deliberately never closed: the runtime lives as long as the process.
  loaded.store(true);
  return runtime;
}

bool runtimeLoaded() { return loaded.load(); }

const RuntimeInfo& runtimeInfo() {
  if (!loaded.load()) throw Error(code::kRuntimeMissing, "onnxruntime: the runtime is not loaded");
  return runtime;
}

std::shared_ptr<Session> Session::create(const std::string& modelPath, const std::vector<uint8_t>& modelBytes,
                                         const SessionOptions& options) {
  runtimeInfo();
  std::shared_ptr<Session> self(new Session());
  self->label_ = modelPath.empty() ? std::string("in-memory model") : modelPath;
  OrtSessionOptions* so = nullptr;
  check(api->CreateSessionOptions(&so), code::kModelInvalid, "session options");
  std::unique_ptr<OrtSessionOptions, void (*)(OrtSessionOptions*)> soGuard(
      so, [](OrtSessionOptions* p) { api->ReleaseSessionOptions(p); });
  check(api->SetIntraOpNumThreads(so, std::max(1, options.intraOpThreads)), code::kInvalidArgument, "session options");
  check(api->SetInterOpNumThreads(so, std::max(1, options.interOpThreads)), code::kInvalidArgument, "session options");
  check(api->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL), code::kInvalidArgument, "session options");
  if (!options.memoryPattern) check(api->DisableMemPattern(so), code::kInvalidArgument, "session options");

  for (const std::string& provider : options.providers) {
    if (provider == "cpu") {
      self->activeProviders_.push_back("cpu");
      break;
    }
    if (provider == "cuda") {
      OrtCUDAProviderOptionsV2* cuda = nullptr;
      OrtStatus* st = api->CreateCUDAProviderOptions(&cuda);
      if (!st) st = api->SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda);
      if (cuda) api->ReleaseCUDAProviderOptions(cuda);
      if (st) {
        self->warnings_.push_back(std::string("CUDA execution provider unavailable, using CPU: ") +
                                  api->GetErrorMessage(st));
        api->ReleaseStatus(st);
        continue;
      }
      self->activeProviders_.push_back("cuda");
      continue;
    }
    throw Error(code::kInvalidArgument, "session: unknown execution provider '" + provider + "'");
  }
  if (self->activeProviders_.empty() || self->activeProviders_.back() != "cpu") self->activeProviders_.push_back("cpu");

  OrtStatus* st = modelPath.empty()
                      ? api->CreateSessionFromArray(env, modelBytes.data(), modelBytes.size(), so, &self->session_)
                      : api->CreateSession(env, modelPath.c_str(), so, &self->session_);
  check(st, code::kModelInvalid, "session: cannot load " + self->label_);
  self->inputs_ = describe(self->session_, true);
  self->outputs_ = describe(self->session_, false);
  return self;
}

Session::~Session() {
  if (session_) api->ReleaseSession(session_);
}

std::vector<Tensor> Session::run(const std::vector<InputView>& inputs, const std::vector<std::string>& outputNames,
                                 const CancelToken* cancel) const {
  OrtMemoryInfo* memory = nullptr;
  check(api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memory), code::kInferenceFailed, "run");
  std::unique_ptr<OrtMemoryInfo, void (*)(OrtMemoryInfo*)> memGuard(
      memory, [](OrtMemoryInfo* p) { api->ReleaseMemoryInfo(p); });

  std::vector<OrtValue*> inputValues;
  std::vector<OrtValue*> outputValues(outputNames.size(), nullptr);
  auto releaseAll = [&]() {
    for (OrtValue* v : inputValues) api->ReleaseValue(v);
    for (OrtValue* v : outputValues)
      if (v) api->ReleaseValue(v);
  };
  try {
    std::vector<const char*> inputNames;
    for (const InputView& in : inputs) {
      size_t expected = 1;
      for (int64_t d : in.shape) {
        if (d < 0) throw Error(code::kInvalidArgument, "run: input '" + in.name + "' has a negative dimension");
        expected *= static_cast<size_t>(d);
      }
      if (expected != in.size) {
        throw Error(code::kInvalidArgument, "run: input '" + in.name + "' has " + std::to_string(in.size) +
                                                " values but its shape needs " + std::to_string(expected));
      }
      OrtValue* value = nullptr;
      check(api->CreateTensorWithDataAsOrtValue(memory, const_cast<float*>(in.data), in.size * sizeof(float),
                                                in.shape.data(), in.shape.size(), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
                                                &value),
            code::kInvalidArgument, "run: input '" + in.name + "'");
      inputValues.push_back(value);
      inputNames.push_back(in.name.c_str());
    }
    std::vector<const char*> outNames;
    outNames.reserve(outputNames.size());
    for (const std::string& n : outputNames) outNames.push_back(n.c_str());

    OrtRunOptions* runOptions = nullptr;
    check(api->CreateRunOptions(&runOptions), code::kInferenceFailed, "run");
    std::unique_ptr<OrtRunOptions, void (*)(OrtRunOptions*)> roGuard(
        runOptions, [](OrtRunOptions* p) { api->ReleaseRunOptions(p); });
    // A watcher thread turns an abort into RunOptions terminate, stopping a long inference.
    std::atomic<bool> finished{false};
    std::thread watcher;
    if (cancel) {
      watcher = std::thread([&]() {
        while (!finished.load()) {
          if (cancel->requested()) {
            // Best effort: if the flag cannot be set, the run simply completes and is discarded.
            if (OrtStatus* st = api->RunOptionsSetTerminate(runOptions)) api->ReleaseStatus(st);
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      });
    }
    OrtStatus* st = api->Run(session_, runOptions, inputNames.data(), inputValues.data(), inputValues.size(),
                             outNames.data(), outNames.size(), outputValues.data());
    finished.store(true);
    if (watcher.joinable()) watcher.join();
    if (cancel && cancel->requested()) {
      if (st) api->ReleaseStatus(st);
      throw Error(code::kAborted, "run: aborted");
    }
    check(st, code::kInferenceFailed, "run: " + label_);

    std::vector<Tensor> results(outputNames.size());
    for (size_t i = 0; i < outputValues.size(); ++i) {
      OrtTensorTypeAndShapeInfo* info = nullptr;
      check(api->GetTensorTypeAndShape(outputValues[i], &info), code::kInferenceFailed, "run");
      size_t dims = 0, count = 0;
      ONNXTensorElementDataType type{};
      OrtStatus* shapeStatus = api->GetDimensionsCount(info, &dims);
      if (!shapeStatus) {
        results[i].shape.resize(dims);
        shapeStatus = api->GetDimensions(info, results[i].shape.data(), dims);
      }
      if (!shapeStatus) shapeStatus = api->GetTensorShapeElementCount(info, &count);
      if (!shapeStatus) shapeStatus = api->GetTensorElementType(info, &type);
      api->ReleaseTensorTypeAndShapeInfo(info);
      check(shapeStatus, code::kInferenceFailed, "run: output shape");
      if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        throw Error(code::kModelInvalid,
                    "run: output '" + outputNames[i] + "' is " + elementTypeName(type) + ", expected float32");
      }
      float* data = nullptr;
      check(api->GetTensorMutableData(outputValues[i], reinterpret_cast<void**>(&data)), code::kInferenceFailed, "run");
      results[i].data.assign(data, data + count);
    }
    releaseAll();
    return results;
  } catch (...) {
    releaseAll();
    throw;
  }
}

}  // namespace de::ml
