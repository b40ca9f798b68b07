// N-API glue for ONNX Runtime: loading the runtime, creating sessions, running them off-thread.
#include "ml/ml_binding.h"

#include "ml/ort.h"
#include "napi/instance.h"
#include "napi/worker.h"

namespace de::ml {
namespace {

using napi::PromiseWorker;

Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, values[i]));
  return out;
}

Napi::Object runtimeToJs(Napi::Env env, const RuntimeInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("libraryPath", Napi::String::New(env, info.libraryPath));
  out.Set("version", Napi::String::New(env, info.version));
  out.Set("apiVersion", Napi::Number::New(env, info.apiVersion));
  out.Set("availableProviders", stringsToJs(env, info.availableProviders));
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

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "OrtSession",
                       {InstanceMethod("run", &SessionWrap::Run), InstanceAccessor("inputs", &SessionWrap::Inputs, nullptr),
                        InstanceAccessor("outputs", &SessionWrap::Outputs, nullptr),
                        InstanceAccessor("providers", &SessionWrap::Providers, nullptr),
                        InstanceAccessor("warnings", &SessionWrap::Warnings, nullptr)});
  }
  explicit SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
      napi::throwInvalidArgument(info.Env(), "OrtSession", "sessions are created with createSession()");
    }
    session_ = *info[0].As<Napi::External<std::shared_ptr<Session>>>().Data();
  }

 private:
  Napi::Value Inputs(const Napi::CallbackInfo& info) { return specsToJs(info.Env(), session_->inputs()); }
  Napi::Value Outputs(const Napi::CallbackInfo& info) { return specsToJs(info.Env(), session_->outputs()); }
  Napi::Value Providers(const Napi::CallbackInfo& info) { return stringsToJs(info.Env(), session_->activeProviders()); }
  Napi::Value Warnings(const Napi::CallbackInfo& info) { return stringsToJs(info.Env(), session_->warnings()); }
  Napi::Value Run(const Napi::CallbackInfo& info);

  std::shared_ptr<Session> session_;
};

class RunWorker : public PromiseWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<Session> session, std::vector<napi::PinnedFloats> pins,
            std::vector<InputView> inputs, std::vector<std::string> outputNames, CancelTokenPtr cancel)
      : PromiseWorker(env, "run"),
        session_(std::move(session)),
        pins_(std::move(pins)),
        inputs_(std::move(inputs)),
        outputNames_(std::move(outputNames)),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override { results_ = session_->run(inputs_, outputNames_, cancel_.get()); }
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
  std::shared_ptr<Session> session_;
  std::vector<napi::PinnedFloats> pins_;
  std::vector<InputView> inputs_;
  std::vector<std::string> outputNames_;
  CancelTokenPtr cancel_;
  std::vector<Tensor> results_;
};

Napi::Value SessionWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "run";
  Napi::Object feeds = napi::objectArg(env, info, 0, op);
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
  if (info.Length() > 1 && info[1].IsArray()) {
    Napi::Array arr = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) outputNames.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  } else {
    for (const TensorSpec& spec : session_->outputs()) outputNames.push_back(spec.name);
  }
  auto* worker = new RunWorker(env, session_, std::move(pins), std::move(inputs), std::move(outputNames),
                               napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

class CreateSessionWorker : public PromiseWorker {
 public:
  CreateSessionWorker(Napi::Env env, std::string path, std::vector<uint8_t> bytes, SessionOptions options)
      : PromiseWorker(env, "createSession"), path_(std::move(path)), bytes_(std::move(bytes)), options_(options) {}

 protected:
  void Run() override {
    session_ = Session::create(path_, bytes_, options_);
    bytes_.clear();
    bytes_.shrink_to_fit();
  }
  Napi::Value Result(Napi::Env env) override {
    auto external = Napi::External<std::shared_ptr<Session>>::New(env, &session_);
    return napi::instanceData(env).sessionCtor.New({external});
  }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  SessionOptions options_;
  std::shared_ptr<Session> session_;
};

Napi::Value CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "createSession";
  std::string path;
  std::vector<uint8_t> bytes;
  if (info.Length() > 0 && info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
  } else if (info.Length() > 0 && info[0].IsTypedArray() &&
             info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array arr = info[0].As<Napi::Uint8Array>();
    bytes.assign(arr.Data(), arr.Data() + arr.ByteLength());  // copied: ORT reads it on a worker
  } else {
    napi::throwInvalidArgument(env, op, "model must be a path or a Uint8Array");
  }
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  SessionOptions options;
  options.intraOpThreads = static_cast<int>(napi::intField(env, opts, "intraOpThreads", op, 1, 256));
  options.interOpThreads = static_cast<int>(napi::intField(env, opts, "interOpThreads", op, 1, 256));
  Napi::Value providers = opts.Get("providers");
  if (!providers.IsArray()) napi::throwInvalidArgument(env, op, "option 'providers' must be an array");
  options.providers.clear();
  Napi::Array arr = providers.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) options.providers.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  auto* worker = new CreateSessionWorker(env, std::move(path), std::move(bytes), options);
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterMl(Napi::Env env, Napi::Object exports) {
  napi::instanceData(env).sessionCtor = Napi::Persistent(SessionWrap::Define(env));
  exports.Set("ortLoad", Napi::Function::New(env, OrtLoad, "ortLoad"));
  exports.Set("ortInfo", Napi::Function::New(env, OrtInfo, "ortInfo"));
  exports.Set("createSession", Napi::Function::New(env, CreateSession, "createSession"));
}

}  // namespace de::ml
