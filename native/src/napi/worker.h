// Boundary helpers shared by every *_binding.cc: coded errors, promise workers, buffer transfer.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/cancel.h"
#include "common/error.h"
#include "common/limits.h"

namespace de::napi {

inline constexpr const char* kUnknownNativeError = code::kNativeUnknown;

// A JS Error with `.code` and `.op`, which lib/errors.ts maps onto the package's error classes.
inline Napi::Error makeCodedError(Napi::Env env, const std::string& code, const std::string& message,
                                  const std::string& op) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  error.Value().Set("op", Napi::String::New(env, op));
  return error;
}

// Misuse of the raw binding (TS validates first, so reaching this is a bug in our own code).
[[noreturn]] inline void throwInvalidArgument(Napi::Env env, const std::string& op, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, op + ": " + message);
  error.Value().Set("code", Napi::String::New(env, code::kInvalidArgument));
  error.Value().Set("op", Napi::String::New(env, op));
  throw error;
}

// Runs Run() on a libuv worker thread and settles a promise. Run() must not touch N-API values;
// Result() builds the JS value on the main thread. C++ exceptions never cross Execute().
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* op)
      : Napi::AsyncWorker(env, op), deferred_(Napi::Promise::Deferred::New(env)), op_(op) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Called on the JS thread once the promise is settled (ModelWorker releases its handle here).
  virtual void Settled() {}

  void Execute() final {
    try {
      Run();
    } catch (const Error& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = code::kOutOfMemory;
      SetError(op_ + ": out of memory");
    } catch (const std::exception& e) {
      code_ = kUnknownNativeError;
      SetError(op_ + ": " + e.what());
    } catch (...) {
      code_ = kUnknownNativeError;
      SetError("unknown native error in " + op_);
    }
  }

  void OnOK() final {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
    Settled();
  }

  void OnError(const Napi::Error& e) final {
    Napi::HandleScope scope(Env());
    deferred_.Reject(makeCodedError(Env(), code_, e.Message(), op_).Value());
    Settled();
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string op_;
  std::string code_ = kUnknownNativeError;
};

// The worker of (nearly) every call: `work()` runs on a libuv worker thread and returns plain C++;
// `toJs(env, result)` builds the JS value on the JS thread. Each lambda owns what it needs (pinned
// buffers, options, the cancel token), moved in on the JS thread; they are destroyed with the
// worker on the JS thread, which releases the pins there.
template <class Work, class ToJs>
class TaskWorker : public PromiseWorker {
 public:
  using Out = std::invoke_result_t<Work&>;

  TaskWorker(Napi::Env env, const char* op, Work work, ToJs toJs)
      : PromiseWorker(env, op), work_(std::move(work)), toJs_(std::move(toJs)) {}

 protected:
  void Run() override { out_.emplace(work_()); }
  Napi::Value Result(Napi::Env env) override { return toJs_(env, *out_); }

 private:
  Work work_;
  ToJs toJs_;
  std::optional<Out> out_;
};

// Queues a TaskWorker for `op` (a string literal: it names the errors) and returns its promise.
template <class Work, class ToJs>
Napi::Value queueTask(Napi::Env env, const char* op, Work work, ToJs toJs) {
  auto* worker = new TaskWorker<Work, ToJs>(env, op, std::move(work), std::move(toJs));
  worker->Queue();
  return worker->Promise();
}

// A pinned view of a Float32Array: the reference keeps the buffer alive while a worker reads it.
// The implicit move assignment moves a Napi::Reference, which clang-tidy cannot prove noexcept.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct PinnedFloats {
  Napi::Reference<Napi::Float32Array> ref;
  const float* data = nullptr;
  size_t size = 0;
};

inline PinnedFloats pinFloat32(Napi::Env env, const Napi::Value& value, const std::string& op, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throwInvalidArgument(env, op, std::string(what) + " must be a Float32Array");
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  PinnedFloats pinned;
  pinned.ref = Napi::Persistent(array);
  pinned.data = array.Data();
  pinned.size = array.ElementLength();
  return pinned;
}

// Hands a vector to JS without copying: the ArrayBuffer owns it and frees it when collected.
inline Napi::Float32Array toFloat32Array(Napi::Env env, std::vector<float>&& samples) {
  auto* owned = new std::vector<float>(std::move(samples));
  if (owned->empty()) {
    delete owned;
    return Napi::Float32Array::New(env, 0);
  }
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, owned->data(), owned->size() * sizeof(float),
      [](Napi::Env, void*, std::vector<float>* hint) { delete hint; }, owned);
  return Napi::Float32Array::New(env, owned->size(), buffer, 0);
}

// A Float64Array copied from small results (beat times, windows, bar energies).
inline Napi::Float64Array toFloat64Array(Napi::Env env, const std::vector<double>& values) {
  Napi::Float64Array out = Napi::Float64Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

// Option readers for objects whose fields TS has already validated and filled with defaults.
inline double numberField(Napi::Env env, const Napi::Object& obj, const char* key, const std::string& op) {
  Napi::Value v = obj.Get(key);
  if (!v.IsNumber()) throwInvalidArgument(env, op, std::string("option '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
// The numeric checks are limits::require* (one wording for the cores and the glue); their coded
// error becomes the binding's TypeError here on the JS thread.
template <class Check>
auto checkedField(Napi::Env env, const std::string& op, Check&& check) -> decltype(check()) {
  try {
    return check();
  } catch (const Error& e) {
    Napi::TypeError error = Napi::TypeError::New(env, e.what());
    error.Value().Set("code", Napi::String::New(env, e.code()));
    error.Value().Set("op", Napi::String::New(env, op));
    throw error;
  }
}
inline std::string optionName(const char* key) { return std::string("option '") + key + "'"; }
// An integer option in [lo, hi]. Casting NaN or an out-of-range double to int is undefined
// behaviour, so every integer the glue reads goes through here.
inline int64_t intField(Napi::Env env, const Napi::Object& obj, const char* key, const std::string& op, int64_t lo,
                        int64_t hi) {
  const double v = numberField(env, obj, key, op);
  return checkedField(env, op, [&] { return limits::requireInt(v, lo, hi, op.c_str(), optionName(key).c_str()); });
}
// A sample rate within limits::kMinSampleRate .. kMaxSampleRate (1 kHz .. 768 kHz).
inline double rateField(Napi::Env env, const Napi::Object& obj, const char* key, const std::string& op) {
  const double v = numberField(env, obj, key, op);
  checkedField(env, op, [&] { limits::requireRate(v, op.c_str(), optionName(key).c_str()); });
  return v;
}
// A finite number in [lo, hi] (NaN fails).
inline double rangeField(Napi::Env env, const Napi::Object& obj, const char* key, const std::string& op, double lo,
                         double hi) {
  const double v = numberField(env, obj, key, op);
  return checkedField(env, op, [&] { return limits::requireRange(v, lo, hi, op.c_str(), optionName(key).c_str()); });
}
inline bool boolField(Napi::Env env, const Napi::Object& obj, const char* key, const std::string& op) {
  Napi::Value v = obj.Get(key);
  if (!v.IsBoolean()) throwInvalidArgument(env, op, std::string("option '") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}
inline std::string stringField(Napi::Env env, const Napi::Object& obj, const char* key, const std::string& op) {
  Napi::Value v = obj.Get(key);
  if (!v.IsString()) throwInvalidArgument(env, op, std::string("option '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}
inline Napi::Object objectArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  if (info.Length() <= i || !info[i].IsObject())
    throwInvalidArgument(env, op, "argument " + std::to_string(i) + " must be an object");
  return info[i].As<Napi::Object>();
}

// A cancel token shared between JS (an object with an abort() method) and workers.
class CancelTokenWrap : public Napi::ObjectWrap<CancelTokenWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit CancelTokenWrap(const Napi::CallbackInfo& info);
  const CancelTokenPtr& token() const { return token_; }

 private:
  Napi::Value Abort(const Napi::CallbackInfo& info);
  CancelTokenPtr token_;
};

// Returns the token of an optional CancelToken argument, or nullptr.
CancelTokenPtr cancelTokenArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op);

}  // namespace de::napi
