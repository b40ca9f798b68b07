// The one errno mapping (common/error.h): OS failures become the same codes in C++ and in
// lib/util/atomic.ts, and the WAV writer reports a full disk as DE_DISK_FULL, not as a retryable
// DE_WRITE_FAILED (issue 22, point 1).
#include "common/error.h"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "audio/encode.h"
#include "test.h"

using namespace de;

TEST_CASE("errno: one table maps OS failures to codes") {
  CHECK(std::string(codeOfErrno(ENOSPC, code::kWriteFailed)) == code::kDiskFull);
  CHECK(std::string(codeOfErrno(EDQUOT, code::kWriteFailed)) == code::kDiskFull);
  CHECK(std::string(codeOfErrno(EROFS, code::kWriteFailed)) == code::kPermissionDenied);
  CHECK(std::string(codeOfErrno(EACCES, code::kWriteFailed)) == code::kPermissionDenied);
  CHECK(std::string(codeOfErrno(EPERM, code::kWriteFailed)) == code::kPermissionDenied);
  CHECK(std::string(codeOfErrno(ENOENT, code::kWriteFailed)) == code::kFileNotFound);
  CHECK(std::string(codeOfErrno(ENOTDIR, code::kWriteFailed)) == code::kFileNotFound);
  CHECK(std::string(codeOfErrno(EISDIR, code::kWriteFailed)) == code::kIsDirectory);
  CHECK(std::string(codeOfErrno(EIO, code::kWriteFailed)) == code::kWriteFailed);
  CHECK(std::string(codeOfErrno(0, code::kCorruptAudio)) == code::kCorruptAudio);
}

TEST_CASE("errno: writeWav into a missing folder is DE_FILE_NOT_FOUND") {
  std::vector<float> x(64, 0.25f);
  CHECK_THROWS_CODE(
      audio::writeWavAtomic("/nonexistent-didactic-folder/a.wav", x.data(), 64, 1, 8000, audio::WavSubtype::Pcm16),
      code::kFileNotFound);
}

// A real full disk: a 64 KiB tmpfs in a private mount namespace. Needs CAP_SYS_ADMIN (root in CI's
// container); elsewhere only the table above is checked.
TEST_CASE("errno: writeWav onto a full disk is DE_DISK_FULL, into a read-only one DE_PERMISSION_DENIED") {
  if (::unshare(CLONE_NEWNS) != 0) return;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return;
  char dir[] = "/tmp/de-full-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return;
  if (::mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0) {
    ::rmdir(dir);
    return;
  }
  std::vector<float> x(48000 * 2, 0.25f);  // 192 KB of 16-bit PCM: three times the disk
  const std::string path = std::string(dir) + "/a.wav";
  CHECK_THROWS_CODE(audio::writeWavAtomic(path, x.data(), 48000 * 2, 1, 48000, audio::WavSubtype::Pcm16),
                    code::kDiskFull);
  CHECK(::access(path.c_str(), F_OK) != 0);  // nothing half-written left
  // The same folder read-only: DE_PERMISSION_DENIED (as root, permission bits would not stop it).
  CHECK(::mount(nullptr, dir, nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0);
  CHECK_THROWS_CODE(audio::writeWavAtomic(path, x.data(), 64, 1, 48000, audio::WavSubtype::Pcm16),
                    code::kPermissionDenied);
  ::umount(dir);
  ::rmdir(dir);
}
