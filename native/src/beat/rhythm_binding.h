#pragma once
#include <napi.h>

namespace de::beat {
// rhythmOpen / trackRhythm (the learned tracker: features, CRNN, DBN, refinement in one worker),
// logSpectFeatures and decodeDownbeats (its stages on their own, for tests and tools).
void RegisterRhythm(Napi::Env env, Napi::Object exports);
}  // namespace de::beat
