// tls::TlsStream on a real loopback TCP connection, against an OpenSSL client driven in the
// same thread: both write modes (memory BIO; direct, through OpenSSL's socket BIO as set up for
// kTLS) keep the stream's contract when the socket is full (everything written arrives, in
// order, with the close_notify last), and where the kernel has kTLS, files leave by
// SSL_sendfile and arrive byte for byte.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/deadline.hpp"
#include "support/fd.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_client.hpp"
#include "tls/ktls.hpp"
#include "tls/server_context.hpp"
#include "tls/ticket_keys.hpp"
#include "tls/tls_stream.hpp"

namespace weft::test {
namespace {

using tls::TlsStream;

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(generator() & 0xFFU);
  return data;
}

// A connected loopback TCP pair, both ends non-blocking (kTLS needs TCP: no socketpair).
struct TcpPair {
  Fd server;
  Fd client;
};

TcpPair tcp_pair(int client_receive_buffer) {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener.get() < 0 || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("listen on loopback failed");
  }
  TcpPair pair;
  pair.client = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (client_receive_buffer > 0) {
    ::setsockopt(pair.client.get(), SOL_SOCKET, SO_RCVBUF, &client_receive_buffer,
                 sizeof client_receive_buffer);
  }
  if (::connect(pair.client.get(), reinterpret_cast<sockaddr*>(&address), length) != 0)
    throw std::runtime_error("connect on loopback failed");
  pair.server = Fd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (pair.server.get() < 0) throw std::runtime_error("accept failed");
  ::fcntl(pair.client.get(), F_SETFL, ::fcntl(pair.client.get(), F_GETFL) | O_NONBLOCK);
  return pair;
}

void wait_for_either(int a, int b) {
  std::array<pollfd, 2> fds{pollfd{a, POLLIN | POLLOUT, 0}, pollfd{b, POLLIN | POLLOUT, 0}};
  ::poll(fds.data(), fds.size(), 10);
}

struct SslCtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};

// The server's stream and an OpenSSL client on one connection, handshake done.
class Connected {
 public:
  Connected(bool direct, const std::string& tls_version, int client_receive_buffer = 0) {
    if (direct) {
      ::setenv(std::string(tls::kTestKtlsSetupVariable).c_str(), "1", 1);
    } else {
      ::unsetenv(std::string(tls::kTestKtlsSetupVariable).c_str());
    }
    TlsConfig config;
    config.certificates.push_back({tls_certs().ecdsa.cert, tls_certs().ecdsa.key, {}, {}});
    config.ktls = direct;
    context_ = std::make_shared<const tls::ServerContext>(
        config, std::make_shared<tls::TicketKeys>(std::chrono::seconds(3600)),
        std::vector<std::string>{"http/1.1"});
    pair_ = tcp_pair(client_receive_buffer);
    stream_ = std::make_unique<TlsStream>(context_, pair_.server.get());
    client_ctx_.reset(SSL_CTX_new(TLS_client_method()));
    const int version = tls_version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(client_ctx_.get(), version);
    SSL_CTX_set_max_proto_version(client_ctx_.get(), version);
    client_.reset(SSL_new(client_ctx_.get()));
    SSL_set_fd(client_.get(), pair_.client.get());
    SSL_set_connect_state(client_.get());
    bool client_done = false;
    bool server_done = false;
    const auto deadline = Clock::now() + 5s;
    while (!(client_done && server_done) && Clock::now() < deadline) {
      if (!client_done) {
        const int r = SSL_do_handshake(client_.get());
        const int error = SSL_get_error(client_.get(), r);
        if (r != 1 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
          throw std::runtime_error("client handshake failed");
        client_done = r == 1;
      }
      if (!server_done) {
        const TlsStream::Handshake h = stream_->handshake();
        if (h == TlsStream::Handshake::kFailed || h == TlsStream::Handshake::kNotTls)
          throw std::runtime_error("server handshake failed: " + stream_->failure());
        server_done = h == TlsStream::Handshake::kDone;
      }
      if (!(client_done && server_done)) wait_for_either(pair_.server.get(), pair_.client.get());
    }
    if (!(client_done && server_done)) throw std::runtime_error("handshake timed out");
    ERR_clear_error();
  }
  ~Connected() { ::unsetenv(std::string(tls::kTestKtlsSetupVariable).c_str()); }
  Connected(const Connected&) = delete;
  Connected& operator=(const Connected&) = delete;

  TlsStream& stream() { return *stream_; }
  /// Reads what the client can decrypt now; false once the server's close_notify came (or the
  /// connection failed: then `failed` is set).
  bool client_read(std::string& into, bool& failed) {
    std::array<char, 65536> buffer{};
    for (;;) {
      std::size_t got = 0;
      const int r = SSL_read_ex(client_.get(), buffer.data(), buffer.size(), &got);
      if (r == 1) {
        into.append(buffer.data(), got);
        continue;
      }
      const int error = SSL_get_error(client_.get(), r);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return true;
      failed = error != SSL_ERROR_ZERO_RETURN;
      ERR_clear_error();
      return false;
    }
  }
  void wait() { wait_for_either(pair_.server.get(), pair_.client.get()); }
  [[nodiscard]] int server_fd() const { return pair_.server.get(); }

 private:
  std::shared_ptr<const tls::ServerContext> context_;
  TcpPair pair_;
  std::unique_ptr<TlsStream> stream_;
  std::unique_ptr<SSL_CTX, SslCtxFree> client_ctx_;
  std::unique_ptr<SSL, SslFree> client_;
};

struct Mode {
  bool direct;
  const char* version;
};

// For gtest's messages: "direct TLS 1.3".
void PrintTo(const Mode& mode, std::ostream* out) {
  *out << (mode.direct ? "direct" : "memory") << " TLS " << mode.version;
}

class TlsStreamModes : public ::testing::TestWithParam<Mode> {};

TEST_P(TlsStreamModes, AFullSocketLosesNothingAndTheCloseNotifyComesLast) {
  // A small send buffer and a client that does not read at first: OpenSSL meets a full socket
  // in the middle of a record (direct mode: its "retry with the same arguments" state).
  Connected c(GetParam().direct, GetParam().version, 8192);
  const int small = 8192;
  ASSERT_EQ(::setsockopt(c.server_fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  TlsStream& stream = c.stream();
  EXPECT_EQ(stream.direct(), GetParam().direct);
  EXPECT_EQ(stream.kernel_sends(), GetParam().direct && tls::kernel_has_ktls());

  const std::string data = random_bytes((std::size_t{2} << 20) + 5, 7);
  constexpr std::size_t kPiece = 40000;  // not a multiple of a record
  std::size_t queued = 0;
  bool saw_blocked = false;
  // The first half while the client sleeps, then a quarter of queued writes behind the blocked one.
  while (queued < data.size() / 2) {
    const std::size_t n = std::min(kPiece, data.size() - queued);
    ASSERT_TRUE(stream.write(std::string_view(data).substr(queued, n)));
    queued += n;
    if (stream.unsent() > 0) {
      const TlsStream::Send s = stream.send(true);
      ASSERT_NE(s, TlsStream::Send::kError);
      saw_blocked = saw_blocked || s == TlsStream::Send::kBlocked;
    }
  }
  EXPECT_TRUE(saw_blocked) << "the socket never filled: the test proves nothing";
  EXPECT_GT(stream.unsent(), 0U);

  std::string received;
  bool failed = false;
  bool closed = false;
  bool close_queued = false;
  const auto deadline = Clock::now() + 20s;
  while (!closed && Clock::now() < deadline) {
    closed = !c.client_read(received, failed);
    if (queued < data.size()) {
      const std::size_t n = std::min(kPiece, data.size() - queued);
      ASSERT_TRUE(stream.write(std::string_view(data).substr(queued, n)));
      queued += n;
    } else if (!close_queued) {
      stream.queue_close_notify();  // behind everything written
      close_queued = true;
    }
    if (stream.unsent() > 0) {
      ASSERT_NE(stream.send(false), TlsStream::Send::kError);
    } else {
      c.wait();
    }
  }
  ASSERT_TRUE(closed) << "no close_notify within the deadline; received " << received.size();
  EXPECT_FALSE(failed) << "the connection broke instead of closing";
  EXPECT_EQ(stream.unsent(), 0U);
  ASSERT_EQ(received.size(), data.size());
  EXPECT_EQ(sha256_hex(received), sha256_hex(data));
}

INSTANTIATE_TEST_SUITE_P(Both, TlsStreamModes,
                         ::testing::Values(Mode{false, "1.3"}, Mode{false, "1.2"}, Mode{true, "1.3"},
                                           Mode{true, "1.2"}),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                           return std::string(p.param.direct ? "Direct" : "Memory") + "Tls" +
                                  (p.param.version[2] == '3' ? "13" : "12");
                         });

TEST(TlsKtlsMode, TheConfigurationAndTheKernelDecide) {
  const std::string variable(tls::kTestKtlsSetupVariable);
  TlsConfig config;
  config.ktls = false;
  ::setenv(variable.c_str(), "1", 1);
  EXPECT_EQ(tls::ktls_mode(config), tls::KtlsMode::kOff) << "--no-ktls wins over the test switch";
  config.ktls = true;
  const bool kernel = tls::kernel_has_ktls();
  EXPECT_EQ(tls::ktls_mode(config), kernel ? tls::KtlsMode::kSendfile : tls::KtlsMode::kTestDirect);
  ::unsetenv(variable.c_str());
  EXPECT_EQ(tls::ktls_mode(config), kernel ? tls::KtlsMode::kSendfile : tls::KtlsMode::kNoKernel);
  EXPECT_TRUE(tls::writes_direct(tls::KtlsMode::kSendfile));
  EXPECT_TRUE(tls::writes_direct(tls::KtlsMode::kTestDirect));
  EXPECT_FALSE(tls::writes_direct(tls::KtlsMode::kNoKernel));
  EXPECT_FALSE(tls::writes_direct(tls::KtlsMode::kOff));
}

// Only where the kernel has the TLS ULP: the keys reach the kernel and a file range leaves by
// SSL_sendfile, after bytes written by SSL_write, all in order.
TEST(TlsKernel, FileRangesLeaveBySslSendfileByteForByte) {
  if (!tls::kernel_has_ktls())
    GTEST_SKIP() << "kernel has no TLS ULP: /proc/sys/net/ipv4/tcp_available_ulp lacks tls";
  for (const char* version : {"1.3", "1.2"}) {
    SCOPED_TRACE(version);
    Connected c(true, version);
    TlsStream& stream = c.stream();
    ASSERT_TRUE(stream.kernel_sends()) << "BIO_get_ktls_send is off after the handshake";
    const std::string file_data = random_bytes((std::size_t{5} << 20) + 3, 11);
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("weft-ktls-" + std::to_string(::getpid()) + ".bin");
    std::ofstream(path, std::ios::binary)
        .write(file_data.data(), static_cast<std::streamsize>(file_data.size()));
    const Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::filesystem::remove(path);
    ASSERT_GE(file.get(), 0);

    const std::string head = "head before the file\n";
    ASSERT_TRUE(stream.write(head));
    std::string expected = head;
    std::string received;
    bool failed = false;
    const auto deadline = Clock::now() + 20s;
    // The whole file, then a range from the middle.
    for (const auto& [offset, length] : {std::pair<std::size_t, std::size_t>{0, file_data.size()},
                                         std::pair<std::size_t, std::size_t>{1234567, 777777}}) {
      expected += file_data.substr(offset, length);
      std::size_t sent = 0;
      while (sent < length && Clock::now() < deadline) {
        if (stream.unsent() > 0) {
          ASSERT_NE(stream.send(false), TlsStream::Send::kError);
        } else {
          const long n = stream.send_file(file.get(), offset + sent, length - sent);
          ASSERT_NE(n, 0) << "the file ended early";
          ASSERT_NE(n, TlsStream::kFileError);
          if (n > 0) sent += static_cast<std::size_t>(n);
        }
        ASSERT_TRUE(c.client_read(received, failed));
        c.wait();
      }
      ASSERT_EQ(sent, length);
    }
    stream.queue_close_notify();
    bool open = true;
    while (open && Clock::now() < deadline) {
      if (stream.unsent() > 0) {
        ASSERT_NE(stream.send(false), TlsStream::Send::kError);
      }
      open = c.client_read(received, failed);
      if (open) c.wait();
    }
    EXPECT_FALSE(open);
    EXPECT_FALSE(failed);
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_EQ(sha256_hex(received), sha256_hex(expected));
  }
}

}  // namespace
}  // namespace weft::test
