// The fuzz corpus as a regression test: every seed and every input that ever broke a fuzz target
// (kept under fuzz/corpus/<target>/) must pass that target's check, in the normal ctest run.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "checks.hpp"
#include "reference_chunked.hpp"
#include "reference_head.hpp"

namespace weft::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `check` on every file of fuzz/corpus/<target>; returns how many there were.
std::size_t replay(const std::string& target, const std::function<Failure(Bytes)>& check) {
  const fs::path dir = fs::path(WEFT_FUZZ_CORPUS) / target;
  std::size_t files = 0;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::vector<std::uint8_t> bytes = read_bytes(entry.path());
    if (const Failure failure = check(bytes)) ADD_FAILURE() << entry.path().filename() << ": " << *failure;
  }
  return files;
}

// A corpus that shrank by accident would make the replay pass vacuously.
constexpr std::size_t kMinSeeds = 10;

TEST(FuzzCorpus, EveryParserInputKeepsTheParserInvariants) {
  EXPECT_GE(replay("fuzz_parser", check_parser), kMinSeeds);
}

TEST(FuzzCorpus, EveryChunkedInputKeepsTheDecoderInvariants) {
  EXPECT_GE(replay("fuzz_chunked", check_chunked), kMinSeeds);
}

TEST(FuzzCorpus, EveryConnectionInputKeepsTheConnectionInvariants) {
  EXPECT_GE(replay("fuzz_connection", check_connection), kMinSeeds);
}

TEST(FuzzCorpus, EveryH2InputKeepsTheHttp2Invariants) { EXPECT_GE(replay("fuzz_h2", check_h2), kMinSeeds); }

#if defined(WEFT_FUZZ_FILES)
TEST(FuzzCorpus, EveryPathInputKeepsThePathInvariants) {
  EXPECT_GE(replay("fuzz_path", check_path), kMinSeeds);
}

TEST(FuzzCorpus, EveryRangeInputKeepsTheRangeInvariants) {
  EXPECT_GE(replay("fuzz_range", check_range), kMinSeeds);
}
#endif

// The reference readings the checks compare against must themselves be right on the rules they
// exist for, or the comparison proves nothing.
TEST(ReferenceReadings, HeadRejectsBothFramingsAndAcceptsAPlainRequest) {
  const http::ParserLimits limits;
  EXPECT_FALSE(reference_head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n",
                              limits)
                   .complete);
  EXPECT_FALSE(reference_head("GET / HTTP/1.1\r\nHost : a\r\n\r\n", limits).complete);
  EXPECT_FALSE(reference_head("GET / HTTP/1.1\nHost: a\r\n\r\n", limits).complete);
  const ReferenceHead ok =
      reference_head("\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nxx", limits);
  ASSERT_TRUE(ok.complete) << ok.why;
  EXPECT_EQ(ok.consumed, 51U);
  EXPECT_EQ(ok.content_length, 2U);
  EXPECT_EQ(ok.header_count, 2U);
}

TEST(ReferenceReadings, ChunkedEndsRightAfterTheTrailersAndRejectsBareLf) {
  const http::ParserLimits limits;
  const ReferenceChunked ok = reference_chunked("3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\nGET", limits);
  ASSERT_TRUE(ok.complete) << ok.why;
  EXPECT_EQ(ok.body, "abc");
  EXPECT_EQ(ok.consumed, 23U);
  EXPECT_FALSE(reference_chunked("3\nabc\r\n0\r\n\r\n", limits).complete);
  EXPECT_FALSE(reference_chunked("3 \r\nabc\r\n0\r\n\r\n", limits).complete);
}

TEST(FuzzCorpus, AValidRequestPassesEveryCheck) {
  const std::string request = std::string("\x00\x00\x00", 3) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const Bytes bytes(reinterpret_cast<const std::uint8_t*>(request.data()), request.size());
  for (const auto& check : {check_parser, check_connection}) {
    const Failure failure = check(bytes);
    EXPECT_FALSE(failure.has_value()) << *failure;
  }
}

}  // namespace
}  // namespace weft::fuzz
