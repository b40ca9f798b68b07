#pragma once
#include <napi.h>

#include "beat/beat_track.h"
#include "beat/onset.h"

namespace de::beat {
// beatTrackEnvelope / tempoEnvelope: the DP tracker and the tempo estimate on an onset envelope.
void RegisterBeat(Napi::Env env, Napi::Object exports);
Aggregate parseAggregate(Napi::Env env, const std::string& name, const std::string& op);
BeatParams readBeatParams(Napi::Env env, const Napi::Object& opts, double sr, int hop, const std::string& op);
Napi::Object beatResultToJs(Napi::Env env, const BeatResult& r);
}  // namespace de::beat
