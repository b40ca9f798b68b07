// N-API glue for Basic Pitch: basicPitchOpen() creates a session once and checks the contract;
// basicPitchTranscribe() decodes/resamples, runs the windows and creates notes on a worker thread;
// basicPitchNotes() runs note creation alone on given posteriors.
#include "ml/basic_pitch_binding.h"

#include <chrono>

#include "ml/basic_pitch.h"
#include "ml/model_binding.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::ml {
namespace {

namespace bp = basic_pitch;
constexpr const char* kKind = "basicPitch";

struct Engine {
  std::shared_ptr<Session> session;
  std::string label;
};

// basicPitchOpen(model: string | Uint8Array, {intraOpThreads, interOpThreads, providers, label})
Napi::Value BasicPitchOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "basicPitchOpen";
  ModelSource model = modelArg(env, info, 0, op);
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  SessionOptions options = sessionOptionsField(env, opts, op);
  std::string label = napi::stringField(env, opts, "label", op);
  return openModel<Engine>(
      env, "basicPitchOpen", kKind, std::move(model), std::move(options),
      [label = std::move(label)](const ModelSource& source, const SessionOptions& sessionOptions) {
        auto engine = std::make_shared<Engine>();
        engine->label = label;
        engine->session = Session::create(source.path, source.bytes, sessionOptions);
        bp::checkModel(*engine->session, label);
        return engine;
      },
      [](Napi::Env env, const Engine& engine, Napi::Object& out) {
        Napi::Object info = Napi::Object::New(env);
        info.Set("providers", napi::stringsToJs(env, engine.session->activeProviders()));
        info.Set("warnings", napi::stringsToJs(env, engine.session->warnings()));
        out.Set("info", info);
      });
}

bp::NoteOptions readNoteOptions(Napi::Env env, const Napi::Object& o, const std::string& op) {
  bp::NoteOptions n;
  n.onsetThreshold = napi::numberField(env, o, "onsetThreshold", op);
  n.frameThreshold = napi::numberField(env, o, "frameThreshold", op);
  n.minNoteLength = static_cast<int>(napi::intField(env, o, "minNoteLengthFrames", op, 0, 1 << 30));
  n.inferOnsets = napi::boolField(env, o, "inferOnsets", op);
  n.melodiaTrick = napi::boolField(env, o, "melodiaTrick", op);
  n.energyTolerance = static_cast<int>(napi::intField(env, o, "energyTolerance", op, 0, 1 << 30));
  n.includePitchBends = napi::boolField(env, o, "includePitchBends", op);
  if (o.Get("minFrequency").IsNumber()) n.minFrequency = o.Get("minFrequency").As<Napi::Number>().DoubleValue();
  if (o.Get("maxFrequency").IsNumber()) n.maxFrequency = o.Get("maxFrequency").As<Napi::Number>().DoubleValue();
  return n;
}

// Notes as columns: startFrame/endFrame (Int32), startTime/endTime/amplitude (Float64), pitch (Int32),
// bendOffsets (Int32, n+1) into bends (Int32).
Napi::Object notesToJs(Napi::Env env, const std::vector<bp::NoteEvent>& notes, bool withBends) {
  const size_t n = notes.size();
  auto sf = Napi::Int32Array::New(env, n), ef = Napi::Int32Array::New(env, n), pitch = Napi::Int32Array::New(env, n);
  auto st = Napi::Float64Array::New(env, n), et = Napi::Float64Array::New(env, n),
       amp = Napi::Float64Array::New(env, n);
  auto off = Napi::Int32Array::New(env, n + 1);
  size_t nb = 0;
  for (const auto& e : notes) nb += e.pitchBends.size();
  auto bends = Napi::Int32Array::New(env, nb);
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto& e = notes[i];
    sf[i] = static_cast<int32_t>(e.startFrame);
    ef[i] = static_cast<int32_t>(e.endFrame);
    st[i] = e.startTime;
    et[i] = e.endTime;
    pitch[i] = e.pitch;
    amp[i] = e.amplitude;
    off[i] = static_cast<int32_t>(pos);
    for (int b : e.pitchBends) bends[pos++] = b;
  }
  off[n] = static_cast<int32_t>(pos);
  Napi::Object out = Napi::Object::New(env);
  out.Set("startFrame", sf);
  out.Set("endFrame", ef);
  out.Set("startTime", st);
  out.Set("endTime", et);
  out.Set("pitch", pitch);
  out.Set("amplitude", amp);
  out.Set("hasBends", Napi::Boolean::New(env, withBends));
  out.Set("bendOffsets", off);
  out.Set("bends", bends);
  return out;
}

// What basicPitchTranscribe() resolves with, before it crosses to JS.
struct Transcription {
  bp::ModelOutput out;  // the posteriors are dropped unless asked for
  std::vector<bp::NoteEvent> notes;
  int64_t samples = 0;  // at the model's rate
  double sourceRate = 0;
  int sourceChannels = 0;
  double prepMs = 0, inferMs = 0, notesMs = 0;
};

// Decode / convert, infer, create notes: the whole call on the worker thread, timing each stage.
Transcription transcribe(const Session& session, const napi::AudioArg& arg, const bp::NoteOptions& noteOptions,
                         const bp::InferOptions& inferOptions, bool posteriors, const CancelToken* cancel) {
  Transcription r;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> mono;
  {
    AudioInput input = readAudio(arg, cancel);
    r.sourceRate = input.sampleRate;
    r.sourceChannels = input.channels;
    mono = bp::toModelRate(input.samples(), input.frames, input.channels, input.sampleRate, cancel);
  }
  r.samples = static_cast<int64_t>(mono.size());
  auto t1 = std::chrono::steady_clock::now();
  r.out = bp::infer(session, mono.data(), r.samples, inferOptions, cancel, nullptr);
  mono.clear();
  mono.shrink_to_fit();
  auto t2 = std::chrono::steady_clock::now();
  r.notes = bp::outputToNotes(r.out.note.data(), r.out.onset.data(), r.out.contour.data(), r.out.frames, noteOptions);
  auto t3 = std::chrono::steady_clock::now();
  r.prepMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
  r.inferMs = std::chrono::duration<double, std::milli>(t2 - t1).count();
  r.notesMs = std::chrono::duration<double, std::milli>(t3 - t2).count();
  if (!posteriors) {
    r.out.note = {};
    r.out.onset = {};
    r.out.contour = {};
  }
  return r;
}

Napi::Value transcriptionToJs(Napi::Env env, Transcription& r, bool withBends, bool posteriors) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("notes", notesToJs(env, r.notes, withBends));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(r.out.frames)));
  out.Set("samples", Napi::Number::New(env, static_cast<double>(r.samples)));
  out.Set("sourceSampleRate", Napi::Number::New(env, r.sourceRate));
  out.Set("sourceChannels", Napi::Number::New(env, r.sourceChannels));
  Napi::Object timing = Napi::Object::New(env);
  timing.Set("prepareMs", r.prepMs);
  timing.Set("inferenceMs", r.inferMs);
  timing.Set("notesMs", r.notesMs);
  out.Set("timing", timing);
  if (posteriors) {
    out.Set("note", napi::toFloat32Array(env, std::move(r.out.note)));
    out.Set("onset", napi::toFloat32Array(env, std::move(r.out.onset)));
    out.Set("contour", napi::toFloat32Array(env, std::move(r.out.contour)));
  }
  return out;
}

// basicPitchTranscribe(handle, {path} | {samples, sampleRate, channels}, options, cancel?)
Napi::Value BasicPitchTranscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "transcribe";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kKind, op);
  napi::AudioArg input = napi::audioArg(env, info, 1, op);
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  bp::NoteOptions noteOptions = readNoteOptions(env, opts, op);
  bp::InferOptions inferOptions;
  inferOptions.batch = static_cast<int>(napi::intField(env, opts, "batch", op, 1, 4096));
  inferOptions.legacyTrim = napi::boolField(env, opts, "legacyTrim", op);
  bool posteriors = napi::boolField(env, opts, "posteriors", op);
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  const bool withBends = noteOptions.includePitchBends;
  return napi::queueModelTask<Engine>(
      env, "transcribe", std::move(lease),
      [input = std::move(input), noteOptions, inferOptions, posteriors, cancel = std::move(cancel)](Engine& engine) {
        return transcribe(*engine.session, input, noteOptions, inferOptions, posteriors, cancel.get());
      },
      [withBends, posteriors](Napi::Env env, Transcription& r) {
        return transcriptionToJs(env, r, withBends, posteriors);
      });
}

// basicPitchNotes({note, onset, contour, frames}, options)
Napi::Value BasicPitchNotes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "basicPitchNotes";
  Napi::Object input = napi::objectArg(env, info, 0, op);
  const int64_t frames = napi::intField(env, input, "frames", op, 0, int64_t{1} << 40);
  auto note = napi::pinFloat32(env, input.Get("note"), op, "note");
  auto onset = napi::pinFloat32(env, input.Get("onset"), op, "onset");
  auto contour = napi::pinFloat32(env, input.Get("contour"), op, "contour");
  if (note.size != static_cast<size_t>(frames) * bp::kNotes || onset.size != note.size ||
      contour.size != static_cast<size_t>(frames) * bp::kContourBins)
    napi::throwInvalidArgument(env, op, "note/onset must be frames x 88 and contour frames x 264");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const bp::NoteOptions options = readNoteOptions(env, opts, op);
  return napi::queueTask(
      env, "basicPitchNotes",
      [note = std::move(note), onset = std::move(onset), contour = std::move(contour), frames, options] {
        return bp::outputToNotes(note.data, onset.data, contour.data, frames, options);
      },
      [withBends = options.includePitchBends](Napi::Env env, const std::vector<bp::NoteEvent>& notes) {
        return notesToJs(env, notes, withBends);
      });
}

}  // namespace

void RegisterBasicPitch(Napi::Env env, Napi::Object exports) {
  exports.Set("basicPitchOpen", Napi::Function::New(env, BasicPitchOpen, "basicPitchOpen"));
  exports.Set("basicPitchTranscribe", Napi::Function::New(env, BasicPitchTranscribe, "basicPitchTranscribe"));
  exports.Set("basicPitchNotes", Napi::Function::New(env, BasicPitchNotes, "basicPitchNotes"));
}

}  // namespace de::ml
