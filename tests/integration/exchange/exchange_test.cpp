// The exchange API against a real in-process server: answers given later from other threads,
// streamed responses (chunked, HTTP/1.0, HEAD), backpressure, cancellation, streamed request
// bodies, and what happens when application code forgets or fails to answer.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "weft/event_stream.hpp"
#include "weft/reply.hpp"
#include "weft/timer_queue.hpp"

namespace weft::test {
namespace {

using weft::Reply;  // not the test client's response type
using Response = weft::Response;

// A one-shot latch with a bounded wait.
class Signal {
 public:
  void set() {
    const std::lock_guard lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  return s;
}

TEST(Exchange, AnAsyncAnswerHoldsNoPoolThreadWhileItWaits) {
  // One worker: if /wait held it, /release could never run and /wait would never be answered.
  Config config = test_config();
  config.threads = 1;
  std::mutex mutex;
  std::vector<Reply> waiting;
  LiveServer s(config, [&](Server& srv) {
    srv.get("/wait", [&](Request, Reply reply) {
      const std::lock_guard lock(mutex);
      waiting.push_back(std::move(reply));
    });
    srv.get("/release", [&](const Request&) {
      std::vector<Reply> all;
      {
        const std::lock_guard lock(mutex);
        all.swap(waiting);
      }
      std::thread([all]() mutable {
        for (Reply& r : all) r.send(Response::text(200, "released\n"));
      }).join();
      return Response::text(200, "ok\n");
    });
  });
  Client a(s.port());
  Client b(s.port());
  a.send("GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
  b.send("GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
  // Both parked before the release (bounded wait for the two handlers to have run).
  for (int i = 0; i < 500; ++i) {
    {
      const std::lock_guard lock(mutex);
      if (waiting.size() == 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  const auto released = roundtrip(s.port(), "GET /release HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(released);
  EXPECT_EQ(released->status, 200);
  for (Client* c : {&a, &b}) {
    const auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "released\n");
  }
}

TEST(Exchange, AnAnswerFromATimerArrivesAndTheConnectionStaysUsable) {
  TimerQueue timers;
  LiveServer s(test_config(), [&](Server& srv) {
    srv.get("/later", [&](Request, Reply reply) {
      timers.after(30ms, [reply]() mutable { reply.send(Response::text(200, "late\n")); });
    });
  });
  Client c(s.port());
  for (int i = 0; i < 3; ++i) {
    c.send("GET /later HTTP/1.1\r\nHost: h\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "late\n");
  }
}

TEST(Exchange, AReplyDroppedWithoutAnAnswerIs500AndAThrowingAsyncHandlerToo) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/forget", [](Request, Reply) {});
    srv.get("/throw", [](Request, Reply) { throw std::runtime_error("boom"); });
  });
  for (const char* path : {"/forget", "/throw"}) {
    const auto r = roundtrip(s.port(), std::string("GET ") + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 500) << path;
  }
}

TEST(Exchange, ASecondAnswerThrowsLogicError) {
  std::promise<std::string> outcome;
  LiveServer s(test_config(), [&](Server& srv) {
    srv.get("/twice", [&](Request, Reply reply) {
      reply.send(Response::text(200, "first\n"));
      try {
        reply.send(Response::text(200, "second\n"));
        outcome.set_value("no exception");
      } catch (const std::logic_error&) {
        outcome.set_value("logic_error");
      }
    });
  });
  const auto r = roundtrip(s.port(), "GET /twice HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "first\n");
  EXPECT_EQ(outcome.get_future().get(), "logic_error");
}

void add_streamer(Server& srv) {
  srv.get("/stream", [](Request, Reply reply) {
    ResponseStream stream = reply.stream(Response(200).set_header("Content-Type", "text/plain"));
    std::thread([stream]() mutable {
      stream.write("a");
      stream.write("bb");
      stream.write(std::string(100'000, 'c'));
      stream.end();
    }).detach();
  });
}

TEST(Exchange, AStreamIsChunkedForHttp11AndTheConnectionIsKeptAlive) {
  LiveServer s(test_config(), add_streamer);
  Client c(s.port());
  for (int i = 0; i < 2; ++i) {
    c.send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("transfer-encoding"), "chunked");
    EXPECT_FALSE(r->has("content-length"));
    EXPECT_EQ(r->body, "abb" + std::string(100'000, 'c'));
  }
}

TEST(Exchange, AStreamToAnHttp10ClientEndsWithTheConnection) {
  LiveServer s(test_config(), add_streamer);
  Client c(s.port());
  c.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has("transfer-encoding"));
  EXPECT_FALSE(r->has("content-length"));
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(r->body, "abb" + std::string(100'000, 'c'));
}

TEST(Exchange, AHeadRequestOfAStreamGetsTheHeadOnly) {
  LiveServer s(test_config(), add_streamer);
  Client c(s.port());
  c.send("HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto head = c.read_response(5s, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("transfer-encoding"), "chunked");
  c.send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");  // no stray body bytes before this answer
  const auto get = c.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body.size(), 100'003U);
}

TEST(Exchange, AProducerThatWaitsForRoomSendsManyMegabytesIntact) {
  constexpr std::size_t kTotal = std::size_t{8} * 1024 * 1024;
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/big", [](Request, Reply reply) {
      ResponseStream stream = reply.stream(Response(200));
      std::thread([stream]() mutable {
        const std::string all = pattern(kTotal);
        std::size_t sent = 0;
        while (sent < all.size() && !stream.cancelled()) {
          const std::size_t n = std::min<std::size_t>(10'000, all.size() - sent);
          const bool room = stream.write(std::string_view(all).substr(sent, n));
          sent += n;
          EXPECT_LE(stream.buffered(), ResponseStream::kBufferLimit + 10'000);
          if (!room) {
            Signal ready;
            stream.on_ready([&ready] { ready.set(); });
            if (!ready.wait(10s)) return;
          }
        }
        stream.end();
      }).detach();
    });
  });
  const auto r = roundtrip(s.port(), "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->body.size(), kTotal);
  EXPECT_EQ(r->body, pattern(kTotal));
}

TEST(Exchange, AClientThatStopsReadingStopsTheProducerAndItsGoingCancelsIt) {
  Signal full;
  Signal cancelled;
  std::atomic<std::size_t> buffered_at_full{0};
  ResponseStream kept;  // the stream stays open (not ended, not dropped) while the client is there
  LiveServer s(test_config(), [&](Server& srv) {
    srv.get("/flood", [&](Request, Reply reply) {
      ResponseStream stream = reply.stream(Response(200));
      stream.on_cancel([&cancelled] { cancelled.set(); });
      kept = stream;
      std::thread([stream, &full, &buffered_at_full]() mutable {
        // Write until told to wait: the client never reads, so that must come.
        for (int i = 0; i < 100'000; ++i) {
          if (!stream.write(std::string(4096, 'x'))) {
            buffered_at_full = stream.buffered();
            full.set();
            return;
          }
          std::this_thread::yield();
        }
      }).detach();
    });
  });
  {
    Client c(s.port());
    int small = 4096;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    c.send("GET /flood HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(full.wait(10s)) << "the producer was never told to wait";
    EXPECT_LE(buffered_at_full.load(), ResponseStream::kBufferLimit + 4096);
    EXPECT_FALSE(cancelled.wait(50ms));
  }  // the client goes away
  EXPECT_TRUE(cancelled.wait(5s)) << "the producer was not told that the client went away";
}

TEST(Exchange, AnIdleStreamIsCancelledWhenTheClientCloses) {
  Signal started;
  Signal cancelled;
  std::mutex mutex;
  ResponseStream kept;
  LiveServer s(test_config(), [&](Server& srv) {
    srv.get("/idle", [&](Request, Reply reply) {
      ResponseStream stream = reply.stream(Response(200));
      stream.on_cancel([&cancelled] { cancelled.set(); });
      stream.write("hello\n");
      const std::lock_guard lock(mutex);
      kept = stream;
      started.set();
    });
  });
  {
    Client c(s.port());
    c.send("GET /idle HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(started.wait());
  }
  EXPECT_TRUE(cancelled.wait(5s));
  const std::lock_guard lock(mutex);
  EXPECT_TRUE(kept.cancelled());
  EXPECT_FALSE(kept.write("dropped"));
}

TEST(Exchange, AStreamDroppedWithoutEndIsCutShort) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/cut", [](Request, Reply reply) {
      ResponseStream stream = reply.stream(Response(200));
      stream.write("partial");
    });  // the last copy goes here, without end()
  });
  Client c(s.port());
  c.send("GET /cut HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_FALSE(c.read_response(3s));  // no terminating chunk: not a whole response
  EXPECT_TRUE(c.closed_within(3s));
}

void add_uploader(Server& srv, RouteOptions options, std::atomic<int>* concurrent_calls = nullptr) {
  srv.put(
      "/up",
      [concurrent_calls](Request request, Reply reply) {
        struct State {
          std::uint64_t bytes = 0;
          std::uint64_t hash = kFnvBasis;
          std::atomic<int> inside{0};
          bool overlapped = false;
        };
        auto st = std::make_shared<State>();
        request.body_reader().read(
            [st, concurrent_calls](std::string_view chunk) {
              if (st->inside.fetch_add(1) != 0) st->overlapped = true;
              if (concurrent_calls != nullptr) concurrent_calls->fetch_add(1);
              st->bytes += chunk.size();
              st->hash = fnv1a(st->hash, chunk);
              if (st->bytes % 7 == 0) std::this_thread::sleep_for(1ms);  // a slow consumer at times
              st->inside.fetch_sub(1);
            },
            [st, reply](BodyEnd end) mutable {
              if (end != BodyEnd::complete) return;
              reply.send(Response::text(200, std::to_string(st->bytes) + " " + std::to_string(st->hash) +
                                                 (st->overlapped ? " overlapped" : "")));
            });
      },
      options);
}

TEST(Exchange, AStreamedUploadArrivesWholeInOrderWithContentLengthAndChunked) {
  constexpr std::size_t kSize = std::size_t{6} * 1024 * 1024 + 123;
  LiveServer s(test_config(), [](Server& srv) { add_uploader(srv, {.stream_body = true, .max_body = 0}); });
  const std::string body = pattern(kSize);
  const std::string expected = std::to_string(kSize) + " " + std::to_string(fnv1a(kFnvBasis, body));
  {
    Client c(s.port());
    c.send("PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(kSize) + "\r\n\r\n");
    c.send(body);
    const auto r = c.read_response(20s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, expected);
  }
  {
    Client c(s.port());
    c.send("PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (std::size_t at = 0; at < body.size(); at += 100'000) {
      const std::string_view piece = std::string_view(body).substr(at, 100'000);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      c.send(std::string(size) + std::string(piece) + "\r\n");
    }
    c.send("0\r\n\r\n");
    const auto r = c.read_response(20s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, expected);
  }
}

TEST(Exchange, AStreamedUploadOverItsRouteLimitIs413) {
  LiveServer s(test_config(),
               [](Server& srv) { add_uploader(srv, {.stream_body = true, .max_body = 1000}); });
  const auto declared = roundtrip(s.port(), "PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n");
  ASSERT_TRUE(declared);
  EXPECT_EQ(declared->status, 413);
  Client c(s.port());
  c.send("PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + std::string(1000, 'a') +
         "\r\n1\r\nb\r\n0\r\n\r\n");
  const auto chunked = c.read_response();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(Exchange, ABodyAskedForAfterTheClientLeftEndsAbortedAndHoldsNothing) {
  // The reader's callbacks hold the Reply, which holds the exchange: if they were kept where no
  // delivery will ever run them, that cycle would leak (LeakSanitizer fails this test then).
  Signal parked;
  Signal gone;
  std::mutex mutex;
  std::optional<Request> request;
  std::optional<Reply> reply;
  LiveServer s(test_config(), [&](Server& srv) {
    srv.put("/late",
            [&](const Request& r, Reply rep) {
              rep.on_cancel([&gone] { gone.set(); });
              const std::lock_guard lock(mutex);
              request = r;
              reply = std::move(rep);
              parked.set();
            },
            {.stream_body = true, .max_body = 0});
  });
  {
    Client c(s.port());
    c.send("PUT /late HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + std::string(10, 'a'));
    ASSERT_TRUE(parked.wait());
  }
  ASSERT_TRUE(gone.wait());
  std::promise<BodyEnd> ended;
  {
    const std::lock_guard lock(mutex);
    request->body_reader().read([](std::string_view) {},
                                [&ended, r = *reply](BodyEnd end) mutable {
                                  ended.set_value(end);
                                  EXPECT_TRUE(r.cancelled());
                                });
    reply.reset();
    request.reset();
  }
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), BodyEnd::aborted);
}

TEST(Exchange, AnUploadCutShortIsCancelledWhileItsConsumerIsStillBehind) {
  // The handler does not read yet, so the server stops reading (backpressure) once it holds
  // BodyReader::kBufferLimit bytes, with the client's last 16 KiB and its FIN in the socket. The
  // Content-Length can no longer be met: the exchange is cancelled at the hang-up, not after the
  // consumer has caught up.
  Signal parked;
  Signal gone;
  std::mutex mutex;
  std::optional<Request> request;
  std::optional<Reply> reply;
  LiveServer s(test_config(), [&](Server& srv) {
    srv.put("/slow",
            [&](const Request& r, Reply rep) {
              rep.on_cancel([&gone] { gone.set(); });
              const std::lock_guard lock(mutex);
              request = r;
              reply = std::move(rep);
              parked.set();
            },
            {.stream_body = true, .max_body = 0});
  });
  {
    Client c(s.port());
    ASSERT_TRUE(c.send("PUT /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 8388608\r\n\r\n" +
                       std::string(BodyReader::kBufferLimit + std::size_t{16} * 1024, 'u')));
    ASSERT_TRUE(parked.wait());
  }
  EXPECT_TRUE(gone.wait());
  std::promise<BodyEnd> ended;
  {
    const std::lock_guard lock(mutex);
    request->body_reader().read([](std::string_view) {}, [&ended](BodyEnd end) { ended.set_value(end); });
    reply.reset();
    request.reset();
  }
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), BodyEnd::aborted);
}

TEST(Exchange, AnUploadRouteThatAnswersFirstClosesAfterItsAnswer) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.put("/up", [](Request, Reply reply) { reply.send(Response::text(403, "no uploads\n")); },
            {.stream_body = true, .max_body = 0});
  });
  Client c(s.port());
  c.send("PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10000000\r\n\r\n" + std::string(1000, 'a'));
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(Exchange, ABufferedRouteKeepsItsBodyLimitAndRefusesAnUnboundedOne) {
  Config config = test_config();
  LiveServer s(config, [](Server& srv) {
    srv.post("/small", [](const Request& r) { return Response::text(200, std::to_string(r.body().size())); },
             {.max_body = 10});
    EXPECT_THROW(srv.post("/unbounded", [](const Request&) { return Response(); }, {.max_body = 0}),
                 std::invalid_argument);
  });
  const auto ok =
      roundtrip(s.port(), "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "10");
  const auto big =
      roundtrip(s.port(), "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n0123456789a");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

TEST(Exchange, ABufferedBodyReadsThroughTheSameReader) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.post("/echo", [](Request request, Reply reply) {
      auto got = std::make_shared<std::string>();
      request.body_reader().read([got](std::string_view chunk) { got->append(chunk); },
                                 [got, reply](BodyEnd) mutable { reply.send(Response::text(200, *got)); });
    });
  });
  const auto r = roundtrip(s.port(), "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
}

TEST(Exchange, DrainFinishesAStreamThatEndsInTime) {
  Config config = test_config();
  config.shutdown_timeout = 5s;
  TimerQueue timers;
  Signal started;
  auto s = std::make_unique<LiveServer>(config, [&](Server& srv) {
    srv.get("/slow", [&](Request, Reply reply) {
      EventStream events = EventStream::start(reply);
      events.send("1");
      started.set();
      timers.after(300ms, [events]() mutable {
        events.send("2");
        events.end();
      });
    });
  });
  Client c(s->port());
  c.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(started.wait());
  s->server().stop();
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "data: 1\n\ndata: 2\n\n");
  EXPECT_TRUE(c.closed_within(5s));  // the head went out before the drain; the close follows the end
  EXPECT_TRUE(s->wait_stopped());
}

TEST(EventStreamFormat, WritesEachFieldAndSplitsDataLines) {
  EXPECT_EQ(EventStream::format({.data = "hi"}), "data: hi\n\n");
  EXPECT_EQ(
      EventStream::format(
          {.data = "a\nb\r\nc\rd", .event = "tick", .id = "7", .retry = std::chrono::milliseconds(1500)}),
      "event: tick\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(EventStream::format({}), "data: \n\n");
  EXPECT_THROW((void)EventStream::format({.data = "x", .event = "a\nb"}), std::invalid_argument);
  EXPECT_THROW((void)EventStream::format({.data = "x", .id = std::string_view("a\0b", 3)}),
               std::invalid_argument);
}

}  // namespace
}  // namespace weft::test
