#include "net/byte_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using weft::net::ByteBuffer;

void put(ByteBuffer& b, std::string_view s, std::size_t max_total = 1 << 20) {
  const auto space = b.prepare(s.size(), max_total);
  ASSERT_GE(space.size(), s.size());
  std::memcpy(space.data(), s.data(), s.size());
  b.commit(s.size());
}

TEST(ByteBuffer, StartsWithoutMemoryAndKeepsBytesInOrder) {
  ByteBuffer b;
  EXPECT_TRUE(b.empty());
  put(b, "hello ");
  put(b, "world");
  EXPECT_EQ(b.data(), "hello world");
  b.consume(6);
  EXPECT_EQ(b.data(), "world");
}

TEST(ByteBuffer, GrowsAndCompactsWithoutLosingData) {
  ByteBuffer b;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string piece = std::to_string(i) + ",";
    put(b, piece);
    expected += piece;
    if (i % 3 == 0) {
      b.consume(2);
      expected.erase(0, 2);
    }
  }
  EXPECT_EQ(b.data(), expected);
}

TEST(ByteBuffer, NeverExceedsItsMaximum) {
  ByteBuffer b;
  put(b, std::string(100, 'x'), 128);
  const auto space = b.prepare(64, 128);
  EXPECT_EQ(space.size(), 28u);
  b.commit(space.size());
  EXPECT_TRUE(b.prepare(1, 128).empty());
}

TEST(ByteBuffer, ReleasesMemoryOnlyWhenEmpty) {
  ByteBuffer b;
  put(b, "abc");
  b.release_if_empty();
  EXPECT_EQ(b.data(), "abc");
  b.consume(3);
  b.release_if_empty();
  EXPECT_TRUE(b.empty());
  put(b, "again");
  EXPECT_EQ(b.data(), "again");
}

}  // namespace
