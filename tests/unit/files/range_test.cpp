#include "files/range.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using weft::files::ByteRange;
using weft::files::kMaxRangeParts;
using weft::files::parse_range;
using Outcome = weft::files::RangeRequest::Outcome;

std::vector<ByteRange> partial(std::string_view header, std::uint64_t size) {
  const auto r = parse_range(header, size);
  EXPECT_EQ(r.outcome, Outcome::kPartial) << header;
  return r.ranges;
}

TEST(ParseRange, SingleRangeForms) {
  EXPECT_EQ(partial("bytes=0-499", 10000), (std::vector<ByteRange>{{0, 500}}));
  EXPECT_EQ(partial("bytes=500-999", 10000), (std::vector<ByteRange>{{500, 500}}));
  EXPECT_EQ(partial("bytes=9500-", 10000), (std::vector<ByteRange>{{9500, 500}}));
  EXPECT_EQ(partial("bytes=-500", 10000), (std::vector<ByteRange>{{9500, 500}}));
  EXPECT_EQ(partial("bytes=0-0", 1), (std::vector<ByteRange>{{0, 1}}));
}

TEST(ParseRange, ClampsToTheRepresentation) {
  EXPECT_EQ(partial("bytes=5-100", 10), (std::vector<ByteRange>{{5, 5}}));
  EXPECT_EQ(partial("bytes=-100", 10), (std::vector<ByteRange>{{0, 10}}));  // longer suffix: whole
  EXPECT_EQ(partial("bytes=0-99999999999999999999999999", 10), (std::vector<ByteRange>{{0, 10}}));
  EXPECT_EQ(partial("bytes=-99999999999999999999999999", 10), (std::vector<ByteRange>{{0, 10}}));
}

TEST(ParseRange, UnitIsCaseInsensitiveAndListsMayHaveSpacesAndEmptyElements) {
  EXPECT_EQ(partial("Bytes=0-1", 10), (std::vector<ByteRange>{{0, 2}}));
  EXPECT_EQ(partial("bytes= 0-0 , ,  900-900 ,", 10000), (std::vector<ByteRange>{{0, 1}, {900, 1}}));
}

TEST(ParseRange, UnsatisfiableWhenNoRangeOverlaps) {
  EXPECT_EQ(parse_range("bytes=10-20", 10).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=10-", 10).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 10).outcome, Outcome::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 10).outcome, Outcome::kUnsatisfiable);
  // One satisfiable spec is enough; the others are dropped.
  EXPECT_EQ(partial("bytes=50-60,2-3", 10), (std::vector<ByteRange>{{2, 2}}));
}

TEST(ParseRange, InvalidOrForeignFieldsAreIgnored) {
  for (const char* h : {"bytes=5-1", "bytes=x-", "bytes=1-2-3", "bytes=", "bytes=,", "bytes=-", "bytes 0-1",
                        "items=0-1", "bytes=0-1,5-2", "bytes=1 -2", "bytes=--1", "bytes=0x1-2", "", "="}) {
    EXPECT_EQ(parse_range(h, 10).outcome, Outcome::kIgnore) << h;
  }
  EXPECT_EQ(parse_range("bytes=0-1", 0).outcome, Outcome::kIgnore);  // empty file: MAY ignore
}

TEST(ParseRange, CoalescesOverlappingAndNearbyRangesKeepingRequestOrder) {
  EXPECT_EQ(partial("bytes=0-10,5-20", 1000), (std::vector<ByteRange>{{0, 21}}));
  EXPECT_EQ(partial("bytes=0-10,11-20", 1000), (std::vector<ByteRange>{{0, 21}}));  // adjacent
  EXPECT_EQ(partial("bytes=0-0,50-50", 1000), (std::vector<ByteRange>{{0, 51}}));   // gap < 80
  EXPECT_EQ(partial("bytes=900-999,0-9", 1000), (std::vector<ByteRange>{{900, 100}, {0, 10}}));
  EXPECT_EQ(partial("bytes=500-509,0-9,505-600", 1000), (std::vector<ByteRange>{{500, 101}, {0, 10}}));
}

TEST(ParseRange, TooManyPartsAfterCoalescingServesTheWholeFile) {
  std::string header = "bytes=";
  for (std::size_t i = 0; i < kMaxRangeParts; ++i)
    header += std::to_string(i * 1000) + "-" + std::to_string(i * 1000) + ",";
  EXPECT_EQ(parse_range(header, 100000).ranges.size(), kMaxRangeParts);
  header += "99000-99000";
  EXPECT_EQ(parse_range(header, 100000).outcome, Outcome::kIgnore);
  // Many tiny ranges close together coalesce into one part instead.
  std::string tiny = "bytes=";
  for (int i = 0; i < 500; ++i) tiny += std::to_string(i * 2) + "-" + std::to_string(i * 2) + ",";
  EXPECT_EQ(partial(tiny, 100000), (std::vector<ByteRange>{{0, 999}}));
}

}  // namespace
