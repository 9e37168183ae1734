// HTTP/1.1 over weft's TLS: static files byte for byte (sizes around the 16 KiB TLS record),
// ranges, keep-alive and pipelining, uploads and streams; the clients that misbehave (a reader
// that never reads, half a ClientHello, silence, garbage, cleartext HTTP on the TLS port); the
// redirect listener and HSTS.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integration/static/static_fixture.hpp"
#include "integration/tls/tls_fixture.hpp"
#include "support/clean_exit.hpp"

namespace weft::test {
namespace {

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(generator() & 0xFFU);
  return data;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string lowercase(std::string text) {
  for (char& c : text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return text;
}

bool established(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0 && info.tcpi_state == TCP_ESTABLISHED;
}

// Sizes around one TLS record (16384 bytes of plaintext), and more than the 256 KiB that weft
// writes per connection per loop turn.
const std::vector<std::size_t> kSizes = {0, 1, 16383, 16384, 16385, (std::size_t{1} << 20) + 7};

std::string file_name(std::size_t size) { return "f" + std::to_string(size) + ".bin"; }

class TlsStatic : public ::testing::Test {
 protected:
  void SetUp() override {
    unsigned seed = 1;
    for (const std::size_t size : kSizes) {
      files_.push_back(random_bytes(size, seed++));
      tree_.write(file_name(size), files_.back());
    }
  }
  StaticTree tree_;
  std::vector<std::string> files_;
};

TEST_F(TlsStatic, FilesArriveByteForByteOnFreshConnections) {
  WeftServer weft(https_args({tree_.root_arg()}));
  for (std::size_t i = 0; i < kSizes.size(); ++i) {
    SCOPED_TRACE(file_name(kSizes[i]));
    for (const char* version : {"1.2", "1.3"}) {
      TlsOptions options = trusting();
      options.min_version = options.max_version = version;
      const auto response = tls_request(weft.port(), options, "GET", "/" + file_name(kSizes[i]));
      ASSERT_TRUE(response) << version;
      EXPECT_EQ(response->status, 200);
      EXPECT_EQ(response->header("Content-Length"), std::to_string(kSizes[i]));
      EXPECT_EQ(response->body.size(), kSizes[i]) << version;
      EXPECT_EQ(sha256_hex(response->body), sha256_hex(files_[i])) << version;
    }
  }
  expect_clean_exit(weft.process());
}

TEST_F(TlsStatic, FilesArriveByteForByteOnOneKeptAliveConnection) {
  WeftServer weft(https_args({tree_.root_arg()}));
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < kSizes.size(); ++i) {
      SCOPED_TRACE(file_name(kSizes[i]));
      ASSERT_TRUE(client.send(make_request("GET", "/" + file_name(kSizes[i]))));
      const auto response = client.read_response(10s);
      ASSERT_TRUE(response) << client.last_error();
      EXPECT_EQ(response->status, 200);
      EXPECT_EQ(sha256_hex(response->body), sha256_hex(files_[i]));
    }
  }
  // HEAD: the length, no body, and the connection goes on.
  ASSERT_TRUE(client.send(make_request("HEAD", "/" + file_name(kSizes.back()))));
  const auto head = client.read_response(5s, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(kSizes.back()));
  ASSERT_TRUE(client.send(make_request("GET", "/" + file_name(1))));
  const auto after = client.read_response();
  ASSERT_TRUE(after) << "the HEAD left bytes behind";
  EXPECT_EQ(after->body, files_[1]);
}

TEST_F(TlsStatic, RangesAreByteExact) {
  WeftServer weft(https_args({tree_.root_arg()}));
  const std::string& big = files_.back();
  const std::string target = "/" + file_name(kSizes.back());
  const std::string total = "/" + std::to_string(big.size());
  struct Case {
    std::string range;
    std::size_t first;
    std::size_t last;
  };
  const std::vector<Case> cases = {{"bytes=0-0", 0, 0},
                                   {"bytes=16380-16390", 16380, 16390},
                                   {"bytes=16384-32767", 16384, 32767},
                                   {"bytes=-7", big.size() - 7, big.size() - 1},
                                   {"bytes=1048576-", 1048576, big.size() - 1},
                                   {"bytes=1-1048580", 1, 1048580}};
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.range);
    ASSERT_TRUE(client.send(make_request("GET", target, {"Range: " + c.range})));
    const auto response = client.read_response(10s);
    ASSERT_TRUE(response) << client.last_error();
    EXPECT_EQ(response->status, 206);
    EXPECT_EQ(response->header("Content-Range"),
              "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + total);
    EXPECT_EQ(sha256_hex(response->body), sha256_hex(big.substr(c.first, c.last - c.first + 1)));
  }
  // Two ranges: multipart/byteranges with both parts intact.
  ASSERT_TRUE(client.send(make_request("GET", target, {"Range: bytes=0-99,20000-20099"})));
  const auto multi = client.read_response(10s);
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->status, 206);
  EXPECT_TRUE(contains(multi->header("Content-Type").value_or(""), "multipart/byteranges"));
  EXPECT_TRUE(contains(multi->body, big.substr(0, 100)));
  EXPECT_TRUE(contains(multi->body, big.substr(20000, 100)));
  EXPECT_TRUE(contains(multi->body, "Content-Range: bytes 20000-20099" + total));
}

TEST_F(TlsStatic, PipelinedRequestsInOneRecordAreAnsweredInOrder) {
  for (int i = 0; i < 10; ++i)
    tree_.write("p" + std::to_string(i) + ".txt", "pipelined " + std::to_string(i));
  WeftServer weft(https_args({tree_.root_arg()}));
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  std::string batch;
  for (int i = 0; i < 10; ++i) batch += make_request("GET", "/p" + std::to_string(i) + ".txt");
  batch += make_request("GET", "/" + file_name(16385), {"Connection: close"});
  ASSERT_TRUE(client.send(batch));  // one SSL_write: one TLS record
  for (int i = 0; i < 10; ++i) {
    const auto response = client.read_response();
    ASSERT_TRUE(response) << "response " << i << ": " << client.last_error();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "pipelined " + std::to_string(i));
  }
  const auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, files_[4]);
  EXPECT_TRUE(last->connection_has("close"));
  EXPECT_TRUE(client.closed_within(3s)) << "not closed after Connection: close";
}

TEST_F(TlsStatic, ConcurrentClientsOnBothLoopsGetIntactFiles) {
  tree_.write("mid.bin", random_bytes(100 * 1024 + 3, 99));
  const std::string expected = sha256_hex(random_bytes(100 * 1024 + 3, 99));
  WeftServer weft(https_args({tree_.root_arg()}));
  std::atomic<int> good{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      TlsOptions options = trusting();
      if (t % 2 == 1) options.max_version = "1.2";
      TlsClient client(weft.port(), options);
      for (int i = 0; i < 15; ++i) {
        if (!client.ok() || !client.send(make_request("GET", "/mid.bin"))) {
          ++bad;
          return;
        }
        const auto response = client.read_response(10s);
        (response && response->status == 200 && sha256_hex(response->body) == expected) ? ++good : ++bad;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(good.load(), 6 * 15);
  expect_clean_exit(weft.process());
}

TEST(TlsHttp, KeepAliveServes100RequestsOnOneConnection) {
  WeftServer weft(https_args());
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(client.send(make_request("GET", i % 2 == 0 ? "/" : "/nothing-here"))) << "request " << i;
    const auto response = client.read_response();
    ASSERT_TRUE(response) << "request " << i << ": " << client.last_error();
    EXPECT_EQ(response->status, i % 2 == 0 ? 200 : 404);
    EXPECT_FALSE(response->connection_has("close")) << "request " << i;
  }
}

TEST(TlsHttp, AnUploadOverTlsArrivesWhole) {
  WeftServer weft(https_args());
  const std::string body = random_bytes(3 * 1024 * 1024 + 11, 5);
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  ASSERT_TRUE(
      client.send(make_request("PUT", "/upload", {"Content-Length: " + std::to_string(body.size())}) + body));
  const auto response = client.read_response(20s);
  ASSERT_TRUE(response) << client.last_error();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(contains(response->body, sha256_hex(body))) << response->body;
  EXPECT_TRUE(contains(response->body, std::to_string(body.size()))) << response->body;
}

TEST(TlsHttp, ServerSentEventsStreamOverTls) {
  WeftServer weft(https_args());
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  ASSERT_TRUE(client.send(make_request("GET", "/events?n=3&ms=20")));
  const auto response = client.read_response(5s);
  ASSERT_TRUE(response) << client.last_error();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(contains(response->body, "data: 1\n")) << response->body;
  EXPECT_TRUE(contains(response->body, "data: 3\n")) << response->body;
}

// ---------------------------------------------------------------- misbehaving clients

TEST(TlsClients, AReaderThatNeverReadsIsClosedByTheWriteTimer) {
  StaticTree tree;
  tree.write("big.bin", random_bytes(std::size_t{32} << 20, 3));  // more than both sides' buffers hold
  tree.write("index.html", "<p>index</p>");
  WeftServer weft(https_args({"--write-timeout", "1", "--keepalive-timeout", "30", tree.root_arg()}));
  TlsClient slow(weft.port(), trusting());
  ASSERT_TRUE(slow.ok()) << slow.handshake().error;
  ASSERT_TRUE(slow.send(make_request("GET", "/big.bin")));
  const auto requested = Clock::now();
  // Meanwhile another client is served at once.
  const auto other = tls_request(weft.port(), trusting(), "GET", "/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_LT(Clock::now() - requested, 1s);
  const bool closed = wait_for([&] { return !established(slow.fd()); }, 8s);
  const auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - requested);
  EXPECT_TRUE(closed) << "the stalled reader is still connected " << after.count() << " ms after its request";
  EXPECT_GE(after, 900ms) << "closed before the write timeout";
  expect_clean_exit(weft.process());
}

TEST(TlsClients, HalfAClientHelloIsClosedByTheHeaderTimeoutAndOthersAreServed) {
  WeftServer weft(https_args({"--header-timeout", "1"}));
  const std::string hello = client_hello_bytes(trusting());
  Client half(weft.port());
  ASSERT_TRUE(half.send(hello.substr(0, hello.size() / 2)));
  const auto sent = Clock::now();
  for (int i = 0; i < 3; ++i) {
    const auto response = tls_request(weft.port(), trusting(), "GET", "/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_LT(Clock::now() - sent, 900ms) << "others waited behind the half handshake";
  const auto closed = half.read_until_close(5s);
  const auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - sent);
  EXPECT_TRUE(closed.has_value()) << "still open " << after.count() << " ms later";
  EXPECT_GE(after, 900ms) << "closed before the header timeout";
  expect_clean_exit(weft.process());
}

TEST(TlsClients, ASilentClientIsClosedByTheHeaderTimeout) {
  WeftServer weft(https_args({"--header-timeout", "1"}));
  Client silent(weft.port());
  const auto start = Clock::now();
  const auto closed = silent.read_until_close(5s);
  const auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_TRUE(closed.has_value()) << "still open " << after.count() << " ms later";
  EXPECT_GE(after, 900ms) << "closed before the header timeout";
}

TEST(TlsClients, GarbageIsClosedAndAClientAlreadyConnectedGoesOn) {
  WeftServer weft(https_args());
  TlsClient good(weft.port(), trusting());
  ASSERT_TRUE(good.ok()) << good.handshake().error;
  // Not a TLS record at all; a handshake record holding noise; an alert record out of the blue.
  std::string noise = random_bytes(200, 11);
  noise[0] = '\x00';
  std::string record = "\x16\x03\x01";
  record += static_cast<char>(0);
  record += static_cast<char>(200);
  record += random_bytes(200, 12);
  const std::vector<std::string> garbage = {noise, record, std::string("\x15\x03\x03\x00\x02\x02\x28", 7)};
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    SCOPED_TRACE("garbage " + std::to_string(i));
    Client bad(weft.port());
    bad.send(garbage[i]);
    EXPECT_TRUE(bad.read_until_close(3s).has_value()) << "not closed within 3 s";
    ASSERT_TRUE(good.send(make_request("GET", "/")));
    const auto response = good.read_response();
    ASSERT_TRUE(response) << good.last_error();
    EXPECT_EQ(response->status, 200);
  }
  const auto fresh = tls_request(weft.port(), trusting(), "GET", "/");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200);
  expect_clean_exit(weft.process());
}

TEST(TlsClients, CleartextHttpOnTheTlsPortGetsA400SayingHttps) {
  WeftServer weft(https_args());
  Client plain(weft.port());
  ASSERT_TRUE(plain.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const auto response = plain.read_response();
  ASSERT_TRUE(response) << "no plain-text answer; received: " << plain.pending();
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(contains(lowercase(response->body), "https")) << response->body;
  EXPECT_TRUE(plain.closed_within(3s)) << "not closed after the 400";
  // The port still speaks TLS to the next client.
  const auto tls = tls_request(weft.port(), trusting(), "GET", "/");
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->status, 200);
}

// ---------------------------------------------------------------- redirect listener, HSTS

TEST(TlsRedirect, TheCleartextListenerAnswers308ToTheSamePathOverHttps) {
  WeftServer weft(https_args({"--http-redirect", "0"}));
  std::string line;
  const auto port = redirect_port(weft, &line);
  ASSERT_TRUE(port) << "second line: " << line;
  const std::string https = "https://localhost:" + std::to_string(weft.port());
  for (const char* method : {"GET", "HEAD", "POST"}) {
    SCOPED_TRACE(method);
    Client client(*port);
    const std::string body = std::string(method) == "POST" ? "x=1" : "";
    client.send(
        std::string(method) + " /some/path.html HTTP/1.1\r\nHost: localhost:" + std::to_string(*port) +
        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    const auto response = client.read_response(5s, std::string(method) == "HEAD");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 308);
    EXPECT_EQ(response->header("Location"), https + "/some/path.html");
    EXPECT_FALSE(response->has("Strict-Transport-Security")) << "HSTS over cleartext";
  }
  // And following it works.
  const auto followed = tls_request(weft.port(), trusting(), "GET", "/");
  ASSERT_TRUE(followed);
  EXPECT_EQ(followed->status, 200);
  expect_clean_exit(weft.process());
}

TEST(TlsRedirect, TheQueryAndTheHostNameAreKept) {
  WeftServer weft(https_args({"--http-redirect", "0"}));
  const auto port = redirect_port(weft);
  ASSERT_TRUE(port);
  const auto response =
      roundtrip(*port, "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 308);
  EXPECT_EQ(response->header("Location"),
            "https://www.example.test:" + std::to_string(weft.port()) + "/a/b?x=1&y=%20");
}

TEST(TlsHsts, HttpsAnswersCarryTheHeaderWhenAsked) {
  WeftServer weft(https_args({"--hsts", "31536000"}));
  for (const char* target : {"/", "/no-such-page"}) {
    SCOPED_TRACE(target);
    const auto response = tls_request(weft.port(), trusting(), "GET", target);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->header("Strict-Transport-Security"), "max-age=31536000");
  }
  WeftServer without(https_args());
  const auto response = tls_request(without.port(), trusting(), "GET", "/");
  ASSERT_TRUE(response);
  EXPECT_FALSE(response->has("Strict-Transport-Security"));
}

TEST(TlsHsts, StaticFilesCarryTheHeaderToo) {
  StaticTree tree;
  tree.write("index.html", "<p>index</p>");
  WeftServer weft(https_args({"--hsts", "600", tree.root_arg()}));
  for (const char* target : {"/", "/index.html", "/missing"}) {
    SCOPED_TRACE(target);
    const auto response = tls_request(weft.port(), trusting(), "GET", target);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->header("Strict-Transport-Security"), "max-age=600");
  }
}

}  // namespace
}  // namespace weft::test
