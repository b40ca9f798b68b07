// N-API glue for the beat tracker and the tempo estimate on a precomputed onset envelope.
#include "beat/beat_binding.h"

#include <cmath>

#include "napi/worker.h"

namespace de::beat {
namespace {

// The one task shape of the calls on an onset envelope (beat tracking, tempo): the envelope is
// checked for non-finite values, then `compute` runs on the worker thread and `toJs` builds the
// result on the JS thread.
template <class Params, class Out>
Napi::Value queueEnvelopeTask(Napi::Env env, const char* op, napi::PinnedFloats envelope, Params params,
                              CancelTokenPtr cancel,
                              Out (*compute)(const float*, int64_t, const Params&, const CancelToken*),
                              Napi::Value (*toJs)(Napi::Env, const Out&)) {
  return napi::queueTask(
      env, op,
      [op, envelope = std::move(envelope), params = std::move(params), cancel = std::move(cancel), compute] {
        for (size_t i = 0; i < envelope.size; ++i) {
          if (!std::isfinite(envelope.data[i]))
            throw Error(code::kNonFiniteSamples, std::string(op) + ": the onset envelope contains a non-finite value");
        }
        return compute(envelope.data, static_cast<int64_t>(envelope.size), params, cancel.get());
      },
      toJs);
}

// The envelope, its rate and hop, and the beat options every envelope call reads.
struct EnvelopeArgs {
  napi::PinnedFloats onset;
  BeatParams params;
};

EnvelopeArgs envelopeArgs(Napi::Env env, const Napi::CallbackInfo& info, const std::string& op) {
  napi::PinnedFloats onset = napi::pinFloat32(env, info[0], op, "onset envelope");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const double sr = napi::rateField(env, opts, "sampleRate", op);
  const int hop = static_cast<int>(napi::intField(env, opts, "hopLength", op, 1, limits::kMaxHop));
  return {std::move(onset), readBeatParams(env, opts, sr, hop, op)};
}

Napi::Value beatToJs(Napi::Env env, const BeatResult& r) { return beatResultToJs(env, r); }

Napi::Value tempoToJs(Napi::Env env, const TempoEstimate& t) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpm", Napi::Number::New(env, t.bpm));
  out.Set("lag", Napi::Number::New(env, t.lag));
  return out;
}

Napi::Value BeatTrackEnvelope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "beatTrack";
  EnvelopeArgs args = envelopeArgs(env, info, op);
  return queueEnvelopeTask<BeatParams, BeatResult>(env, "beatTrack", std::move(args.onset), args.params,
                                                   napi::cancelTokenArg(env, info, 2, op), beatTrack, beatToJs);
}

Napi::Value TempoEnvelope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "tempo";
  EnvelopeArgs args = envelopeArgs(env, info, op);
  if (tempogramWindow(args.params.tempo) < 1) napi::throwInvalidArgument(env, op, "acSize is shorter than one hop");
  return queueEnvelopeTask<TempoParams, TempoEstimate>(env, "tempo", std::move(args.onset), args.params.tempo,
                                                       napi::cancelTokenArg(env, info, 2, op), estimateTempo,
                                                       tempoToJs);
}

}  // namespace

Aggregate parseAggregate(Napi::Env env, const std::string& name, const std::string& op) {
  if (name == "mean") return Aggregate::Mean;
  if (name == "median") return Aggregate::Median;
  if (name == "max") return Aggregate::Max;
  if (name == "min") return Aggregate::Min;
  napi::throwInvalidArgument(env, op, "aggregate must be mean, median, max or min");
}

BeatParams readBeatParams(Napi::Env env, const Napi::Object& opts, double sr, int hop, const std::string& op) {
  BeatParams p;
  p.tempo.sr = sr;
  p.tempo.hopLength = hop;
  p.tempo.startBpm = napi::numberField(env, opts, "startBpm", op);
  p.tempo.stdBpm = napi::numberField(env, opts, "stdBpm", op);
  p.tempo.acSize = napi::numberField(env, opts, "acSize", op);
  p.tempo.maxTempo = napi::numberField(env, opts, "maxTempo", op);
  p.tightness = napi::numberField(env, opts, "tightness", op);
  p.trim = napi::boolField(env, opts, "trim", op);
  p.bpm = napi::numberField(env, opts, "bpm", op);
  return p;
}

Napi::Object beatResultToJs(Napi::Env env, const BeatResult& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("tempo", Napi::Number::New(env, r.bpm));
  Napi::Int32Array beats = Napi::Int32Array::New(env, r.beats.size());
  for (size_t i = 0; i < r.beats.size(); ++i) beats[i] = static_cast<int32_t>(r.beats[i]);
  out.Set("beats", beats);
  Napi::Float64Array local = Napi::Float64Array::New(env, r.localBpm.size());
  for (size_t i = 0; i < r.localBpm.size(); ++i) local[i] = r.localBpm[i];
  out.Set("localTempo", local);
  return out;
}

void RegisterBeat(Napi::Env env, Napi::Object exports) {
  exports.Set("beatTrackEnvelope", Napi::Function::New(env, BeatTrackEnvelope, "beatTrackEnvelope"));
  exports.Set("tempoEnvelope", Napi::Function::New(env, TempoEnvelope, "tempoEnvelope"));
}

}  // namespace de::beat
