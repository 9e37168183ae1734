#include "core/ascii.hpp"

#include <gtest/gtest.h>

#include <string>

namespace weft::core {
namespace {

TEST(LowerInPlace, EveryByteValueAgreesWithToLowerAtEveryOffsetAndLength) {
  // All 256 byte values, at every alignment of the eight-byte steps and the tail.
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t length : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                               std::size_t{16}, all.size() - offset}) {
      std::string got = all;
      lower_in_place(got.data() + offset, length);
      for (std::size_t i = 0; i < got.size(); ++i) {
        const bool inside = i >= offset && i < offset + length;
        ASSERT_EQ(got[i], inside ? to_lower(all[i]) : all[i])
            << "byte " << i << ", offset " << offset << ", length " << length;
      }
    }
  }
}

TEST(LowerInPlace, FieldNamesComeOutAsHttp2WantsThem) {
  std::string name = "X-Content-Type-Options";
  lower_in_place(name.data(), name.size());
  EXPECT_EQ(name, "x-content-type-options");
  std::string edges = "@[`{AZaz09-_\x80\xC1\xDA";
  lower_in_place(edges.data(), edges.size());
  EXPECT_EQ(edges, "@[`{azaz09-_\x80\xC1\xDA");
}

}  // namespace
}  // namespace weft::core
