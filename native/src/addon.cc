// Module init: per-environment state and the export table, nothing else.
#include <napi.h>

#include "audio/audio_binding.h"
#include "ml/ml_binding.h"
#include "napi/instance.h"
#include "napi/worker.h"

// Domains still being built register themselves once their glue header exists.
#if __has_include("dsp/dsp_binding.h")
#include "dsp/dsp_binding.h"
#define DIDACTIC_HAS_DSP 1
#endif
#if __has_include("ml/basic_pitch_binding.h")
#include "ml/basic_pitch_binding.h"
#define DIDACTIC_HAS_BASIC_PITCH 1
#endif
#if __has_include("beat/rhythm_binding.h")
#include "beat/rhythm_binding.h"
#define DIDACTIC_HAS_RHYTHM 1
#endif
#if __has_include("ml/demucs_binding.h")
#include "ml/demucs_binding.h"
#define DIDACTIC_HAS_DEMUCS 1
#endif

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new de::napi::InstanceData();
  env.SetInstanceData(data);
  data->cancelTokenCtor = Napi::Persistent(de::napi::CancelTokenWrap::Define(env));
  exports.Set("CancelToken", data->cancelTokenCtor.Value());
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  de::audio::RegisterAudio(env, exports);
  de::ml::RegisterMl(env, exports);
#ifdef DIDACTIC_HAS_DSP
  de::dsp::RegisterDsp(env, exports);
#endif
#ifdef DIDACTIC_HAS_BASIC_PITCH
  de::ml::RegisterBasicPitch(env, exports);
#endif
#ifdef DIDACTIC_HAS_DEMUCS
  de::ml::RegisterDemucs(env, exports);
#endif
#ifdef DIDACTIC_HAS_RHYTHM
  de::beat::RegisterRhythm(env, exports);
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(didactic_engine, Init)
