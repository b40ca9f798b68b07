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

constexpr const char* kSessionKind = "session";

Napi::Object runtimeToJs(Napi::Env env, const RuntimeInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("libraryPath", Napi::String::New(env, info.libraryPath));
  out.Set("version", Napi::String::New(env, info.version));
  out.Set("apiVersion", Napi::Number::New(env, info.apiVersion));
  out.Set("availableProviders", napi::stringsToJs(env, info.availableProviders));
  return out;
}

// A tensor shape as a JS array of numbers (-1 for a symbolic dimension).
Napi::Array shapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array out = Napi::Array::New(env, shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    out.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(shape[d])));
  }
  return out;
}

Napi::Array specsToJs(Napi::Env env, const std::vector<TensorSpec>& specs) {
  Napi::Array out = Napi::Array::New(env, specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("name", Napi::String::New(env, specs[i].name));
    s.Set("shape", shapeToJs(env, specs[i].shape));
    s.Set("type", Napi::String::New(env, specs[i].elementType));
    out.Set(static_cast<uint32_t>(i), s);
  }
  return out;
}

Napi::Value OrtLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, "ortLoad", "path must be a string");
  return napi::queueTask(
      env, "ortLoad", [path = info[0].As<Napi::String>().Utf8Value()] { return &loadRuntime(path); },
      [](Napi::Env env, const RuntimeInfo* runtime) { return runtimeToJs(env, *runtime); });
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

Napi::Object tensorsToJs(Napi::Env env, std::vector<Tensor>& results, const std::vector<std::string>& names) {
  Napi::Object out = Napi::Object::New(env);
  for (size_t i = 0; i < results.size(); ++i) {
    Napi::Object tensor = Napi::Object::New(env);
    tensor.Set("dims", shapeToJs(env, results[i].shape));
    tensor.Set("data", napi::toFloat32Array(env, std::move(results[i].data)));
    out.Set(names[i], tensor);
  }
  return out;
}

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
  return napi::queueModelTask<Session>(
      env, "run", std::move(lease),
      [pins = std::move(pins), inputs = std::move(inputs), outputNames, cancel = std::move(cancel)](Session& session) {
        return session.run(inputs, outputNames, cancel.get());
      },
      [outputNames](Napi::Env env, std::vector<Tensor>& results) { return tensorsToJs(env, results, outputNames); });
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
