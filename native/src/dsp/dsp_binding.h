#pragma once
#include <napi.h>
namespace de::dsp {
// stft, istft, analyze (features + onset + tempo + beats); also registers the beat domain.
void RegisterDsp(Napi::Env env, Napi::Object exports);
}  // namespace de::dsp
