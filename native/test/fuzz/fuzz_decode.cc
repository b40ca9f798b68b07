// libFuzzer target: decoding arbitrary bytes, from memory and from a file, with every option.
// Byte 0 picks the options (bit 0 mono, 1 planar, 2 strict, 3 file path); the rest is the file.
// Only coded errors (de::Error) are an acceptable outcome besides success; anything else (a crash,
// an ASan/UBSan report, an uncaught exception, an allocation over -malloc_limit_mb) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audio/decode.h"
#include "common/error.h"

namespace {
std::string tempPath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/didactic-fuzz-decode-" + std::to_string(::getpid());
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // a small allocation ceiling, so that headers claiming gigabytes meet DE_RESOURCE_LIMIT quickly
  ::setenv("DIDACTIC_MAX_BYTES", "67108864", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  de::audio::DecodeOptions options;
  options.mono = flags & 1;
  options.planar = flags & 2;
  options.strict = flags & 4;
  const bool viaFile = flags & 8;
  ++data;
  --size;
  try {
    de::audio::DecodedAudio audio;
    if (viaFile) {
      static const std::string path = tempPath();
      FILE* f = std::fopen(path.c_str(), "wb");
      if (!f) std::abort();
      if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
      std::fclose(f);
      audio = de::audio::decodeFile(path, options, nullptr);
    } else {
      audio = de::audio::decodeMemory(data, size, options, nullptr);
    }
    // invariants of a successful decode
    if (audio.samples.size() != static_cast<size_t>(audio.frames) * static_cast<size_t>(audio.channels)) std::abort();
    if (audio.sampleRate < 1000 || audio.sampleRate > 768000) std::abort();
    if (audio.truncated && (options.strict || audio.frames == 0)) std::abort();
  } catch (const de::Error&) {
  }
  return 0;
}
