// N-API glue for the beat tracker and the tempo estimate on a precomputed onset envelope.
#include "beat/beat_binding.h"

#include <cmath>

#include "napi/worker.h"

namespace de::beat {
namespace {

using napi::PromiseWorker;

class BeatWorker : public PromiseWorker {
 public:
  BeatWorker(Napi::Env env, napi::PinnedFloats env_, BeatParams params, CancelTokenPtr cancel)
      : PromiseWorker(env, "beatTrack"), env_(std::move(env_)), params_(params), cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    for (size_t i = 0; i < env_.size; ++i) {
      if (!std::isfinite(env_.data[i]))
        throw Error(code::kNonFiniteSamples, "beatTrack: the onset envelope contains a non-finite value");
    }
    result_ = beatTrack(env_.data, static_cast<int64_t>(env_.size), params_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override { return beatResultToJs(env, result_); }

 private:
  napi::PinnedFloats env_;
  BeatParams params_;
  CancelTokenPtr cancel_;
  BeatResult result_;
};

Napi::Value BeatTrackEnvelope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "beatTrack";
  napi::PinnedFloats onset = napi::pinFloat32(env, info[0], op, "onset envelope");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const double sr = napi::rateField(env, opts, "sampleRate", op);
  const int hop = static_cast<int>(napi::intField(env, opts, "hopLength", op, 1, limits::kMaxHop));
  BeatParams params = readBeatParams(env, opts, sr, hop, op);
  auto* worker = new BeatWorker(env, std::move(onset), params, napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

class TempoWorker : public PromiseWorker {
 public:
  TempoWorker(Napi::Env env, napi::PinnedFloats env_, TempoParams params, CancelTokenPtr cancel)
      : PromiseWorker(env, "tempo"), env_(std::move(env_)), params_(params), cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    for (size_t i = 0; i < env_.size; ++i) {
      if (!std::isfinite(env_.data[i]))
        throw Error(code::kNonFiniteSamples, "tempo: the onset envelope contains a non-finite value");
    }
    result_ = estimateTempo(env_.data, static_cast<int64_t>(env_.size), params_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("bpm", Napi::Number::New(env, result_.bpm));
    out.Set("lag", Napi::Number::New(env, result_.lag));
    return out;
  }

 private:
  napi::PinnedFloats env_;
  TempoParams params_;
  CancelTokenPtr cancel_;
  TempoEstimate result_;
};

Napi::Value TempoEnvelope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "tempo";
  napi::PinnedFloats onset = napi::pinFloat32(env, info[0], op, "onset envelope");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const double sr = napi::rateField(env, opts, "sampleRate", op);
  const int hop = static_cast<int>(napi::intField(env, opts, "hopLength", op, 1, limits::kMaxHop));
  BeatParams bp = readBeatParams(env, opts, sr, hop, op);
  if (tempogramWindow(bp.tempo) < 1) napi::throwInvalidArgument(env, op, "acSize is shorter than one hop");
  auto* worker = new TempoWorker(env, std::move(onset), bp.tempo, napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
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
