// Domain errors of the pure C++ cores. Every failure carries a stable code so the N-API glue can
// hand it across the boundary unchanged. This list is the native half of the one error table:
// test/unit/error-codes.test.ts fails unless it equals NATIVE_ERROR_CODES in lib/errors.ts and
// no other file of native/src spells a code out.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace de {

namespace code {
inline constexpr const char* kInvalidArgument = "DE_INVALID_ARGUMENT";
inline constexpr const char* kFileNotFound = "DE_FILE_NOT_FOUND";
inline constexpr const char* kPermissionDenied = "DE_PERMISSION_DENIED";
inline constexpr const char* kIsDirectory = "DE_IS_DIRECTORY";
inline constexpr const char* kEmptyFile = "DE_EMPTY_FILE";
inline constexpr const char* kUnsupportedFormat = "DE_UNSUPPORTED_FORMAT";
inline constexpr const char* kCorruptAudio = "DE_CORRUPT_AUDIO";
inline constexpr const char* kNonFiniteSamples = "DE_NON_FINITE_SAMPLES";
inline constexpr const char* kWriteFailed = "DE_WRITE_FAILED";
inline constexpr const char* kResampleFailed = "DE_RESAMPLE_FAILED";
inline constexpr const char* kRuntimeMissing = "DE_NATIVE_RUNTIME_MISSING";
inline constexpr const char* kRuntimeTooOld = "DE_NATIVE_RUNTIME_TOO_OLD";
inline constexpr const char* kModelInvalid = "DE_MODEL_INVALID";
inline constexpr const char* kModelNotFound = "DE_MODEL_NOT_FOUND";
inline constexpr const char* kInferenceFailed = "DE_INFERENCE_FAILED";
inline constexpr const char* kAborted = "DE_ABORTED";
inline constexpr const char* kOutOfMemory = "DE_OUT_OF_MEMORY";
inline constexpr const char* kClosed = "DE_CLOSED";                 // a call on a model handle after close()
inline constexpr const char* kNativeUnknown = "DE_NATIVE_UNKNOWN";  // an exception without a code
// An input-sized allocation over the configured ceiling (common/limits.h).
inline constexpr const char* kResourceLimit = "DE_RESOURCE_LIMIT";
// A write that failed because the disk (or the user's quota) is full.
inline constexpr const char* kDiskFull = "DE_DISK_FULL";
}  // namespace code

// The one mapping of OS failures (errno) to codes, for every file the addon opens or writes.
// ERRNO_CODES in lib/errors.ts is its TypeScript copy (used by lib/util/atomic.ts and the
// pipeline's folders); test/unit/error-codes.test.ts holds the two equal.
struct ErrnoCode {
  int errnum;
  const char* code;
};
inline constexpr ErrnoCode kErrnoCodes[] = {
    {ENOENT, code::kFileNotFound},    {ENOTDIR, code::kFileNotFound},   {EACCES, code::kPermissionDenied},
    {EPERM, code::kPermissionDenied}, {EROFS, code::kPermissionDenied}, {EISDIR, code::kIsDirectory},
    {ENOSPC, code::kDiskFull},        {EDQUOT, code::kDiskFull},
};

// The code of `errnum`, or `fallback` when the table has none (the caller knows what failed).
inline const char* codeOfErrno(int errnum, const char* fallback) {
  for (const ErrnoCode& e : kErrnoCodes) {
    if (e.errnum == errnum) return e.code;
  }
  return fallback;
}

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

}  // namespace de
