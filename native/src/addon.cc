// Module init: per-environment state and the export table, nothing else. Each domain's glue
// registers its own functions; no binding registers another's.
#include <napi.h>

#include "audio/audio_binding.h"
#include "beat/beat_binding.h"
#include "beat/beat_this_binding.h"
#include "beat/rhythm_binding.h"
#include "dsp/dsp_binding.h"
#include "ml/basic_pitch_binding.h"
#include "ml/demucs_binding.h"
#include "ml/ml_binding.h"
#include "napi/instance.h"
#include "napi/worker.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new de::napi::InstanceData();
  env.SetInstanceData(data);
  data->cancelTokenCtor = Napi::Persistent(de::napi::CancelTokenWrap::Define(env));
  exports.Set("CancelToken", data->cancelTokenCtor.Value());
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  de::audio::RegisterAudio(env, exports);
  de::dsp::RegisterDsp(env, exports);
  de::beat::RegisterBeat(env, exports);
  de::ml::RegisterMl(env, exports);
  de::ml::RegisterBasicPitch(env, exports);
  de::ml::RegisterDemucs(env, exports);
  de::beat::RegisterRhythm(env, exports);
  de::beat::RegisterBeatThis(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(didactic_engine, Init)
