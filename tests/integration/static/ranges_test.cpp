// Range requests against the running binary (RFC 9110 14): single ranges, multipart/byteranges,
// 416, If-Range, and a range near the end of a 1 GiB sparse file.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

constexpr long kMtime = 1'600'000'000;
constexpr const char* kLastModified = "Sun, 13 Sep 2020 12:26:40 GMT";

std::string alphabet(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

struct Part {
  std::string content_type;
  std::string content_range;
  std::string data;
};

// Splits a multipart/byteranges body; empty when it is malformed.
std::vector<Part> parse_multipart(const std::string& body, const std::string& boundary) {
  std::vector<Part> parts;
  const std::string delimiter = "\r\n--" + boundary;
  std::size_t at = body.find(delimiter);
  if (at == std::string::npos || body.compare(0, 2, "\r\n") != 0) return {};
  while (true) {
    at += delimiter.size();
    if (body.compare(at, 4, "--\r\n") == 0) return at + 4 == body.size() ? parts : std::vector<Part>{};
    if (body.compare(at, 2, "\r\n") != 0) return {};
    const std::size_t head_end = body.find("\r\n\r\n", at);
    const std::size_t next = body.find(delimiter, head_end);
    if (head_end == std::string::npos || next == std::string::npos) return {};
    Part p;
    const std::string head = body.substr(at + 2, head_end - at - 2);
    for (std::size_t line = 0; line < head.size();) {
      const std::size_t eol = std::min(head.find("\r\n", line), head.size());
      const std::string field = head.substr(line, eol - line);
      if (field.rfind("Content-Type: ", 0) == 0) p.content_type = field.substr(14);
      if (field.rfind("Content-Range: ", 0) == 0) p.content_range = field.substr(15);
      line = eol + 2;
    }
    p.data = body.substr(head_end + 4, next - head_end - 4);
    parts.push_back(std::move(p));
    at = next;
  }
}

class Ranges : public SharedTreeServer<Ranges> {
 protected:
  static void SetUpTestSuite() {
    tree_ = new StaticTree();
    tree_->write("f.txt", alphabet(10000));
    tree_->set_mtime("f.txt", kMtime);
    server_ = new WeftServer(serve_args(*tree_));
    const auto first = get(server_->port(), "/f.txt");
    etag_ = first && first->header("ETag") ? *first->header("ETag") : std::string();
  }
  static std::optional<HttpResponse> range(const std::string& spec, std::vector<std::string> more = {}) {
    more.push_back("Range: " + spec);
    return get(server_->port(), "/f.txt", more);
  }
  static std::string etag_;
};
std::string Ranges::etag_;

TEST_F(Ranges, SingleRangesAre206WithContentRange) {
  const std::string all = alphabet(10000);
  struct Case {
    const char* spec;
    std::size_t first;
    std::size_t length;
  };
  for (const Case& c :
       {Case{"bytes=0-499", 0, 500}, Case{"bytes=9500-", 9500, 500}, Case{"bytes=-500", 9500, 500},
        Case{"bytes=100-100", 100, 1}, Case{"bytes=9990-20000", 9990, 10}}) {
    const auto r = range(c.spec);
    ASSERT_TRUE(r) << c.spec;
    EXPECT_EQ(r->status, 206) << c.spec;
    EXPECT_EQ(r->header("Content-Range"),
              "bytes " + std::to_string(c.first) + "-" + std::to_string(c.first + c.length - 1) + "/10000")
        << c.spec;
    EXPECT_EQ(r->header("Content-Length"), std::to_string(c.length)) << c.spec;
    EXPECT_EQ(r->header("Content-Type"), "text/plain; charset=utf-8") << c.spec;
    EXPECT_EQ(r->body, all.substr(c.first, c.length)) << c.spec;
    EXPECT_EQ(r->header("ETag"), etag_);
  }
}

TEST_F(Ranges, SeveralRangesAreMultipartByteranges) {
  const auto r = range("bytes=0-9, 5000-5009, -10");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  const std::string type = r->header("Content-Type").value_or("");
  const std::string prefix = "multipart/byteranges; boundary=";
  ASSERT_EQ(type.rfind(prefix, 0), 0U) << type;
  EXPECT_FALSE(r->header("Content-Range"));
  EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size()));
  const auto parts = parse_multipart(r->body, type.substr(prefix.size()));
  ASSERT_EQ(parts.size(), 3U) << r->body;
  const std::string all = alphabet(10000);
  EXPECT_EQ(parts[0].content_range, "bytes 0-9/10000");
  EXPECT_EQ(parts[0].data, all.substr(0, 10));
  EXPECT_EQ(parts[1].content_range, "bytes 5000-5009/10000");
  EXPECT_EQ(parts[1].data, all.substr(5000, 10));
  EXPECT_EQ(parts[2].content_range, "bytes 9990-9999/10000");
  EXPECT_EQ(parts[2].data, all.substr(9990, 10));
  for (const Part& p : parts) EXPECT_EQ(p.content_type, "text/plain; charset=utf-8");
}

TEST_F(Ranges, OverlappingRangesAreCoalescedAndTooManyGiveTheWholeFile) {
  const auto merged = range("bytes=0-99, 50-199, 150-299");
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->status, 206);
  EXPECT_EQ(merged->header("Content-Range"), "bytes 0-299/10000");
  std::string many = "bytes=";
  for (int i = 0; i < 17; ++i) many += std::to_string(i * 500) + "-" + std::to_string(i * 500) + ",";
  const auto whole = range(many);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body.size(), 10000U);
}

TEST_F(Ranges, UnsatisfiableIs416WithTheLength) {
  for (const char* spec : {"bytes=10000-", "bytes=20000-30000", "bytes=-0"}) {
    const auto r = range(spec);
    ASSERT_TRUE(r) << spec;
    EXPECT_EQ(r->status, 416) << spec;
    EXPECT_EQ(r->header("Content-Range"), "bytes */10000") << spec;
  }
}

TEST_F(Ranges, InvalidOrForeignRangesAreIgnored) {
  for (const char* spec : {"bytes=5-1", "items=0-1", "bytes=abc"}) {
    const auto r = range(spec);
    ASSERT_TRUE(r) << spec;
    EXPECT_EQ(r->status, 200) << spec;
    EXPECT_EQ(r->body.size(), 10000U) << spec;
  }
  const auto head = request(server_->port(), "HEAD", "/f.txt", {"Range: bytes=0-1"});
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);  // Range is for GET only
  EXPECT_EQ(head->header("Content-Length"), "10000");
}

TEST_F(Ranges, IfRangeWithAMatchingValidatorGives206ElseTheWholeFile) {
  const auto by_etag = range("bytes=0-4", {"If-Range: " + etag_});
  ASSERT_TRUE(by_etag);
  EXPECT_EQ(by_etag->status, 206);
  const auto by_date = range("bytes=0-4", {std::string("If-Range: ") + kLastModified});
  ASSERT_TRUE(by_date);
  EXPECT_EQ(by_date->status, 206);
  for (const std::string& stale :
       {std::string("\"stale\""), "W/" + etag_, std::string("Sun, 13 Sep 2020 12:26:41 GMT")}) {
    const auto r = range("bytes=0-4", {"If-Range: " + stale});
    ASSERT_TRUE(r) << stale;
    EXPECT_EQ(r->status, 200) << stale;
    EXPECT_EQ(r->body.size(), 10000U) << stale;
  }
}

TEST_F(Ranges, RangeNearTheEndOfAOneGibSparseFile) {
  StaticTree tree;
  tree.write("big.bin", "");
  const std::string path = (tree.root() / "big.bin").string();
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    constexpr off_t kGiB = off_t{1} << 30;
    ASSERT_EQ(::ftruncate(fd, kGiB), 0);  // sparse: no block is written
    ASSERT_EQ(::pwrite(fd, "END!", 4, kGiB - 4), 4);
    ::close(fd);
  }
  const WeftServer server(serve_args(tree));
  const auto head = request(server.port(), "HEAD", "/big.bin");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "1073741824");
  const auto tail = get(server.port(), "/big.bin", {"Range: bytes=1073741000-"});
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->header("Content-Range"), "bytes 1073741000-1073741823/1073741824");
  ASSERT_EQ(tail->body.size(), 824U);
  EXPECT_EQ(tail->body.substr(0, 820), std::string(820, '\0'));
  EXPECT_EQ(tail->body.substr(820), "END!");
  const auto suffix = get(server.port(), "/big.bin", {"Range: bytes=-4"});
  ASSERT_TRUE(suffix);
  EXPECT_EQ(suffix->body, "END!");
}

}  // namespace
}  // namespace weft::test
