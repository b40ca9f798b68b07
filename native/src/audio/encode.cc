#include "audio/encode.h"

#include <fcntl.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace de::audio {
namespace {

constexpr int64_t kWriteBlockFrames = 1 << 15;
std::atomic<uint64_t> tempCounter{0};

std::string tempPathFor(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tempCounter.fetch_add(1));
}

[[noreturn]] void throwErrno(const std::string& what, const std::string& path) {
  const int err = errno;
  throw Error(codeOfErrno(err, code::kWriteFailed), "writeWav: " + what + " " + path + " (" + std::strerror(err) + ")");
}

// Owns the temp file until commit(): any early exit removes it, so nothing half-written remains.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throwErrno("cannot create", path_);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  void commit(const std::string& finalPath) {
    if (::fsync(fd_) != 0) throwErrno("cannot flush", path_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      throwErrno("cannot close", path_);
    }
    fd_ = -1;
    if (::rename(path_.c_str(), finalPath.c_str()) != 0) throwErrno("cannot rename into", finalPath);
    committed_ = true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

EncodeResult writeWavAtomic(const std::string& path, const float* interleaved, int64_t frames, int channels,
                            int sampleRate, WavSubtype subtype) {
  if (channels <= 0 || channels > 64) throw Error(code::kInvalidArgument, "writeWav: channels must be 1..64");
  if (sampleRate <= 0) throw Error(code::kInvalidArgument, "writeWav: sampleRate must be positive");
  if (frames < 0) throw Error(code::kInvalidArgument, "writeWav: negative frame count");

  const size_t total = static_cast<size_t>(frames) * channels;
  for (size_t i = 0; i < total; ++i) {
    if (!std::isfinite(interleaved[i])) {
      throw Error(code::kNonFiniteSamples,
                  "writeWav: sample " + std::to_string(i) + " is not finite (" + std::to_string(interleaved[i]) + ")");
    }
  }

  SF_INFO info{};
  info.samplerate = sampleRate;
  info.channels = channels;
  const bool pcm = subtype != WavSubtype::Float32;
  // WAVE_FORMAT_EXTENSIBLE is what WAV needs for more than two channels or 24-bit; keep plain
  // WAV otherwise so every reader (and the Python original's output) matches.
  const bool extensible = channels > 2;
  info.format = (extensible ? SF_FORMAT_WAVEX : SF_FORMAT_WAV) | (subtype == WavSubtype::Pcm16   ? SF_FORMAT_PCM_16
                                                                  : subtype == WavSubtype::Pcm24 ? SF_FORMAT_PCM_24
                                                                                                 : SF_FORMAT_FLOAT);
  if (!sf_format_check(&info)) throw Error(code::kInvalidArgument, "writeWav: unsupported format combination");

  TempFile temp(tempPathFor(path));
  SNDFILE* file = sf_open_fd(temp.fd(), SFM_WRITE, &info, SF_FALSE);
  if (!file) {
    throw Error(code::kWriteFailed, "writeWav: cannot open " + path + " for writing (" + sf_strerror(nullptr) + ")");
  }

  EncodeResult result;
  std::vector<float> block;
  bool ok = true;
  for (int64_t start = 0; start < frames && ok; start += kWriteBlockFrames) {
    const int64_t n = std::min(kWriteBlockFrames, frames - start);
    const float* src = interleaved + start * channels;
    const float* toWrite = src;
    if (pcm) {
      block.assign(src, src + n * channels);
      for (float& s : block) {
        if (s > 1.0f) {
          s = 1.0f;
          ++result.clippedSamples;
        } else if (s < -1.0f) {
          s = -1.0f;
          ++result.clippedSamples;
        }
      }
      toWrite = block.data();
    }
    errno = 0;
    ok = sf_writef_float(file, toWrite, n) == n;
  }
  // libsndfile keeps the OS error only as text: take errno while it is fresh, so a full disk is
  // DE_DISK_FULL here as in lib/util/atomic.ts, not a retryable DE_WRITE_FAILED.
  int writeErrno = !ok && sf_error(file) == SF_ERR_SYSTEM ? errno : 0;
  const std::string writeError = ok ? "" : sf_strerror(file);
  errno = 0;
  const bool closeFailed = sf_close(file) != 0;
  if (closeFailed && ok) writeErrno = errno;
  if (closeFailed || !ok) {
    throw Error(codeOfErrno(writeErrno, code::kWriteFailed),
                "writeWav: writing " + path + " failed (" +
                    (writeError.empty() ? std::string("close failed") : writeError) + ")");
  }
  struct stat st {};
  if (::fstat(temp.fd(), &st) == 0) result.bytes = st.st_size;
  temp.commit(path);
  result.frames = frames;
  return result;
}

}  // namespace de::audio
