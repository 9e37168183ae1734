#include "core/percent.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using weft::core::decode_path;
using weft::core::decode_query_component;
using weft::core::needs_decoding;

TEST(DecodePath, ReturnsAPlainPathUnchanged) { EXPECT_EQ(decode_path("/a/b.html"), "/a/b.html"); }

TEST(DecodePath, DecodesUpperAndLowerCaseHex) {
  EXPECT_EQ(decode_path("/a%20b"), "/a b");
  EXPECT_EQ(decode_path("/%c3%A9t%C3%a9"), "/\xC3\xA9t\xC3\xA9");
}

TEST(DecodePath, DecodesAnEncodedSlashToASlash) { EXPECT_EQ(decode_path("/a%2Fb%2fc"), "/a/b/c"); }

TEST(DecodePath, DecodesOnlyOnce) { EXPECT_EQ(decode_path("/a%252Fb"), "/a%2Fb"); }

TEST(DecodePath, KeepsPlusAsPlus) { EXPECT_EQ(decode_path("/a+b"), "/a+b"); }

TEST(DecodePath, DecodesAnEscapeAtTheVeryEnd) { EXPECT_EQ(decode_path("/a%41"), "/aA"); }

TEST(DecodePath, RejectsANonHexEscape) {
  EXPECT_EQ(decode_path("/a%G1"), std::nullopt);
  EXPECT_EQ(decode_path("/a%1G"), std::nullopt);
  EXPECT_EQ(decode_path("/a%%41"), std::nullopt);
}

TEST(DecodePath, RejectsATruncatedEscape) {
  EXPECT_EQ(decode_path("/a%"), std::nullopt);
  EXPECT_EQ(decode_path("/a%4"), std::nullopt);
}

TEST(DecodePath, RejectsAnEncodedNul) { EXPECT_EQ(decode_path("/a%00b"), std::nullopt); }

TEST(DecodePath, RejectsARawNul) { EXPECT_EQ(decode_path(std::string_view("/a\0b", 4)), std::nullopt); }

// The connection uses a path in place when needs_decoding() is false: that must mean exactly
// "decode_path would return it unchanged".
TEST(NeedsDecoding, IsFalseExactlyWhenDecodingChangesNothing) {
  for (const std::string_view p : {"/", "/a/b.html", "/a+b", "/a b", "/\xC3\xA9", ""}) {
    EXPECT_FALSE(needs_decoding(p)) << p;
    EXPECT_EQ(decode_path(p), std::string(p)) << p;
  }
  for (const std::string_view p : {"/a%41", "%", "/a%2", "/%zz"}) EXPECT_TRUE(needs_decoding(p)) << p;
  EXPECT_TRUE(needs_decoding(std::string_view("/a\0b", 4)));
}

TEST(DecodePath, DecodesEveryByteButNul) {
  for (int byte = 1; byte < 256; ++byte) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::string raw{'/', '%', kHex[byte / 16], kHex[byte % 16]};
    EXPECT_EQ(decode_path(raw), std::string({'/', static_cast<char>(byte)})) << raw;
  }
}

TEST(DecodeQueryComponent, TurnsPlusIntoSpace) { EXPECT_EQ(decode_query_component("a+b++c"), "a b  c"); }

TEST(DecodeQueryComponent, DecodesEscapesIncludingAnEncodedPlus) {
  EXPECT_EQ(decode_query_component("1%2B1%3d2"), "1+1=2");
}

TEST(DecodeQueryComponent, DecodesOnlyOnce) { EXPECT_EQ(decode_query_component("%2541"), "%41"); }

TEST(DecodeQueryComponent, KeepsMalformedEscapesAsTheyAre) {
  EXPECT_EQ(decode_query_component("100%"), "100%");
  EXPECT_EQ(decode_query_component("%G1%4"), "%G1%4");
  EXPECT_EQ(decode_query_component("%%41"), "%A");
}

TEST(DecodeQueryComponent, DecodesAnEncodedNulToANulByte) {
  EXPECT_EQ(decode_query_component("a%00b"), std::string("a\0b", 3));
}

}  // namespace
