// Decoding with libsndfile to float32 at the file's native rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/cancel.h"

namespace de::audio {

struct DecodeOptions {
  bool mono = false;    // average all channels into one
  bool planar = false;  // channel-major output instead of interleaved frames
  // A WAV/AIFF whose data ends before its header says fails with DE_CORRUPT_AUDIO instead of
  // decoding what is present.
  bool strict = false;
};

struct DecodedAudio {
  std::vector<float> samples;
  int sampleRate = 0;
  int channels = 0;  // channels of `samples` (1 after a mono down-mix)
  int sourceChannels = 0;
  int64_t frames = 0;
  std::string container;     // python-soundfile's major format names: WAV, WAVEX, RF64, W64, AIFF, FLAC, OGG, ...
  std::string sampleFormat;  // python-soundfile's subtype names: PCM_16, PCM_24, FLOAT, VORBIS, OPUS, ...
  // An uncompressed file (WAV, AIFF, ...) whose data chunk is cut short: `frames` are the ones
  // present, `expectedFrames` what the header declared (-1 when it cannot be told).
  bool truncated = false;
  int64_t expectedFrames = -1;
};

// What a file's header says, without decoding: enough to plan a song's memory before reading it.
struct AudioProbe {
  int sampleRate = 0;
  int channels = 0;
  // Frames a decode yields (libsndfile limits a WAV/AIFF's declared length to the bytes present);
  // for MP3 mpg123's estimate, for FLAC/Ogg the stream's header; -1 when the header does not say.
  int64_t frames = -1;
  // True for uncompressed containers, whose frame count is exact; compressed counts are estimates.
  bool exact = false;
  std::string container;
  std::string sampleFormat;
};

DecodedAudio decodeFile(const std::string& path, const DecodeOptions& options, const CancelToken* cancel);
// Reads the header only. Errors as decodeFile's for a file that cannot be opened.
AudioProbe probeFile(const std::string& path);
DecodedAudio decodeMemory(const uint8_t* data, size_t size, const DecodeOptions& options, const CancelToken* cancel);

// Versions of the vendored codec stack, for `doctor` and `info`.
std::string sndfileVersion();

}  // namespace de::audio
