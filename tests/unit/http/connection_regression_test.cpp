// Regressions found by fuzz_connection (issue 6), each also kept as an input under
// fuzz/corpus/fuzz_connection/regression-*: a Connection on a real EventLoop, driven through a
// socketpair by a host that answers requests on the loop (their bodies are then discarded), except
// /h, which goes to a handler (its body is read), and /big, a 100 kB answer on the loop.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/connection.hpp"
#include "http/connection_host.hpp"
#include "net/event_loop.hpp"
#include "weft/body_reader.hpp"
#include "weft/reply.hpp"

namespace weft::http {
namespace {

// Never started: these tests stop before a handler would answer.
class IdleEndpoint final : public exchange::Endpoint {
 public:
  void start(Request /*request*/, Reply /*reply*/) const noexcept override {}
};

// The same for a route that reads its body as a stream (RouteOptions::stream_body).
class StreamBodyEndpoint final : public exchange::Endpoint {
 public:
  StreamBodyEndpoint() { stream_body = true; }
  void start(Request /*request*/, Reply /*reply*/) const noexcept override {}
};

class TestHost final : public ConnectionHost {
 public:
  TestHost(const Config& config, net::EventLoop& loop) : ConnectionHost(config, loop) {}
  Route redirect_route(const RequestHead& /*head*/) override {
    Route r;
    r.response = Response::text(421, "not a redirect listener\n");
    return r;
  }
  Route route(const RequestHead& /*head*/, std::string_view path) override {
    Route r;
    if (path == "/h") {
      r.kind = Route::Kind::kHandle;
      r.endpoint = &endpoint_;
    } else if (path == "/up") {
      r.kind = Route::Kind::kHandle;
      r.endpoint = &stream_body_;
    } else if (path == "/big") {
      r.response = Response::text(200, std::string(kBigBody, 'B'));
    } else {
      r.response = Response::text(200, "ok\n");
    }
    return r;
  }
  // The handler never finishes: these tests stop before it would (the Reply is kept unanswered).
  bool dispatch(const exchange::Endpoint& /*endpoint*/, Request request, Reply reply) override {
    requests_.push_back(std::move(request));
    replies_.push_back(std::move(reply));
    return true;
  }
  // A pool whose queue is always full: every body delivery is refused.
  bool run_off_loop(std::function<void()> /*job*/) override { return false; }
  void post_news(std::uint64_t /*connection_id*/) override {}
  int open_file_body(const Response& /*response*/, std::vector<BodyPart>& /*body*/) override { return 404; }
  void access(const HostedConnection& /*connection*/, const AccessRecord& /*record*/) override {}
  void closed(HostedConnection& /*connection*/) override { closed_ = true; }
  [[nodiscard]] bool is_closed() const noexcept { return closed_; }
  /// The Reply of the n-th handled request (the handler never answers on its own).
  [[nodiscard]] Reply& reply(std::size_t n) { return replies_.at(n); }
  [[nodiscard]] Request& request(std::size_t n) { return requests_.at(n); }
  static constexpr std::size_t kBigBody = 100'000;

 private:
  bool closed_ = false;
  IdleEndpoint endpoint_;
  StreamBodyEndpoint stream_body_;
  std::vector<Request> requests_;
  std::vector<Reply> replies_;
};

// One connection: the client's end of the socketpair, and what it has received.
class Wire {
 public:
  /// `send_buffer`: SO_SNDBUF of the server's end (0: the default), so that output queues up.
  explicit Wire(int send_buffer = 0) : host_(config_, loop_) {
    std::array<int, 2> sv{};
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv.data()), 0);
    if (send_buffer > 0) {
      EXPECT_EQ(::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer), 0);
    }
    client_ = net::UniqueFd(sv[1]);
    connection_ = std::make_unique<Connection>(host_, net::UniqueFd(sv[0]), net::PeerAddress(), 1);
    connection_->start();
    EXPECT_TRUE(connection_->watch());
  }
  /// `read`: the client reads what the connection sends (else it leaves it in the socket).
  void send(std::string_view bytes, bool read = true) {
    EXPECT_EQ(::send(client_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    settle(read);
  }
  /// The client shuts its sending side (EOF for the server), and may still read.
  void shutdown_write() {
    EXPECT_EQ(::shutdown(client_.get(), SHUT_WR), 0);
    settle();
  }
  /// The exchange in flight has news (this host's post_news does not say so on its own).
  void news(bool read = true) {
    connection_->on_exchange_news();
    settle(read);
  }
  TestHost& host() noexcept { return host_; }
  // Lets the connection work (a bounded number of non-blocking rounds) and collects its output.
  void settle(bool read = true) {
    for (int i = 0; i < 20; ++i) {
      loop_.poll(net::Clock::now());
      host_.run_resumes();
      if (!read) continue;
      std::array<char, 4096> chunk{};
      ssize_t n = 0;
      while ((n = ::recv(client_.get(), chunk.data(), chunk.size(), MSG_DONTWAIT)) > 0) {
        received_.append(chunk.data(), static_cast<std::size_t>(n));
      }
      if (n == 0) eof_ = true;
    }
  }
  void fire_body_timer() {
    if (host_.timers().body.pop_expired(net::Clock::time_point::max()) != nullptr) {
      connection_->on_timeout(TimerKind::kBody);
    }
    settle();
  }
  [[nodiscard]] std::size_t responses() const {
    std::size_t n = 0;
    for (std::size_t at = received_.find("HTTP/1.1 "); at != std::string::npos;
         at = received_.find("HTTP/1.1 ", at + 1))
      ++n;
    return n;
  }
  [[nodiscard]] const std::string& received() const noexcept { return received_; }
  /// The server is done with the connection: closed, or its sending side shut (lingering).
  [[nodiscard]] bool ended() const noexcept { return host_.is_closed() || eof_; }

 private:
  Config config_;
  net::EventLoop loop_;
  TestHost host_;
  net::UniqueFd client_;
  std::unique_ptr<Connection> connection_;
  std::string received_;
  bool eof_ = false;
};

TEST(ConnectionRegression, BadChunkedFramingInADiscardedBodyClosesWithoutASecondResponse) {
  // The request is answered on the loop (200) and its body dropped; the body's framing then
  // breaks (bare LF). A 400 after the 200 would be read as the answer to the next request.
  Wire wire;
  wire.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\nabcd\n0\n\n"
      "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(wire.responses(), 1U) << wire.received();
  EXPECT_TRUE(wire.received().starts_with("HTTP/1.1 200 ")) << wire.received();
  EXPECT_TRUE(wire.ended());
}

TEST(ConnectionRegression, StalledDiscardedBodyClosesWithoutA408) {
  Wire wire;
  wire.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_EQ(wire.responses(), 1U) << wire.received();
  wire.fire_body_timer();
  EXPECT_EQ(wire.responses(), 1U) << wire.received();
  EXPECT_TRUE(wire.ended());
}

TEST(ConnectionRegression, StalledBodyOfAnUnansweredRequestStillGets408) {
  // The other side of the line: a body that a handler waits for, with no answer sent yet.
  Wire wire;
  wire.send("POST /h HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_EQ(wire.responses(), 0U) << wire.received();
  wire.fire_body_timer();
  EXPECT_TRUE(wire.received().starts_with("HTTP/1.1 408 ")) << wire.received();
  EXPECT_EQ(wire.responses(), 1U);
  EXPECT_TRUE(wire.ended());
}

TEST(ConnectionRegression, BadChunkedFramingInAHandlerBodyStillGets400) {
  Wire wire;
  wire.send("POST /h HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\nabcd\n0\n\n");
  EXPECT_TRUE(wire.received().starts_with("HTTP/1.1 400 ")) << wire.received();
  EXPECT_EQ(wire.responses(), 1U);
  EXPECT_TRUE(wire.ended());
}

// Found by fuzz_connection (fixed; input
// fuzz/corpus/fuzz_connection/regression-stream-cut-drops-earlier-responses): a stream dropped without end()
// makes pull_exchange() call close() (connection.cpp, "cut short"), and close() releases the output queue, so
// responses answered in full before the stream, still queued because the client reads slowly, are cut short
// too. Expected: they arrive whole, then the stream's head and bytes without the last chunk, then the close.
// Enable once fixed.
TEST(ConnectionRegression, ACutStreamDoesNotCutTheResponsesQueuedBeforeIt) {
  Wire wire(16 * 1024);  // a small socket buffer: most of the /big response waits in the queue
  wire.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /h HTTP/1.1\r\nHost: a\r\n\r\n", false);
  {
    ResponseStream stream = wire.host().reply(0).stream(Response(200));
    stream.write("part");
  }  // dropped without end()
  wire.news(false);
  wire.settle();  // the client reads now
  const std::size_t body = wire.received().find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << wire.received().size();
  EXPECT_GE(wire.received().size(), body + 4 + TestHost::kBigBody) << "the /big response was cut short";
  EXPECT_TRUE(wire.ended());
}

// The other side of that line, which holds today: with nothing queued before it, a cut stream
// shows its head and bytes, never the last chunk, and the connection closes.
TEST(ConnectionRegression, ACutStreamNeverEndsWithTheLastChunk) {
  Wire wire;
  wire.send("GET /h HTTP/1.1\r\nHost: a\r\n\r\n");
  ResponseStream stream = wire.host().reply(0).stream(Response(200));
  stream.write("part");
  wire.news();
  EXPECT_TRUE(wire.received().ends_with("\r\n4\r\npart\r\n")) << wire.received();
  stream = ResponseStream();  // dropped without end()
  wire.news();
  EXPECT_EQ(wire.received().find("0\r\n\r\n"), std::string::npos) << wire.received();
  EXPECT_TRUE(wire.ended());
}

// Found by fuzz_connection (fixed; input
// fuzz/corpus/fuzz_connection/regression-half-close-after-buffered-pipelined- request): on_io() takes a
// client's EOF while an exchange is in flight for "gone" when a peek at the socket finds nothing more
// (connection.cpp, Connection::on_io, the MSG_PEEK test), but a request pipelined in the same packet as the
// one in flight was already read into the connection's own buffer, so the socket looks empty. The exchange is
// cancelled and the connection closes; the same bytes in two packets keep it (next test). Expected: the same
// as there.
TEST(ConnectionRegression, AHalfCloseAfterAPipelinedRequestReadWithTheFirstKeepsTheExchange) {
  Wire wire;
  wire.send("GET /h HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  wire.shutdown_write();
  EXPECT_FALSE(wire.host().reply(0).cancelled());
  EXPECT_FALSE(wire.ended());
}

TEST(ConnectionRegression, AHalfCloseAfterAPipelinedRequestLeftInTheSocketKeepsTheExchange) {
  Wire wire;
  wire.send("GET /h HTTP/1.1\r\nHost: a\r\n\r\n");
  wire.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");  // not read while /h is in flight
  wire.shutdown_write();
  EXPECT_FALSE(wire.host().reply(0).cancelled());
  EXPECT_FALSE(wire.ended());
}

// Found by fuzz_connection (fixed; input
// fuzz/corpus/fuzz_connection/regression-body-fails-after-refused-delivery- deadlocks): Exchange::detach()
// (src/exchange/exchange.cpp, the `if (!delivering_)` block) destroys on_data_ and on_end_ while it holds
// mutex_. When on_end holds the last copy of the Reply (as weft's own PUT /upload does), ~ReplyHandle calls
// Exchange::answered(), which locks mutex_ again: the loop thread deadlocks. Reached when the pool refused
// the delivery (so no delivery is running) and the body then fails (here: bad chunked framing, 400) or the
// client goes away. Expected: a 400 and the close. Runs on a thread of its own, which never returns while the
// bug is there: the test then fails after 5 s, leaving that thread (and what it holds) behind.
TEST(ConnectionRegression, ABodyFailingAfterARefusedDeliveryDoesNotDeadlock) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([done] {
    auto wire = std::make_unique<Wire>();
    wire->send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    Reply reply = std::move(wire->host().reply(0));
    wire->host().request(0).body_reader().read([](std::string_view) {}, [r = std::move(reply)](BodyEnd) {});
    wire->send("3\nabc\r\n");  // bad framing: the delivery of the end is refused, then 400
    EXPECT_TRUE(wire->received().starts_with("HTTP/1.1 400 ")) << wire->received();
    wire.reset();
    done->set_value();
  }).detach();
  ASSERT_EQ(finished.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "the loop thread deadlocked in Exchange::detach";
}

// Found by fuzz_connection (fixed; input fuzz/corpus/fuzz_connection/regression-read-after-drop-with-refused-
// delivery-leaks): a handler that starts reading its body after the connection has dropped the
// exchange (here a 400 came before the pool ran the handler) gets its delivery refused by a
// full pool; nothing retries it for a detached exchange, so on_end (holding the Reply, which
// holds the exchange) is never run nor dropped: the exchange and what the callbacks hold leak.
// Expected: they are freed (the end, aborted, delivered or the callbacks dropped).
TEST(ConnectionRegression, ReadingTheBodyOfADroppedExchangeLeaksNothing) {
  std::weak_ptr<int> held;
  {
    Wire wire;
    wire.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n");
    ASSERT_TRUE(wire.received().starts_with("HTTP/1.1 400 ")) << wire.received();
    auto sentinel = std::make_shared<int>(0);
    held = sentinel;
    Reply reply = std::move(wire.host().reply(0));
    wire.host().request(0).body_reader().read([](std::string_view) {},
                                              [sentinel, r = std::move(reply)](BodyEnd) {});
  }
  EXPECT_TRUE(held.expired()) << "the body callbacks of a dropped exchange were kept";
}

}  // namespace
}  // namespace weft::http
