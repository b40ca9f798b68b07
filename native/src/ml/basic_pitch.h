// Basic Pitch (ICASSP 2022, basic-pitch 0.4.0) without Python: windowing, batched inference, unwrapping
// and note creation (`output_to_notes_polyphonic`, `get_pitch_bends`, `model_frames_to_time`).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/cancel.h"
#include "ml/ort.h"

namespace de::ml::basic_pitch {

inline constexpr int kSampleRate = 22050;
inline constexpr int kFftHop = 256;
inline constexpr int kAnnotationsFps = 86;              // 22050 // 256, floored as in basic-pitch
inline constexpr int kWindowSamples = 22050 * 2 - 256;  // 43844
inline constexpr int kWindowFrames = 172;
inline constexpr int kOverlapFrames = 30;
inline constexpr int kOverlapSamples = kOverlapFrames * kFftHop;      // 7680
inline constexpr int kHopSamples = kWindowSamples - kOverlapSamples;  // 36164
inline constexpr int kNotes = 88;
inline constexpr int kContourBins = 264;
inline constexpr int kMidiOffset = 21;

inline constexpr const char* kInputName = "serving_default_input_2:0";
inline constexpr const char* kContourName = "StatefulPartitionedCall:0";
inline constexpr const char* kNoteName = "StatefulPartitionedCall:1";
inline constexpr const char* kOnsetName = "StatefulPartitionedCall:2";

// Time-major posteriors: note/onset frames x 88, contour frames x 264.
struct ModelOutput {
  int64_t frames = 0;
  std::vector<float> note, onset, contour;
};

struct NoteOptions {
  double onsetThreshold = 0.5;
  double frameThreshold = 0.3;
  int minNoteLength = 11;  // frames: round(127.70 ms * 22050/256 / 1000)
  bool inferOnsets = true;
  std::optional<double> minFrequency;
  std::optional<double> maxFrequency;
  bool melodiaTrick = true;
  int energyTolerance = 11;
  bool includePitchBends = true;
};

struct NoteEvent {
  int64_t startFrame = 0, endFrame = 0;
  double startTime = 0, endTime = 0;
  int pitch = 0;
  double amplitude = 0;
  std::vector<int> pitchBends;  // 1/3 semitone units, one per frame in [start, end)
};

// basic-pitch's minimum_note_length (ms) → frames.
int minNoteLengthFrames(double milliseconds);
// model_frames_to_time for one frame index.
double frameToTime(int64_t frame);

// output_to_notes_polyphonic + get_pitch_bends + model_frames_to_time. `note` and `onset` are
// frames x 88, `contour` frames x 264 (only read when includePitchBends).
std::vector<NoteEvent> outputToNotes(const float* note, const float* onset, const float* contour, int64_t frames,
                                     const NoteOptions& options);

// Model session contract check; throws DE_MODEL_INVALID naming the file and the expected tensors.
void checkModel(const Session& session, const std::string& label);

struct InferOptions {
  int batch = 4;  // windows per session run
  // Tail trim: false = basic-pitch main (PR #179): int(N / 36164 * 142) frames (the fixtures' rule);
  // true = basic-pitch <= 0.4.0 / npm: floor(N * 86 / 22050), ~0.7 % short.
  bool legacyTrim = false;
};

using Progress = std::function<void(int64_t done, int64_t total)>;

// Mono 22050 Hz audio → unwrapped posteriors (basic-pitch 0.4.0 trimming: floor(N * 86 / 22050) frames).
ModelOutput infer(const Session& session, const float* audio, int64_t n, const InferOptions& options,
                  const CancelToken* cancel, const Progress& progress);

// Any rate / channel count (interleaved) → 22050 Hz mono (channel mean, then soxr HQ).
std::vector<float> toModelRate(const float* interleaved, int64_t frames, int channels, double sampleRate,
                               const CancelToken* cancel);

}  // namespace de::ml::basic_pitch
