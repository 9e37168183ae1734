// Request fields as a handler sees them over HTTP/2, on the in-process server with nghttp as the
// client: Cookie split over several fields (RFC 9113 8.2.3) arrives joined with "; ", and
// :authority is the request's host (8.3.1).
#include <gtest/gtest.h>

#include <string>

#include "support/live_server.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

LiveServer echo_server() {
  return LiveServer(test_config(), [](Server& server) {
    server.get("/echo", [](const Request& request) {
      std::string text = "host=" + std::string(request.host()) + "\n";
      int cookies = 0;
      for (const Request::Header& h : request.headers()) {
        if (h.name == "cookie" || h.name == "Cookie") {
          ++cookies;
          text += "cookie=" + std::string(h.value) + "\n";
        }
      }
      text += "fields=" + std::to_string(cookies) + "\n";
      return Response::text(200, text);
    });
  });
}

// nghttp -v: what it sent (the frames) and the body it got.
std::string nghttp(std::uint16_t port, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-v", "--no-dep"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("http://127.0.0.1:" + std::to_string(port) + "/echo");
  Process p(find_in_path("nghttp"), args);
  const auto status = p.wait_exit(10s);
  EXPECT_TRUE(status && status->exited && status->code == 0) << p.err();
  return p.out();
}

TEST(H2Fields, CookieFieldsAreJoinedForTheHandler) {
  if (find_in_path("nghttp").empty()) GTEST_SKIP() << "no nghttp (nghttp2-client)";
  LiveServer server = echo_server();
  const std::string out =
      nghttp(server.port(), {"-H", "cookie: a=1", "-H", "cookie: b=2; c=3", "-H", "cookie: d=4"});
  // The client really sent three fields (so the join is the server's) ...
  std::size_t sent = 0;
  for (std::size_t at = out.find("cookie: "); at != std::string::npos; at = out.find("cookie: ", at + 1))
    ++sent;
  EXPECT_EQ(sent, 3U) << out;
  // ... and the handler saw one.
  EXPECT_NE(out.find("cookie=a=1; b=2; c=3; d=4\nfields=1\n"), std::string::npos) << out;
}

TEST(H2Fields, AuthorityIsTheHost) {
  if (find_in_path("nghttp").empty()) GTEST_SKIP() << "no nghttp (nghttp2-client)";
  LiveServer server = echo_server();
  const std::string out = nghttp(server.port(), {"-H", ":authority: example.test:8443"});
  EXPECT_NE(out.find("host=example.test:8443\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace weft::test
