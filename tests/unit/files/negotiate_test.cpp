#include "files/negotiate.hpp"

#include <gtest/gtest.h>

namespace {

using weft::files::choose_coding;
using weft::files::Coding;
using weft::files::coding_bit;
using weft::files::prefers_json;

constexpr std::uint8_t kAll =
    coding_bit(Coding::kBrotli) | coding_bit(Coding::kZstd) | coding_bit(Coding::kGzip);

TEST(ChooseCoding, PrefersBrotliThenZstdThenGzipAtEqualQ) {
  EXPECT_EQ(choose_coding("gzip, deflate, br, zstd", kAll), Coding::kBrotli);
  EXPECT_EQ(choose_coding("gzip, zstd", kAll), Coding::kZstd);
  EXPECT_EQ(choose_coding("gzip", kAll), Coding::kGzip);
  EXPECT_EQ(choose_coding("x-gzip", kAll), Coding::kGzip);
  EXPECT_EQ(choose_coding("GZIP, BR", kAll), Coding::kBrotli);
}

TEST(ChooseCoding, HonoursQValuesAndQZero) {
  EXPECT_EQ(choose_coding("br;q=0, gzip", kAll), Coding::kGzip);
  EXPECT_EQ(choose_coding("br;q=0.5, gzip;q=0.8", kAll), Coding::kGzip);
  EXPECT_EQ(choose_coding("br; q=0.000, zstd ;Q=0.001", kAll), Coding::kZstd);
  EXPECT_EQ(choose_coding("*", kAll), Coding::kBrotli);
  EXPECT_EQ(choose_coding("*;q=0.5, br;q=0", kAll), Coding::kZstd);  // q=0 beats the wildcard
  EXPECT_EQ(choose_coding("*;q=0", kAll), Coding::kIdentity);
  EXPECT_EQ(choose_coding("identity", kAll), Coding::kIdentity);
  EXPECT_EQ(choose_coding("br;q=2, gzip;q=abc", kAll), Coding::kIdentity);  // invalid q: ignored
}

TEST(ChooseCoding, OnlyAmongAvailableVariants) {
  EXPECT_EQ(choose_coding("br, gzip", coding_bit(Coding::kGzip)), Coding::kGzip);
  EXPECT_EQ(choose_coding("br", coding_bit(Coding::kGzip)), Coding::kIdentity);
  EXPECT_EQ(choose_coding(std::nullopt, kAll), Coding::kIdentity);  // no field: plain file
  EXPECT_EQ(choose_coding("", kAll), Coding::kIdentity);
}

TEST(PrefersJson, ExplicitJsonOnly) {
  EXPECT_TRUE(prefers_json("application/json"));
  EXPECT_TRUE(prefers_json("application/json, text/html"));
  EXPECT_TRUE(prefers_json("text/html;q=0.5, application/json"));
  EXPECT_FALSE(prefers_json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  EXPECT_FALSE(prefers_json("*/*"));
  EXPECT_FALSE(prefers_json("text/html, application/json"));
  EXPECT_FALSE(prefers_json("application/json;q=0"));
}

}  // namespace
