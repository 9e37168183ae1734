// The fast path (a plain GET answered from a rendering made once per cached
// file) must send exactly what the full path sends: same status, same fields
// (but Date), same body; for small files held in memory and for large files
// sent with sendfile, with and without precompressed siblings.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "static_fixture.hpp"

namespace weft::test {
namespace {

std::vector<std::pair<std::string, std::string>> fields_but_date(const HttpResponse& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : r.headers) {
    if (name == "Date" || name == "date") continue;
    out.emplace_back(name, value);
  }
  return out;
}

// A plain GET (fast path once the mtime is in the past) against a GET whose
// If-None-Match matches nothing (always the full path, same 200).
void expect_same_answer(std::uint16_t port, const std::string& target,
                        const std::vector<std::string>& extra = {}) {
  // Twice: the first request may build the rendering, the second uses it.
  for (int i = 0; i < 2; ++i) {
    const auto fast = get(port, target, extra);
    std::vector<std::string> forced = extra;
    forced.emplace_back("If-None-Match: \"does-not-match\"");
    const auto full = get(port, target, forced);
    ASSERT_TRUE(fast && full) << target;
    EXPECT_EQ(fast->status, 200);
    EXPECT_EQ(full->status, 200);
    EXPECT_EQ(fields_but_date(*fast), fields_but_date(*full)) << target;
    EXPECT_EQ(fast->body, full->body) << target;
  }
}

TEST(FastPath, PlainGetMatchesTheFullAnswerForSmallAndLargeFiles) {
  StaticTree tree;
  tree.write("small.html", "<p>small</p>");
  tree.write("large.bin", std::string(200 * 1024, 'L'));
  tree.write("styled.css", "body{}");
  tree.write("styled.css.gz", "not really gzip");
  for (const char* name : {"small.html", "large.bin", "styled.css", "styled.css.gz"})
    tree.set_mtime(name, 1'600'000'000);
  WeftServer server(serve_args(tree, {"--cache-control", "max-age=60"}));
  expect_same_answer(server.port(), "/small.html");
  expect_same_answer(server.port(), "/large.bin");
  expect_same_answer(server.port(), "/styled.css");
  // With siblings, Accept-Encoding matters: the negotiated answer is never the plain one.
  const auto gz = get(server.port(), "/styled.css", {"Accept-Encoding: gzip"});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->header("content-encoding").value_or(""), "gzip");
  EXPECT_EQ(gz->body, "not really gzip");
  const auto plain = get(server.port(), "/styled.css");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->header("content-encoding").has_value());
  EXPECT_EQ(plain->body, "body{}");
}

TEST(FastPath, HeadAndRangesStillBehave) {
  StaticTree tree;
  tree.write("f.txt", "0123456789");
  tree.set_mtime("f.txt", 1'600'000'000);
  WeftServer server(serve_args(tree));
  ASSERT_TRUE(get(server.port(), "/f.txt"));  // builds the rendering
  const auto head = request(server.port(), "HEAD", "/f.txt");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-length").value_or(""), "10");
  EXPECT_TRUE(head->body.empty());
  const auto range = get(server.port(), "/f.txt", {"Range: bytes=2-4"});
  ASSERT_TRUE(range);
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body, "234");
  const auto etag = get(server.port(), "/f.txt")->header("etag").value_or("");
  const auto cached = get(server.port(), "/f.txt", {"If-None-Match: " + etag});
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 304);
}

}  // namespace
}  // namespace weft::test
