// The embedding example (examples/hello_server) really serves what its code
// says, and stops cleanly on SIGTERM.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

TEST(Examples, HelloServerAnswersItsRoutesAndStopsOnSigterm) {
  Process server(WEFT_EXAMPLE_HELLO_SERVER, {"0"});
  const auto line = server.read_stdout_line(10s);
  ASSERT_TRUE(line.has_value()) << server.err();
  const std::string prefix = "listening on port ";
  ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(prefix.size())));

  const auto hello = get(port, "/hello/weft");
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hi weft\n");

  const auto sum = get(port, "/add?a=2&b=40");
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

// The events of an SSE body: each "event: tick\nid: N\ndata: <UTC time>"; the ids, or a failure.
std::vector<unsigned long> tick_ids(const std::string& body) {
  std::vector<unsigned long> ids;
  std::size_t at = 0;
  while (at < body.size()) {
    const auto end = body.find("\n\n", at);
    if (end == std::string::npos) {
      ADD_FAILURE() << "an unterminated event: " << body.substr(at);
      break;
    }
    const std::string event = body.substr(at, end - at);
    at = end + 2;
    std::istringstream lines(event);
    std::string type, id, data;
    std::getline(lines, type);
    std::getline(lines, id);
    std::getline(lines, data);
    EXPECT_EQ(type, "event: tick") << event;
    EXPECT_EQ(id.rfind("id: ", 0), 0U) << event;
    // "data: 2026-11-30T15:32:14.123Z"
    EXPECT_EQ(data.size(), 30U) << event;
    EXPECT_EQ(data.rfind("data: 20", 0), 0U) << event;
    EXPECT_EQ(data.back(), 'Z') << event;
    ids.push_back(std::stoul(id.substr(4)));
  }
  return ids;
}

// Reads what `client` has been sent until `what` is among it (bounded).
bool wait_for_bytes(Client& client, std::string_view what, milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (client.pending().find(what) == std::string::npos) {
    if (Clock::now() >= deadline) return false;
    (void)client.read_until_close(20ms);  // on a timeout the bytes stay in pending()
  }
  return true;
}

std::string stats(std::uint16_t port) {
  const auto response = get(port, "/stats");
  return response ? response->body : "no answer";
}

template <typename Pred>
bool eventually(Pred done, milliseconds timeout = 3s) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

TEST(Examples, ClockPushesTicksToEveryStreamForgetsLeaversAndEndsThemOnSigterm) {
  Process server(WEFT_EXAMPLE_CLOCK, {"0", "50"});
  const auto line = server.read_stdout_line(10s);
  ASSERT_TRUE(line.has_value()) << server.err();
  const std::string prefix = "listening on port ";
  ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(prefix.size())));

  // Three ticks, then the stream ends; the ids count the clock's ticks.
  const auto three = get(port, "/clock?n=3");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->status, 200);
  EXPECT_EQ(three->header("Content-Type"), "text/event-stream");
  const auto ids = tick_ids(three->body);
  ASSERT_EQ(ids.size(), 3U) << three->body;
  EXPECT_EQ(ids[1], ids[0] + 1);
  EXPECT_EQ(ids[2], ids[1] + 1);
  // One clock for everyone: a later stream starts later in the count.
  const auto two = get(port, "/clock?n=2");
  ASSERT_TRUE(two);
  const auto later = tick_ids(two->body);
  ASSERT_EQ(later.size(), 2U) << two->body;
  EXPECT_GT(later[0], ids[2]);

  const auto page = get(port, "/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("new EventSource(\"/clock\")"), std::string::npos);

  // Three endless streams; two clients leave and the clock forgets them.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(port));
    clients.back()->send(make_request("GET", "/clock"));
    ASSERT_TRUE(wait_for_bytes(*clients.back(), "event: tick")) << clients.back()->pending();
  }
  EXPECT_EQ(stats(port), "streams 3\n");
  clients.resize(1);
  EXPECT_TRUE(eventually([&] { return stats(port) == "streams 1\n"; })) << stats(port);

  // SIGTERM ends the stream that is left (its last chunk arrives) and the program exits 0.
  server.send_signal(SIGTERM);
  const auto rest = clients[0]->read_until_close(10s);
  ASSERT_TRUE(rest) << "the stream was not closed after SIGTERM";
  EXPECT_TRUE(rest->ends_with("\r\n0\r\n\r\n")) << "the stream was cut, not ended: " << *rest;
  const auto status = server.wait_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0) << server.err();
}

}  // namespace
}  // namespace weft::test
