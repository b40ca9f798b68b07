#include "napi/worker.h"

#include "napi/instance.h"

namespace de::napi {

Napi::Function CancelTokenWrap::Define(Napi::Env env) {
  return DefineClass(env, "CancelToken", {InstanceMethod("abort", &CancelTokenWrap::Abort)});
}

CancelTokenWrap::CancelTokenWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<CancelTokenWrap>(info), token_(std::make_shared<CancelToken>()) {}

Napi::Value CancelTokenWrap::Abort(const Napi::CallbackInfo& info) {
  token_->request();
  return info.Env().Undefined();
}

CancelTokenPtr cancelTokenArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return nullptr;
  if (!info[i].IsObject() || !instanceData(env).isCancelToken(info[i].As<Napi::Object>())) {
    throwInvalidArgument(env, op, "the cancel argument must be a CancelToken");
  }
  return CancelTokenWrap::Unwrap(info[i].As<Napi::Object>())->token();
}

}  // namespace de::napi
