#include "audio/decode.h"

#include <fcntl.h>
#include <mpg123.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <regex>

#include "audio/mix.h"
#include "common/error.h"
#include "common/limits.h"

namespace de::audio {
namespace {

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

// Bytes per frame of uncompressed sample formats (0: not a fixed-size PCM format).
int bytesPerSample(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW: return 1;
    case SF_FORMAT_PCM_16: return 2;
    case SF_FORMAT_PCM_24: return 3;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT: return 4;
    case SF_FORMAT_DOUBLE: return 8;
    default: return 0;
  }
}

// Compressed containers: their size fields say nothing about the frame count, so the parse log
// cannot tell truncation. FLAC's STREAMINFO and Ogg's last granule do give exact counts, which
// readAll compares with what decoded. (MP3, whose count is only an estimate, never reaches it.)
bool isCompressedContainer(int format) {
  switch (format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_MPEG:
    case SF_FORMAT_FLAC:
    case SF_FORMAT_OGG: return true;
    default: return false;
  }
}

// libsndfile accepts a WAV/AIFF whose data chunk runs past the end of the file and quietly reads
// what is there; its parse log is the only witness. Returns the frame count the header declared,
// 0 when the log shows no truncation, or -1 when it shows truncation of unknown extent.
int64_t declaredFramesIfTruncated(const std::string& log, int format, int channels) {
  static const std::regex wavData(R"(\ndata : (\d+) \(should be (\d+)\))");
  static const std::regex aiffSsnd(R"(SSND : (\d+) \(should be (\d+)\))");
  const int bps = bytesPerSample(format);
  const double blockBytes = static_cast<double>(bps) * channels;
  std::smatch m;
  const std::string text = "\n" + log;
  if (std::regex_search(text, m, wavData)) {
    return bps > 0 ? static_cast<int64_t>(std::stod(m[1].str()) / blockBytes) : -1;
  }
  if (std::regex_search(text, m, aiffSsnd)) {
    // the SSND size counts its 8-byte offset/block-size preamble
    return bps > 0 ? static_cast<int64_t>(std::max(0.0, std::stod(m[1].str()) - 8.0) / blockBytes) : -1;
  }
  static const std::regex rf64Frames(R"(does not match value from 'ds64' chunk of (\d+))");
  if (std::regex_search(text, m, rf64Frames)) return std::stoll(m[1].str());
  // W64 logs only its riff size against the file's; the fact chunk, when present, has the frames
  static const std::regex w64Riff(R"(\nriff : (\d+) \(should be (\d+)\))");
  if (std::regex_search(text, m, w64Riff) && std::stod(m[1].str()) > std::stod(m[2].str())) {
    static const std::regex factFrames(R"(\n  frames : (\d+))");
    std::smatch f;
    return std::regex_search(text, f, factFrames) ? std::stoll(f[1].str()) : -1;
  }
  static const char* const kMarkers[] = {"truncated", "> file length", "Unexpected EOF"};
  for (const char* marker : kMarkers) {
    if (log.find(marker) != std::string::npos) return -1;
  }
  return 0;
}

[[noreturn]] void throwOpenError(int sfError, const std::string& what) {
  std::string reason = sf_error_number(sfError);
  if (sfError == SF_ERR_UNRECOGNISED_FORMAT) {
    throw Error(code::kUnsupportedFormat, "decode: " + what + " is not a recognised audio format (" + reason + ")");
  }
  throw Error(code::kCorruptAudio, "decode: " + what + " could not be parsed (" + reason + ")");
}

void checkShape(int channels, int sampleRate, const std::string& what) {
  if (channels <= 0 || sampleRate <= 0) {
    throw Error(code::kCorruptAudio, "decode: " + what + " has an invalid header (channels " +
                                         std::to_string(channels) + ", rate " + std::to_string(sampleRate) + ")");
  }
  if (!limits::plausibleRate(sampleRate)) {
    throw Error(code::kUnsupportedFormat, "decode: " + what + " claims a sample rate of " + std::to_string(sampleRate) +
                                              " Hz; supported rates are 1000..768000 Hz");
  }
  if (channels > limits::kMaxChannels) {
    throw Error(code::kUnsupportedFormat,
                "decode: " + what + " has " + std::to_string(channels) + " channels; at most 1024 are supported");
  }
}

// Reads up to `frames` interleaved float frames into dst; returns the count (0 at the end).
using FrameReader = std::function<int64_t(float* dst, int64_t frames)>;

// Pulls every frame from `read`, mixing to mono and de-interleaving as asked. `expectedFrames`
// (> 0) only sizes the first reservation, capped so that a lying header cannot reserve gigabytes,
// unless `exactLength` (an uncompressed file, whose length libsndfile limits to the bytes present):
// then the whole song is reserved once and never regrown (a regrowth copies the samples so far,
// which briefly holds the decoded audio twice).
void readFrames(DecodedAudio& out, int channels, int64_t expectedFrames, bool exactLength, bool checkFinite,
                const FrameReader& read, const std::string& what, const DecodeOptions& options,
                const CancelToken* cancel) {
  const bool mixToMono = options.mono && channels > 1;
  const int storedChannels = mixToMono ? 1 : channels;
  std::vector<float> stored;
  if (expectedFrames > 0) {
    limits::checkAlloc(static_cast<double>(expectedFrames) * storedChannels, sizeof(float), "decode",
                       "the decoded audio");
    const int64_t reserveFrames = exactLength ? expectedFrames : std::min<int64_t>(expectedFrames, int64_t{1} << 26);
    try {
      stored.reserve(static_cast<size_t>(reserveFrames) * static_cast<size_t>(storedChannels));
    } catch (const std::bad_alloc&) {
      throw Error(code::kOutOfMemory, "decode: " + what + " is too large to hold in memory");
    }
  }
  // ~4 MiB blocks whatever the channel count; smaller for short files (a clip should not pay
  // for zeroing 4 MiB)
  int64_t blockFrames = std::max<int64_t>(1, (int64_t{1} << 20) / channels);
  if (expectedFrames > 0) blockFrames = std::min(blockFrames, std::max<int64_t>(4096, expectedFrames + 1));
  std::vector<float> block(static_cast<size_t>(blockFrames) * channels);
  const double maxSamples = limits::maxBytes() / sizeof(float);
  int64_t frames = 0;
  for (;;) {
    if (cancel) cancel->throwIfRequested("decode");
    const int64_t got = read(block.data(), blockFrames);
    if (got <= 0) break;
    const size_t n = static_cast<size_t>(got) * channels;
    if (checkFinite) {
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(block[i])) {
          const int64_t frame = frames + static_cast<int64_t>(i) / channels;
          throw Error(code::kNonFiniteSamples, "decode: " + what + " contains a non-finite sample (" +
                                                   std::to_string(block[i]) + " at frame " + std::to_string(frame) +
                                                   ")");
        }
      }
    }
    if (static_cast<double>(frames + got) * storedChannels > maxSamples) {
      limits::checkAlloc(static_cast<double>(frames + got) * storedChannels, sizeof(float), "decode",
                         "the decoded audio");
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
  out.frames = frames;
  if (options.planar && storedChannels > 1) {
    out.samples.resize(stored.size());
    for (int64_t f = 0; f < frames; ++f) {
      for (int c = 0; c < channels; ++c) out.samples[c * frames + f] = stored[f * channels + c];
    }
  } else {
    out.samples = std::move(stored);
  }
}

DecodedAudio readAll(SNDFILE* file, const SF_INFO& info, const std::string& what, const DecodeOptions& options,
                     const CancelToken* cancel) {
  checkShape(info.channels, info.samplerate, what);
  const int channels = info.channels;
  const bool compressed = isCompressedContainer(info.format);
  int64_t declared = compressed ? 0 : declaredFramesIfTruncated(sndfileLog(file), info.format, channels);

  DecodedAudio out;
  out.sampleRate = info.samplerate;
  out.sourceChannels = channels;
  out.channels = options.mono ? 1 : channels;
  out.container = containerName(info.format);
  out.sampleFormat = sampleFormatName(info.format);

  const bool knownLength = info.frames > 0 && info.frames < (int64_t{1} << 40);
  FrameReader read = [file](float* dst, int64_t n) -> int64_t { return sf_readf_float(file, dst, n); };
  readFrames(out, channels, knownLength ? info.frames : 0, knownLength && !compressed, isFloatSubtype(info.format),
             read, what, options, cancel);
  if (sf_error(file) != SF_ERR_NO_ERROR) {
    throw Error(code::kCorruptAudio, "decode: " + what + " failed while reading (" + sf_strerror(file) + ")");
  }
  // A stream that ends before its header's exact length is truncated too: a FLAC or Ogg file cut
  // short, or a PCM read that stops early (libsndfile clamps PCM counts to the file).
  if (declared == 0 && knownLength && out.frames < info.frames) declared = info.frames;
  if (declared != 0) {
    out.truncated = true;
    out.expectedFrames = declared > 0 ? declared : -1;
    const std::string extent = declared > 0
                                   ? std::to_string(out.frames) + " of " + std::to_string(declared) + " frames present"
                                   : std::to_string(out.frames) + " frames present";
    if (options.strict) {
      throw Error(code::kCorruptAudio, "decode: " + what + " is truncated (" + extent + ")");
    }
    if (out.frames == 0) {
      throw Error(code::kCorruptAudio, "decode: " + what + " is truncated before its first frame (" + extent + ")");
    }
  }
  return out;
}

// MP3 through libmpg123 directly: libsndfile stops at mpg123's length estimate, which can be
// short of (or past) the real end. The flags are libsndfile's, so samples are identical.
struct Mpg123Deleter {
  void operator()(mpg123_handle* h) const {
    mpg123_close(h);
    mpg123_delete(h);
  }
};

ssize_t memReadMpg(void* user, void* dst, size_t count) {
  return static_cast<ssize_t>(memRead(dst, static_cast<sf_count_t>(count), user));
}
off_t memSeekMpg(void* user, off_t offset, int whence) {
  return static_cast<off_t>(memSeek(static_cast<sf_count_t>(offset), whence, user));
}

DecodedAudio decodeMpeg(const std::function<int(mpg123_handle*)>& open, const std::string& what,
                        const DecodeOptions& options, const CancelToken* cancel) {
  mpg123_init();  // a no-op since mpg123 1.27; kept for older copies
  int err = MPG123_OK;
  std::unique_ptr<mpg123_handle, Mpg123Deleter> mh(mpg123_new(nullptr, &err));
  if (!mh) throw Error(code::kCorruptAudio, "decode: mpg123_new failed for " + what);
  mpg123_param(mh.get(), MPG123_REMOVE_FLAGS, MPG123_AUTO_RESAMPLE, 0.0);
  mpg123_param(mh.get(), MPG123_ADD_FLAGS, MPG123_FORCE_FLOAT | MPG123_GAPLESS | MPG123_QUIET, 0.0);
#if MPG123_API_VERSION >= 45
  mpg123_param(mh.get(), MPG123_ADD_FLAGS, MPG123_NO_FRANKENSTEIN, 0.0);
#endif
  if (open(mh.get()) != MPG123_OK) {
    throw Error(code::kCorruptAudio,
                "decode: " + what + " could not be opened as MPEG (" + mpg123_strerror(mh.get()) + ")");
  }
  long rate = 0;
  int channels = 0, encoding = 0;
  if (mpg123_getformat(mh.get(), &rate, &channels, &encoding) != MPG123_OK) {
    throw Error(code::kCorruptAudio,
                "decode: " + what + " has no decodable MPEG frame (" + mpg123_strerror(mh.get()) + ")");
  }
  checkShape(channels, static_cast<int>(rate), what);
  mpg123_format_none(mh.get());
  if (mpg123_format(mh.get(), rate, channels, MPG123_ENC_FLOAT_32) != MPG123_OK) {
    throw Error(code::kCorruptAudio, "decode: " + what + " cannot be decoded to float");
  }
  mpg123_frameinfo fi{};
  mpg123_info(mh.get(), &fi);

  DecodedAudio out;
  out.sampleRate = static_cast<int>(rate);
  out.sourceChannels = channels;
  out.channels = options.mono ? 1 : channels;
  out.container = "MP3";
  out.sampleFormat = fi.layer == 1 ? "MPEG_LAYER_I" : fi.layer == 2 ? "MPEG_LAYER_II" : "MPEG_LAYER_III";
  const off_t estimate = mpg123_length(mh.get());
  bool failed = false;
  std::string failure;
  FrameReader read = [&](float* dst, int64_t n) -> int64_t {
    for (int attempt = 0; attempt < 4; ++attempt) {
      size_t done = 0;
      const int rc = mpg123_read(mh.get(), dst, static_cast<size_t>(n) * channels * sizeof(float), &done);
      if (rc == MPG123_NEW_FORMAT && done == 0) continue;  // announced before any data: ask again
      if (rc != MPG123_OK && rc != MPG123_DONE && rc != MPG123_NEW_FORMAT) {
        failed = true;
        failure = mpg123_strerror(mh.get());
        return 0;
      }
      return static_cast<int64_t>(done / (sizeof(float) * channels));
    }
    return 0;
  };
  readFrames(out, channels, estimate > 0 ? static_cast<int64_t>(estimate) : 0, false, false, read, what, options,
             cancel);
  // as libsndfile's MPEG reader did: a decoder error (not the end of the stream) fails the decode
  if (failed) {
    throw Error(code::kCorruptAudio, "decode: " + what + " failed while decoding MPEG (" + failure + ")");
  }
  return out;
}

// The path's problems as coded errors: missing, unreadable, a directory, empty.
void checkInputFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    const char* failure = codeOfErrno(err, code::kCorruptAudio);
    if (failure == code::kFileNotFound) throw Error(failure, "decode: no such file: " + path);
    if (failure == code::kPermissionDenied) throw Error(failure, "decode: permission denied: " + path);
    throw Error(failure, "decode: cannot stat " + path + " (" + std::strerror(err) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw Error(code::kIsDirectory, "decode: " + path + " is a directory, not an audio file");
  if (::access(path.c_str(), R_OK) != 0) throw Error(code::kPermissionDenied, "decode: permission denied: " + path);
  if (S_ISREG(st.st_mode) && st.st_size == 0) throw Error(code::kEmptyFile, "decode: " + path + " is empty (0 bytes)");
}

}  // namespace

DecodedAudio decodeFile(const std::string& path, const DecodeOptions& options, const CancelToken* cancel) {
  checkInputFile(path);
  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) throwOpenError(sf_error(nullptr), path);
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
    file.reset();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(code::kCorruptAudio, "decode: cannot open " + path + " (" + std::strerror(errno) + ")");
    struct FdCloser {
      int fd;
      ~FdCloser() { ::close(fd); }
    } closer{fd};
    return decodeMpeg([fd](mpg123_handle* mh) { return mpg123_open_fd(mh, fd); }, path, options, cancel);
  }
  return readAll(file.get(), info, path, options, cancel);
}

AudioProbe probeFile(const std::string& path) {
  checkInputFile(path);
  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) throwOpenError(sf_error(nullptr), path);
  checkShape(info.channels, info.samplerate, path);
  AudioProbe out;
  out.sampleRate = info.samplerate;
  out.channels = info.channels;
  out.container = containerName(info.format);
  out.sampleFormat = sampleFormatName(info.format);
  out.exact = !isCompressedContainer(info.format);
  // libsndfile reports SF_COUNT_MAX (or 0 for some streams) when the length is unknown
  out.frames = info.frames > 0 && info.frames < (int64_t{1} << 40) ? info.frames : -1;
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
    out.container = "MP3";
    out.exact = false;
  }
  return out;
}

DecodedAudio decodeMemory(const uint8_t* data, size_t size, const DecodeOptions& options, const CancelToken* cancel) {
  if (size == 0) throw Error(code::kEmptyFile, "decode: the buffer is empty (0 bytes)");
  MemoryFile mem{data, static_cast<sf_count_t>(size), 0};
  SF_VIRTUAL_IO io{memLength, memSeek, memRead, memWrite, memTell};
  SF_INFO info{};
  SndfilePtr file(sf_open_virtual(&io, SFM_READ, &info, &mem));
  if (!file) throwOpenError(sf_error(nullptr), "the buffer");
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
    file.reset();
    MemoryFile fresh{data, static_cast<sf_count_t>(size), 0};
    return decodeMpeg(
        [&fresh](mpg123_handle* mh) {
          mpg123_replace_reader_handle(mh, memReadMpg, memSeekMpg, nullptr);
          return mpg123_open_handle(mh, &fresh);
        },
        "the buffer", options, cancel);
  }
  return readAll(file.get(), info, "the buffer", options, cancel);
}

std::string sndfileVersion() {
  char buf[128];
  sf_command(nullptr, SFC_GET_LIB_VERSION, buf, sizeof(buf));
  return buf;
}

}  // namespace de::audio
