// Request smuggling: for each ambiguous framing (smuggling_cases.hpp), a raw socket proves that
// weft answers once and closes, and never parses the request hidden in the body. Both ways a body
// is consumed: read for a handler (POST /echo: the answer is the 400/501 itself) and dropped after
// an answer given on the loop (POST /: 405, then the connection closes at the broken framing).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "smuggling_cases.hpp"
#include "support/stress.hpp"
#include "weft/server.hpp"

namespace weft::stress {
namespace {

class Smuggling : public ::testing::TestWithParam<SmugglingCase> {
 protected:
  static void SetUpTestSuite() {
    Config config;
    config.port = 0;
    config.loops = 1;
    config.threads = 2;
    server_ = std::make_unique<Server>(config);
    server_->fixed("/", Response::text(200, "root\n"));
    server_->post("/echo", [](const Request& r) { return Response::text(200, std::string(r.body())); });
    server_->get("/smuggled", [](const Request&) {
      ++smuggled_;
      return Response::text(200, "smuggled\n");
    });
    server_->start();
  }
  static void TearDownTestSuite() {
    server_->stop();
    server_->wait();
    server_.reset();
  }

  // Sends `request`; returns the responses and whether the server closed within 3 s.
  static std::pair<Responses, bool> exchange(const std::string& request, std::string& received) {
    std::vector<Fd> conn = open_connections(server_->port(), 1);
    EXPECT_EQ(conn.size(), 1U);
    if (conn.empty()) return {};
    EXPECT_TRUE(send_all(conn.front().get(), request));
    const Drained d = read_until_close(conn.front().get(), 3s);
    received = d.bytes;
    return {split_responses(received), d.closed};
  }

  static std::unique_ptr<Server> server_;
  static std::atomic<int> smuggled_;
};

std::unique_ptr<Server> Smuggling::server_;
std::atomic<int> Smuggling::smuggled_{0};

TEST_P(Smuggling, HandlerRouteAnswers400Or501OnceAndCloses) {
  const SmugglingCase& c = GetParam();
  std::string received;
  const auto [responses, closed] = exchange(smuggling_request(c, "/echo"), received);
  ASSERT_EQ(responses.statuses.size(), 1U) << received;
  const int status = responses.statuses.front();
  EXPECT_TRUE(status == 400 || status == 501) << received;
  EXPECT_TRUE(responses.close.front()) << "no Connection: close on " << status;
  EXPECT_TRUE(responses.rest.empty()) << received;
  EXPECT_TRUE(closed);
  EXPECT_EQ(smuggled_.load(), 0);
}

TEST_P(Smuggling, LoopRouteAnswersOnceAndCloses) {
  const SmugglingCase& c = GetParam();
  std::string received;
  const auto [responses, closed] = exchange(smuggling_request(c, "/"), received);
  ASSERT_EQ(responses.statuses.size(), 1U) << received;
  const int status = responses.statuses.front();
  if (c.head_error) {
    EXPECT_TRUE(status == 400 || status == 501) << received;
    EXPECT_TRUE(responses.close.front());
  } else {
    EXPECT_EQ(status, 405) << received;  // answered before the body's framing broke
  }
  EXPECT_TRUE(responses.rest.empty()) << received;
  EXPECT_TRUE(closed);
  EXPECT_EQ(smuggled_.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Framings, Smuggling, ::testing::ValuesIn(smuggling_cases()),
                         [](const ::testing::TestParamInfo<SmugglingCase>& param) {
                           return std::string(param.param.name);
                         });

}  // namespace
}  // namespace weft::stress
