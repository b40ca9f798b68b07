// N-API glue for ONNX Runtime: loading the runtime, creating sessions (model handles, napi/handle.h),
// running them off-thread, closing any model handle.
#include "ml/ml_binding.h"

#include "ml/model_binding.h"
#include "ml/ort.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::ml {
namespace {

using napi::PromiseWorker;

constexpr const char* kSessionKind = "session";

Napi::Object runtimeToJs(Napi::Env env, const RuntimeInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("libraryPath", Napi::String::New(env, info.libraryPath));
  out.Set("version", Napi::String::New(env, info.version));
  out.Set("apiVersion", Napi::Number::New(env, info.apiVersion));
  out.Set("availableProviders", napi::stringsToJs(env, info.availableProviders));
  return out;
}

Napi::Array specsToJs(Napi::Env env, const std::vector<TensorSpec>& specs) {
  Napi::Array out = Napi::Array::New(env, specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("name", Napi::String::New(env, specs[i].name));
    Napi::Array shape = Napi::Array::New(env, specs[i].shape.size());
    for (size_t d = 0; d < specs[i].shape.size(); ++d) {
      shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(specs[i].shape[d])));
    }
    s.Set("shape", shape);
    s.Set("type", Napi::String::New(env, specs[i].elementType));
    out.Set(static_cast<uint32_t>(i), s);
  }
  return out;
}

class LoadRuntimeWorker : public PromiseWorker {
 public:
  LoadRuntimeWorker(Napi::Env env, std::string path) : PromiseWorker(env, "ortLoad"), path_(std::move(path)) {}

 protected:
  void Run() override { info_ = &loadRuntime(path_); }
  Napi::Value Result(Napi::Env env) override { return runtimeToJs(env, *info_); }

 private:
  std::string path_;
  const RuntimeInfo* info_ = nullptr;
};

Napi::Value OrtLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, "ortLoad", "path must be a string");
  auto* worker = new LoadRuntimeWorker(env, info[0].As<Napi::String>().Utf8Value());
  worker->Queue();
  return worker->Promise();
}

Napi::Value OrtInfo(const Napi::CallbackInfo& info) {
  if (!runtimeLoaded()) return info.Env().Null();
  return runtimeToJs(info.Env(), runtimeInfo());
}

Napi::Object sessionInfoToJs(Napi::Env env, const Session& session) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("inputs", specsToJs(env, session.inputs()));
  out.Set("outputs", specsToJs(env, session.outputs()));
  out.Set("providers", napi::stringsToJs(env, session.activeProviders()));
  out.Set("warnings", napi::stringsToJs(env, session.warnings()));
  return out;
}

class RunWorker : public napi::ModelWorker {
 public:
  RunWorker(Napi::Env env, napi::Lease lease, std::vector<napi::PinnedFloats> pins, std::vector<InputView> inputs,
            std::vector<std::string> outputNames, CancelTokenPtr cancel)
      : napi::ModelWorker(env, "run", std::move(lease)),
        pins_(std::move(pins)),
        inputs_(std::move(inputs)),
        outputNames_(std::move(outputNames)),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override { results_ = engine<Session>().run(inputs_, outputNames_, cancel_.get()); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    for (size_t i = 0; i < results_.size(); ++i) {
      Napi::Object tensor = Napi::Object::New(env);
      Napi::Array dims = Napi::Array::New(env, results_[i].shape.size());
      for (size_t d = 0; d < results_[i].shape.size(); ++d) {
        dims.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(results_[i].shape[d])));
      }
      tensor.Set("dims", dims);
      tensor.Set("data", napi::toFloat32Array(env, std::move(results_[i].data)));
      out.Set(outputNames_[i], tensor);
    }
    return out;
  }

 private:
  std::vector<napi::PinnedFloats> pins_;
  std::vector<InputView> inputs_;
  std::vector<std::string> outputNames_;
  CancelTokenPtr cancel_;
  std::vector<Tensor> results_;
};

// sessionRun(handle, feeds, outputNames?, cancel?)
Napi::Value SessionRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "run";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kSessionKind, op);
  Napi::Object feeds = napi::objectArg(env, info, 1, op);
  std::vector<napi::PinnedFloats> pins;
  std::vector<InputView> inputs;
  Napi::Array names = feeds.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value feed = feeds.Get(name);
    if (!feed.IsObject()) napi::throwInvalidArgument(env, op, "input '" + name + "' must be {data, dims}");
    Napi::Object tensor = feed.As<Napi::Object>();
    napi::PinnedFloats pinned = napi::pinFloat32(env, tensor.Get("data"), op, "tensor data");
    Napi::Value dimsValue = tensor.Get("dims");
    if (!dimsValue.IsArray()) napi::throwInvalidArgument(env, op, "input '" + name + "' dims must be an array");
    Napi::Array dims = dimsValue.As<Napi::Array>();
    InputView view{name, {}, pinned.data, pinned.size};
    for (uint32_t d = 0; d < dims.Length(); ++d) view.shape.push_back(dims.Get(d).As<Napi::Number>().Int64Value());
    inputs.push_back(std::move(view));
    pins.push_back(std::move(pinned));
  }
  std::vector<std::string> outputNames;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array arr = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) outputNames.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  } else {
    for (const TensorSpec& spec : lease.engine<Session>().outputs()) outputNames.push_back(spec.name);
  }
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  auto* worker = new RunWorker(env, std::move(lease), std::move(pins), std::move(inputs), std::move(outputNames),
                               std::move(cancel));
  worker->Queue();
  return worker->Promise();
}

// createSession(model: string | Uint8Array, {intraOpThreads, interOpThreads, providers})
Napi::Value CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "createSession";
  ModelSource model = modelArg(env, info, 0, op);
  SessionOptions options = sessionOptionsField(env, napi::objectArg(env, info, 1, op), op);
  return openModel<Session>(
      env, "createSession", kSessionKind, std::move(model), std::move(options),
      [](const ModelSource& source, const SessionOptions& sessionOptions) {
        return Session::create(source.path, source.bytes, sessionOptions);
      },
      [](Napi::Env env, const Session& session, Napi::Object& out) { out.Set("info", sessionInfoToJs(env, session)); });
}

}  // namespace

void RegisterMl(Napi::Env env, Napi::Object exports) {
  exports.Set("ortLoad", Napi::Function::New(env, OrtLoad, "ortLoad"));
  exports.Set("ortInfo", Napi::Function::New(env, OrtInfo, "ortInfo"));
  exports.Set("createSession", Napi::Function::New(env, CreateSession, "createSession"));
  exports.Set("sessionRun", Napi::Function::New(env, SessionRun, "sessionRun"));
  // One close for every model handle (sessions, Basic Pitch, Demucs).
  exports.Set("modelClose", Napi::Function::New(env, napi::ModelClose, "modelClose"));
}

}  // namespace de::ml
