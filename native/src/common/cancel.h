// Cooperative cancellation: the JS side flips the flag (AbortSignal), long loops poll it.
#pragma once

#include <atomic>
#include <memory>

#include "common/error.h"

namespace de {

class CancelToken {
 public:
  void request() noexcept { requested_.store(true, std::memory_order_relaxed); }
  bool requested() const noexcept { return requested_.load(std::memory_order_relaxed); }
  void throwIfRequested(const char* op) const {
    if (requested()) throw Error(code::kAborted, std::string(op) + ": aborted");
  }

 private:
  std::atomic<bool> requested_{false};
};

using CancelTokenPtr = std::shared_ptr<CancelToken>;

}  // namespace de
