#include "weft/log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(Log, ParsesEveryLevelName) {
  EXPECT_EQ(weft::parse_log_level("error"), weft::LogLevel::error);
  EXPECT_EQ(weft::parse_log_level("warn"), weft::LogLevel::warn);
  EXPECT_EQ(weft::parse_log_level("info"), weft::LogLevel::info);
  EXPECT_EQ(weft::parse_log_level("debug"), weft::LogLevel::debug);
  EXPECT_FALSE(weft::parse_log_level("verbose").has_value());
  EXPECT_FALSE(weft::parse_log_level("").has_value());
}

TEST(Log, WritesOneLineAtOrBelowTheLevel) {
  const auto saved = weft::log_level();
  weft::set_log_level(weft::LogLevel::warn);
  testing::internal::CaptureStderr();
  weft::log(weft::LogLevel::warn, "disk is slow");
  weft::log(weft::LogLevel::info, "hidden");
  const std::string err = testing::internal::GetCapturedStderr();
  weft::set_log_level(saved);
  EXPECT_EQ(err, "weft: warn: disk is slow\n");
}

TEST(Log, TruncatesHugeMessagesToOneLine) {
  testing::internal::CaptureStderr();
  weft::log(weft::LogLevel::error, std::string(5000, 'x'));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_LE(err.size(), 1024u);
  EXPECT_EQ(err.back(), '\n');
  EXPECT_EQ(err.find('\n'), err.size() - 1);
}

}  // namespace
