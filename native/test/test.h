// A tiny self-registering test framework for the pure C++ cores (no dependencies).
#pragma once

#include <cmath>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace de::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

struct Failure {
  std::string message;
};

}  // namespace de::test

#define DE_CAT2(a, b) a##b
#define DE_CAT(a, b) DE_CAT2(a, b)
#define TEST_CASE(name)                                                                       \
  static void DE_CAT(test_fn_, __LINE__)();                                                   \
  static ::de::test::Registrar DE_CAT(test_reg_, __LINE__)(name, DE_CAT(test_fn_, __LINE__)); \
  static void DE_CAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::ostringstream os_;                                            \
      os_ << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed"; \
      throw ::de::test::Failure{os_.str()};                              \
    }                                                                    \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                         \
  do {                                                                                                                \
    const double a_ = (a), b_ = (b);                                                                                  \
    if (!(std::fabs(a_ - b_) <= (tol))) {                                                                             \
      std::ostringstream os_;                                                                                         \
      os_ << __FILE__ << ":" << __LINE__ << ": CHECK_NEAR(" #a ", " #b ") failed: " << a_ << " vs " << b_ << " (tol " \
          << (tol) << ")";                                                                                            \
      throw ::de::test::Failure{os_.str()};                                                                           \
    }                                                                                                                 \
  } while (0)

#define CHECK_THROWS_CODE(expr, codeStr)                                                   \
  do {                                                                                     \
    bool thrown_ = false;                                                                  \
    try {                                                                                  \
      (void)(expr);                                                                        \
    } catch (const ::de::Error& e_) {                                                      \
      thrown_ = e_.code() == std::string(codeStr);                                         \
    }                                                                                      \
    if (!thrown_) {                                                                        \
      std::ostringstream os_;                                                              \
      os_ << __FILE__ << ":" << __LINE__ << ": expected " #expr " to throw " << (codeStr); \
      throw ::de::test::Failure{os_.str()};                                                \
    }                                                                                      \
  } while (0)
