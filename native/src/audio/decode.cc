#include "audio/decode.h"
#include "audio/mix.h"

#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>

#include "common/error.h"

namespace de::audio {
namespace {

constexpr sf_count_t kReadBlockFrames = 1 << 16;

struct MemoryFile {
  const uint8_t* data;
  sf_count_t size;
  sf_count_t pos;
};

sf_count_t memLength(void* user) { return static_cast<MemoryFile*>(user)->size; }
sf_count_t memSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->size;
  sf_count_t next = base + offset;
  if (next < 0 || next > f->size) return -1;
  f->pos = next;
  return f->pos;
}
sf_count_t memRead(void* dst, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t n = std::min(count, f->size - f->pos);
  if (n <= 0) return 0;
  std::memcpy(dst, f->data + f->pos, static_cast<size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t memWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t memTell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

const char* containerName(int format) {
  switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV: return "WAV";
    case SF_FORMAT_WAVEX: return "WAVEX";
    case SF_FORMAT_RF64: return "RF64";
    case SF_FORMAT_W64: return "W64";
    case SF_FORMAT_AIFF: return "AIFF";
    case SF_FORMAT_AU: return "AU";
    case SF_FORMAT_RAW: return "RAW";
    case SF_FORMAT_FLAC: return "FLAC";
    case SF_FORMAT_OGG: return "OGG";
    case SF_FORMAT_CAF: return "CAF";
    case SF_FORMAT_WVE: return "WVE";
    case SF_FORMAT_SD2: return "SD2";
    case SF_FORMAT_IRCAM: return "IRCAM";
    case SF_FORMAT_VOC: return "VOC";
    case SF_FORMAT_NIST: return "NIST";
    case SF_FORMAT_MPEG: return "MP3";
    default: return "OTHER";
  }
}

const char* sampleFormatName(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8: return "PCM_S8";
    case SF_FORMAT_PCM_U8: return "PCM_U8";
    case SF_FORMAT_PCM_16: return "PCM_16";
    case SF_FORMAT_PCM_24: return "PCM_24";
    case SF_FORMAT_PCM_32: return "PCM_32";
    case SF_FORMAT_FLOAT: return "FLOAT";
    case SF_FORMAT_DOUBLE: return "DOUBLE";
    case SF_FORMAT_ULAW: return "ULAW";
    case SF_FORMAT_ALAW: return "ALAW";
    case SF_FORMAT_IMA_ADPCM: return "IMA_ADPCM";
    case SF_FORMAT_MS_ADPCM: return "MS_ADPCM";
    case SF_FORMAT_GSM610: return "GSM610";
    case SF_FORMAT_VORBIS: return "VORBIS";
    case SF_FORMAT_OPUS: return "OPUS";
    case SF_FORMAT_MPEG_LAYER_I: return "MPEG_LAYER_I";
    case SF_FORMAT_MPEG_LAYER_II: return "MPEG_LAYER_II";
    case SF_FORMAT_MPEG_LAYER_III: return "MPEG_LAYER_III";
    default: return "OTHER";
  }
}

bool isFloatSubtype(int format) {
  int sub = format & SF_FORMAT_SUBMASK;
  return sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
}

std::string sndfileLog(SNDFILE* file) {
  char log[8192];
  log[0] = '\0';
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log));
  return log;
}

// libsndfile accepts a WAV/AIFF whose data chunk runs past the end of the file and quietly reads
// what is there; its parse log is the only witness. A truncated file is corrupt input for us.
bool logSaysTruncated(const std::string& log) {
  static const char* const kMarkers[] = {"truncated", "> file length", "should be", "Unexpected EOF"};
  for (const char* marker : kMarkers) {
    if (log.find(marker) != std::string::npos) return true;
  }
  return false;
}

[[noreturn]] void throwOpenError(int sfError, const std::string& what) {
  std::string reason = sf_error_number(sfError);
  if (sfError == SF_ERR_UNRECOGNISED_FORMAT) {
    throw Error(code::kUnsupportedFormat,
                "decode: " + what + " is not a recognised audio format (" + reason + ")");
  }
  throw Error(code::kCorruptAudio, "decode: " + what + " could not be parsed (" + reason + ")");
}

DecodedAudio readAll(SNDFILE* file, const SF_INFO& info, const std::string& what,
                     const DecodeOptions& options, const CancelToken* cancel) {
  if (info.channels <= 0 || info.samplerate <= 0) {
    throw Error(code::kCorruptAudio, "decode: " + what + " has an invalid header (channels " +
                                         std::to_string(info.channels) + ", rate " +
                                         std::to_string(info.samplerate) + ")");
  }
  const std::string log = sndfileLog(file);
  if (logSaysTruncated(log)) {
    throw Error(code::kCorruptAudio, "decode: " + what + " is truncated (its data chunk is longer than the file)");
  }

  const int channels = info.channels;
  const int outChannels = options.mono ? 1 : channels;
  DecodedAudio out;
  out.sampleRate = info.samplerate;
  out.sourceChannels = channels;
  out.channels = outChannels;
  out.container = containerName(info.format);
  out.sampleFormat = sampleFormatName(info.format);

  const bool knownLength = info.frames > 0 && info.frames < (int64_t{1} << 40);
  // Mono is mixed block by block, so a mono decode never holds the interleaved file in memory.
  const bool mixToMono = options.mono && channels > 1;
  const int storedChannels = mixToMono ? 1 : channels;
  std::vector<float> stored;
  if (knownLength) {
    try {
      stored.reserve(static_cast<size_t>(info.frames) * static_cast<size_t>(storedChannels));
    } catch (const std::bad_alloc&) {
      throw Error(code::kOutOfMemory, "decode: " + what + " is too large to hold in memory");
    }
  }
  std::vector<float> block(static_cast<size_t>(kReadBlockFrames) * channels);
  const bool checkFinite = isFloatSubtype(info.format);
  int64_t frames = 0;
  for (;;) {
    if (cancel) cancel->throwIfRequested("decode");
    sf_count_t got = sf_readf_float(file, block.data(), kReadBlockFrames);
    if (got <= 0) break;
    const size_t n = static_cast<size_t>(got) * channels;
    if (checkFinite) {
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(block[i])) {
          const int64_t frame = frames + static_cast<int64_t>(i) / channels;
          throw Error(code::kNonFiniteSamples, "decode: " + what + " contains a non-finite sample (" +
                                                   std::to_string(block[i]) + " at frame " +
                                                   std::to_string(frame) + ")");
        }
      }
    }
    if (mixToMono) {
      const size_t base = stored.size();
      stored.resize(base + static_cast<size_t>(got));
      audio::mixToMono(block.data(), got, channels, stored.data() + base, audio::MixPrecision::Float64);
    } else {
      stored.insert(stored.end(), block.begin(), block.begin() + n);
    }
    frames += got;
  }
  if (sf_error(file) != SF_ERR_NO_ERROR) {
    throw Error(code::kCorruptAudio, "decode: " + what + " failed while reading (" + sf_strerror(file) + ")");
  }
  if (knownLength && frames < info.frames) {
    throw Error(code::kCorruptAudio, "decode: " + what + " is truncated (" + std::to_string(frames) +
                                         " of " + std::to_string(info.frames) + " frames readable)");
  }
  out.frames = frames;

  if (options.planar && storedChannels > 1) {
    out.samples.resize(stored.size());
    for (int64_t f = 0; f < frames; ++f) {
      for (int c = 0; c < channels; ++c) out.samples[c * frames + f] = stored[f * channels + c];
    }
  } else {
    out.samples = std::move(stored);
  }
  return out;
}

}  // namespace

DecodedAudio decodeFile(const std::string& path, const DecodeOptions& options, const CancelToken* cancel) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw Error(code::kFileNotFound, "decode: no such file: " + path);
    if (errno == EACCES) throw Error(code::kPermissionDenied, "decode: permission denied: " + path);
    throw Error(code::kCorruptAudio, "decode: cannot stat " + path + " (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw Error(code::kIsDirectory, "decode: " + path + " is a directory, not an audio file");
  if (::access(path.c_str(), R_OK) != 0) throw Error(code::kPermissionDenied, "decode: permission denied: " + path);
  if (S_ISREG(st.st_mode) && st.st_size == 0) throw Error(code::kEmptyFile, "decode: " + path + " is empty (0 bytes)");

  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) throwOpenError(sf_error(nullptr), path);
  return readAll(file.get(), info, path, options, cancel);
}

DecodedAudio decodeMemory(const uint8_t* data, size_t size, const DecodeOptions& options,
                          const CancelToken* cancel) {
  if (size == 0) throw Error(code::kEmptyFile, "decode: the buffer is empty (0 bytes)");
  MemoryFile mem{data, static_cast<sf_count_t>(size), 0};
  SF_VIRTUAL_IO io{memLength, memSeek, memRead, memWrite, memTell};
  SF_INFO info{};
  SndfilePtr file(sf_open_virtual(&io, SFM_READ, &info, &mem));
  if (!file) throwOpenError(sf_error(nullptr), "the buffer");
  return readAll(file.get(), info, "the buffer", options, cancel);
}

std::string sndfileVersion() {
  char buf[128];
  sf_command(nullptr, SFC_GET_LIB_VERSION, buf, sizeof(buf));
  return buf;
}

}  // namespace de::audio
