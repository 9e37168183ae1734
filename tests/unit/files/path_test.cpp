#include "files/path.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using weft::files::HiddenFiles;
using weft::files::normalize_path;
using weft::files::percent_encode;
using weft::files::percent_encode_path;

struct Case {
  std::string_view decoded;
  int status;
  std::string_view relative;  // for 200
};

// Hostile paths as they arrive after the one percent-decoding (so "%2e%2e" is already "..",
// "%2f" already "/", "%5c" already '\\', "%c0%ae" already the bytes C0 AE), and as sent raw.
TEST(NormalizePath, HostileTable) {
  const std::vector<Case> cases{
      {"/../etc/passwd", 400, ""},
      {"/..", 400, ""},
      {"/a/../../etc/passwd", 400, ""},
      {"/a/b/../../../x", 400, ""},
      {"/./../x", 400, ""},
      {"//../x", 400, ""},
      {"/a/./b/../../..", 400, ""},
      {"/..;/etc/passwd", 404, ""},       // "..;" is a (hidden) name, not ".."
      {"/;/../../x", 400, ""},            // ";" is a segment, then two levels up
      {"/..\\..\\etc\\passwd", 404, ""},  // one hidden name: backslash is ordinary on Linux
      {"/\\..\\", 200, "\\..\\"},
      {"/\xC0\xAE\xC0\xAE/etc", 200, "\xC0\xAE\xC0\xAE/etc"},  // overlong UTF-8 is not '.'
      {"/\xE0\x80\xAE/x", 200, "\xE0\x80\xAE/x"},
      {"/...", 404, ""},
      {"/....//x", 404, ""},
      {"//etc/passwd", 200, "etc/passwd"},  // never absolute
      {"///a//b///", 200, "a/b"},
      {"/a/%2e%2e/b", 200, "a/%2e%2e/b"},  // decoded once only: "%2e%2e" stays a name
      {"/a/b/../c", 200, "a/c"},
      {"/a/./b/.", 200, "a/b"},
      {"/", 200, "."},
      {"", 200, "."},
      {"/a/..", 200, "."},
      {"/.hidden", 404, ""},
      {"/a/.git/config", 404, ""},
      {"/.x/../a", 404, ""},  // a hidden name never reaches the file system
      {"/.well-known/acme", 200, ".well-known/acme"},
      {"relative", 400, ""},
      {std::string_view("/a\0b", 4), 400, ""},
  };
  for (const Case& c : cases) {
    const auto r = normalize_path(c.decoded);
    EXPECT_EQ(r.status, c.status) << "path: " << c.decoded;
    if (c.status == 200) {
      EXPECT_EQ(r.relative, c.relative) << "path: " << c.decoded;
    }
  }
}

TEST(NormalizePath, DotNamesThatAreNotDotSegmentsAreOrdinaryWhenHiddenFilesAreServed) {
  for (const std::string_view p : {"/..;/etc/passwd", "/..\\..\\etc\\passwd", "/...", "/....//x"}) {
    const auto r = normalize_path(p, HiddenFiles::kServe);
    EXPECT_EQ(r.status, 200) << p;
    EXPECT_EQ(r.relative.find(".."), 0U) << p;  // kept as one name below the root
    EXPECT_EQ(
        r.relative.find('/') == std::string::npos ? r.relative : r.relative.substr(0, r.relative.find('/')),
        std::string(p.substr(1, p.find('/', 1) == std::string_view::npos ? p.npos : p.find('/', 1) - 1)))
        << p;
  }
}

TEST(NormalizePath, ResultNeverEscapesOrIsAbsolute) {
  // Every combination of a few dangerous segments, three deep.
  const std::vector<std::string> segs{"", ".", "..", "a", "...", ".a", "\\", ";", "\xC0\xAE"};
  for (const auto& a : segs) {
    for (const auto& b : segs) {
      for (const auto& c : segs) {
        const std::string path = "/" + a + "/" + b + "/" + c;
        for (const HiddenFiles h : {HiddenFiles::kRefuse, HiddenFiles::kServe}) {
          const auto r = normalize_path(path, h);
          if (r.status != 200) continue;
          EXPECT_NE(r.relative.front(), '/') << path;
          std::string_view rest = r.relative;
          while (!rest.empty()) {
            const auto slash = rest.find('/');
            const auto seg = rest.substr(0, slash);
            EXPECT_FALSE(seg.empty() || seg == ".." || (seg == "." && r.relative != ".")) << path;
            rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
          }
        }
      }
    }
  }
}

TEST(NormalizePath, HiddenNamesServedOnlyWhenAllowed) {
  EXPECT_EQ(normalize_path("/.env").status, 404);
  const auto served = normalize_path("/.env", HiddenFiles::kServe);
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.relative, ".env");
  EXPECT_EQ(normalize_path("/..", HiddenFiles::kServe).status, 400);
}

TEST(NormalizePath, TrailingSlashTellsADirectoryReference) {
  EXPECT_FALSE(normalize_path("/sub").trailing_slash);
  EXPECT_TRUE(normalize_path("/sub/").trailing_slash);
  EXPECT_TRUE(normalize_path("/sub/.").trailing_slash);
  EXPECT_TRUE(normalize_path("/sub/x/..").trailing_slash);
  EXPECT_TRUE(normalize_path("/").trailing_slash);
  EXPECT_FALSE(normalize_path("").trailing_slash);  // "/assets" mounted: redirect to "/assets/"
}

TEST(PercentEncode, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(percent_encode("a b<&>#%\"'?:/\\;"), "a%20b%3C%26%3E%23%25%22%27%3F%3A%2F%5C%3B");
  EXPECT_EQ(percent_encode("Az09-._~"), "Az09-._~");
  EXPECT_EQ(percent_encode("\xC3\xA9t\xC3\xA9"), "%C3%A9t%C3%A9");
  EXPECT_EQ(percent_encode_path("a b/c#d"), "a%20b/c%23d");
  EXPECT_EQ(percent_encode_path("."), "");
}

}  // namespace

// A path already in canonical form takes a short cut; prefixing "/." (a dot segment, which the
// short cut refuses) sends the same path through the general walk: both must agree.
TEST(NormalizePath, CanonicalPathsAgreeWithTheGeneralWalk) {
  for (const std::string_view p :
       {"/", "/a", "/a/", "/a/b.c", "/a/b/", "/x y/z~", "/\\..\\", "/a..b/c.", "/a;/b"}) {
    for (const HiddenFiles h : {HiddenFiles::kRefuse, HiddenFiles::kServe}) {
      const auto fast = normalize_path(p, h);
      const auto walked = normalize_path("/." + std::string(p), h);
      EXPECT_EQ(fast.status, 200) << p;
      EXPECT_EQ(fast.status, walked.status) << p;
      EXPECT_EQ(fast.relative, walked.relative) << p;
      EXPECT_EQ(fast.trailing_slash, walked.trailing_slash) << p;
    }
  }
}
