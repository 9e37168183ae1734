#include "http/http_date.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using weft::http::date_line;
using weft::http::format_http_date;

std::string formatted(std::time_t t) {
  const auto date = format_http_date(t);
  return {date.data(), date.size()};
}

TEST(FormatHttpDate, FormatsTheEpoch) { EXPECT_EQ(formatted(0), "Thu, 01 Jan 1970 00:00:00 GMT"); }

TEST(FormatHttpDate, FormatsTheRfcExample) {
  EXPECT_EQ(formatted(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(FormatHttpDate, FormatsLeapDays) {
  EXPECT_EQ(formatted(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");  // divisible by 400: leap
  EXPECT_EQ(formatted(1709251199), "Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(formatted(1709251200), "Fri, 01 Mar 2024 00:00:00 GMT");
}

TEST(FormatHttpDate, Knows2100IsNotALeapYear) {
  EXPECT_EQ(formatted(4107542399), "Sun, 28 Feb 2100 23:59:59 GMT");
  EXPECT_EQ(formatted(4107542400), "Mon, 01 Mar 2100 00:00:00 GMT");
}

TEST(FormatHttpDate, FormatsTheEndOfAYearAndOf32BitTime) {
  EXPECT_EQ(formatted(1704067199), "Sun, 31 Dec 2023 23:59:59 GMT");
  EXPECT_EQ(formatted(2147483647), "Tue, 19 Jan 2038 03:14:07 GMT");
  EXPECT_EQ(formatted(2147483648), "Tue, 19 Jan 2038 03:14:08 GMT");
}

TEST(FormatHttpDate, ClampsTimesItCannotWrite) {
  EXPECT_EQ(formatted(-1), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(formatted(weft::http::kMaxHttpDate), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(formatted(weft::http::kMaxHttpDate + 1), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(FormatHttpDate, AgreesWithGmtimeEveryDayForFourHundredYears) {
  // One full Gregorian cycle from 1970, one sample a day at a moving time of day.
  for (std::time_t day = 0; day < 146097; ++day) {
    const std::time_t t = day * 86400 + (day * 7919) % 86400;
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    std::array<char, 64> expected{};
    const std::size_t n = std::strftime(expected.data(), expected.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ASSERT_EQ(formatted(t), std::string(expected.data(), n)) << t;
  }
}

TEST(DateLine, IsTheDateFieldLineOfTheGivenSecond) {
  EXPECT_EQ(date_line(784111777), "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
}

TEST(DateLine, FollowsTheClockFromOneSecondToTheNext) {
  EXPECT_EQ(date_line(0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
  EXPECT_EQ(date_line(0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
  EXPECT_EQ(date_line(1), "Date: Thu, 01 Jan 1970 00:00:01 GMT\r\n");
}

TEST(DateLine, ReusesTheCachedLineWithinASecond) {
  const std::string_view first = date_line(1000);
  const std::string_view second = date_line(1000);
  EXPECT_EQ(first.data(), second.data());
}

TEST(DateLine, WithoutArgumentsShowsTheCurrentTime) {
  const std::time_t before = std::time(nullptr);
  const std::string line(date_line());
  const std::time_t after = std::time(nullptr);
  const auto a = format_http_date(before);
  const auto b = format_http_date(after);
  const std::string expect_a = "Date: " + std::string(a.data(), a.size()) + "\r\n";
  const std::string expect_b = "Date: " + std::string(b.data(), b.size()) + "\r\n";
  EXPECT_TRUE(line == expect_a || line == expect_b) << line;
}

}  // namespace
