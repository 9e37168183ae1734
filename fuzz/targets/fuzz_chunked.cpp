// libFuzzer entry point of fuzz_chunked: the invariants live in fuzz/checks/ (check_chunked), shared
// with the corpus replay test; a broken one prints what broke and aborts (libFuzzer then saves
// the input as crash-*).
#include <cstdio>
#include <cstdlib>

#include "checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const weft::fuzz::Failure failure = weft::fuzz::check_chunked({data, size})) {
    std::fprintf(stderr, "fuzz_chunked: %s\n", failure->c_str());
    std::abort();
  }
  return 0;
}
