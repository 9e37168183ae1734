// The embedding example (examples/hello_server) really serves what its code
// says, and stops cleanly on SIGTERM.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "harness.hpp"

namespace weft::test {
namespace {

TEST(Examples, HelloServerAnswersItsRoutesAndStopsOnSigterm) {
  Process server(WEFT_EXAMPLE_HELLO_SERVER, {"0"});
  const auto line = server.read_stdout_line(10s);
  ASSERT_TRUE(line.has_value()) << server.err();
  const std::string prefix = "listening on port ";
  ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(prefix.size())));

  const auto hello = fetch(port, "/hello/weft");
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hi weft\n");

  const auto sum = fetch(port, "/add?a=2&b=40");
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->body, "42\n");

  Client c(port);
  c.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
      "7\r\n\r\n{\"a\":1}");
  const auto echo = c.read_response();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body, "{\"a\":1}");
  EXPECT_EQ(echo->header("content-type"), "application/json");

  server.send_signal(SIGTERM);
  const auto status = server.wait_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
}

}  // namespace
}  // namespace weft::test
