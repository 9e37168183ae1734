// libFuzzer entry point of fuzz_h2: the invariants live in fuzz/checks/ (check_h2), shared
// with the corpus replay test; a broken one prints what broke and aborts (libFuzzer then saves
// the input as crash-*).
#include <cstdio>
#include <cstdlib>

#include "checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const weft::fuzz::Failure failure = weft::fuzz::check_h2({data, size})) {
    std::fprintf(stderr, "fuzz_h2: %s\n", failure->c_str());
    std::abort();
  }
  return 0;
}
