// Runs every registered C++ test; a name filter may be given as the first argument.
#include <cstring>
#include <exception>
#include <iostream>

#include "test.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& c : de::test::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    try {
      c.fn();
      ++passed;
      std::cout << "ok   " << c.name << "\n";
    } catch (const de::test::Failure& f) {
      ++failed;
      std::cout << "FAIL " << c.name << "\n     " << f.message << "\n";
    } catch (const std::exception& e) {
      ++failed;
      std::cout << "FAIL " << c.name << "\n     unexpected exception: " << e.what() << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
