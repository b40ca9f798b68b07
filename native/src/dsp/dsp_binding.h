#pragma once
#include <napi.h>
namespace de::dsp {
// stft, istft, analyze (features + onset + tempo + beats; the beat glue's option readers are shared).
void RegisterDsp(Napi::Env env, Napi::Object exports);
}  // namespace de::dsp
