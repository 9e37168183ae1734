// tls_load: the HTTPS load client of bench/compare's TLS rows (bench/README.md, "TLS rows").
//
// Why not wrk or h2load: both keep a connection's SSL object (or its session) across reconnects,
// so a `Connection: close` run over TLS resumes every handshake after the first and measures
// resumption, and neither says how many handshakes were full and how many resumed. Here every
// connection gets a fresh SSL object, the mode decides whether it offers a session, and each
// handshake is counted by what really happened (SSL_session_reused).
//
//   tls_load --port P --mode MODE [--path /hello.html] [--connections N] [--seconds S]
//
// Modes (one request in flight per connection, as wrk -c N does):
//   keepalive  N connections, one handshake each, then requests back to back until the deadline
//              (an answer with Connection: close ends its connection and another is opened, as
//              wrk does: `reconnects` counts them, each with its full handshake)
//   full       N concurrent slots, each: connect, full handshake (no session offered), one request
//              with Connection: close, read the answer, close; again until the deadline
//   resume     the same, but one first connection does a full handshake and every later one offers
//              that first session. The first ticket is reused on purpose: h2o and lighttpd issue no
//              new ticket after a resumed TLS 1.3 handshake, so chaining the newest ticket would
//              fall back to full handshakes on them. The servers' tickets are stateless and no
//              early data is sent, so a ticket may be offered again and again.
//   idle       N connections, a handshake and one request each (at most 64 under way at once),
//              then held open; prints a "ready" line and waits for a line on stdin (the caller reads
//              the server's memory meanwhile), then sends a second request on every connection and
//              counts the answers
//   probe      one connection offering TLS 1.2 and 1.3, AES-128 first and a P-256 key share first:
//              shows what the server itself picks
// Every other connection offers only TLS 1.3, TLS_AES_256_GCM_SHA384 and X25519, and every
// handshake is checked to have negotiated exactly that (`mismatched` counts the others).
// The result is one line of key=value pairs on stdout (two in idle mode), parsed by bench/compare;
// `first_error` names what failed first (connect, handshake, read, eof, reset, close_notify,
// timeout, status, ...). A run keeps going past errors: the counts say what happened.
// Peer certificates are not verified (the server's CertificateVerify signature still is, by
// OpenSSL): verification would cost the client, not the servers measured.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

enum class Mode { keepalive, full, resume, idle, probe };

constexpr std::string_view kVersion = "TLSv1.3";
constexpr std::string_view kCipher = "TLS_AES_256_GCM_SHA384";
constexpr std::string_view kGroup = "X25519";
constexpr double kTimeout = 10.0;          // a connection without progress for this long is an error
constexpr std::size_t kIdleInFlight = 64;  // idle mode: handshakes under way at once

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

enum class State { closed, connecting, handshaking, writing, reading, idle };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  State state = State::closed;
  std::uint32_t events = 0;  // the epoll interest set now, to skip epoll_ctl calls that change nothing
  double started = 0;        // of the request; in the closing modes, of the connection
  double progress = 0;       // last time anything happened (timeouts)
  std::string head;          // the answer's head so far
  bool in_body = false;
  std::size_t body_left = 0;
  bool ok = false;     // status 200
  bool close = false;  // the answer said Connection: close
};

class Load {
 public:
  Load(Mode mode, std::uint16_t port, std::string path, std::size_t connections, double seconds)
      : mode_(mode), port_(port), connections_(connections), seconds_(seconds), slots_(connections) {
    request_ = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n";
    if (mode == Mode::full || mode == Mode::resume) request_ += "Connection: close\r\n";
    request_ += "\r\n";
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    // No client-side session cache: a connection resumes only when this program offers a session.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    if (mode == Mode::probe) {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
      SSL_CTX_set_ciphersuites(ctx_,
                               "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
      SSL_CTX_set1_groups_list(ctx_, "P-256:X25519");
    } else {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
      SSL_CTX_set_ciphersuites(ctx_, std::string(kCipher).c_str());
      SSL_CTX_set1_groups_list(ctx_, std::string(kGroup).c_str());
    }
    epfd_ = epoll_create1(0);
  }

  ~Load() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].state != State::closed) close_slot(i);
    }
    SSL_SESSION_free(session_);
    SSL_CTX_free(ctx_);
    close(epfd_);
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  int run() {
    const double start = now();
    deadline_ = start + seconds_;
    // resume: one connection first, whose session all later ones offer.
    std::size_t first = mode_ == Mode::resume || mode_ == Mode::probe ? 1 : connections_;
    if (mode_ == Mode::idle) first = std::min(connections_, kIdleInFlight);
    for (std::size_t i = 0; i < first; ++i) open(i);
    loop([this] { return open_ == 0 || (mode_ == Mode::idle && opened_ == connections_ && busy_ == 0); });
    if (mode_ == Mode::idle) return idle_second_half();
    const double elapsed = now() - start;
    std::printf(
        "requests=%llu errors=%llu full=%llu resumed=%llu mismatched=%llu seconds=%.3f rps=%.0f p99_ms=%.3f "
        "reconnects=%llu params=%s first_error=%s\n",
        requests_, errors_, full_, resumed_, mismatched_, elapsed, static_cast<double>(requests_) / elapsed,
        p99_ms(), reconnects_, params_.empty() ? "-" : params_.c_str(), first_error_);
    return 0;
  }

 private:
  // Runs the event loop until done() or a stall: connections that make no progress time out.
  template <typename Done>
  void loop(Done done) {
    std::vector<epoll_event> events(256);
    double last_scan = now();
    while (!done()) {
      const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 50);
      for (int k = 0; k < n; ++k) {
        const auto i = static_cast<std::size_t>(events[static_cast<std::size_t>(k)].data.u64);
        if (slots_[i].state == State::idle) {
          fail(i, "idle-closed");  // by the server, or reset
        } else if (slots_[i].state != State::closed) {
          drive(i);
        }
      }
      const double t = now();
      if (t - last_scan > 0.5) {
        last_scan = t;
        for (std::size_t i = 0; i < slots_.size(); ++i) {
          const State s = slots_[i].state;
          if (s != State::closed && s != State::idle && t - slots_[i].progress > kTimeout) fail(i, "timeout");
        }
      }
    }
  }

  void open(std::size_t i) {
    Conn& c = slots_[i];
    c = Conn{};
    c.started = c.progress = now();
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      count_error("socket");
      return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as wrk does
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c.ssl = SSL_new(ctx_);
    SSL_set_fd(c.ssl, c.fd);
    // SNI, as a browser sends (SSL_set_tlsext_host_name is this call behind a C cast).
    SSL_ctrl(c.ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni_);
    if (mode_ == Mode::resume && session_ != nullptr) SSL_set_session(c.ssl, session_);
    c.state = State::connecting;
    ++open_;
    ++opened_;
    ++busy_;
    epoll_event ev{};
    ev.events = c.events = EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
      // Refused at once (no server): the slot stays closed; reopening here would recurse.
      count_error("connect");
      close_slot(i);
    }
  }

  void close_slot(std::size_t i) {
    Conn& c = slots_[i];
    if (c.state != State::idle) --busy_;
    // SSL_free of a connection that was not shut down marks its session not resumable, and a
    // resumed connection shares the SSL_SESSION it was given (until a new ticket replaces it):
    // without this one failed or closed connection would end every later resumption. No
    // close_notify is sent: in the closing modes the server closes first.
    SSL_set_shutdown(c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c.ssl);  // never SSL_clear: it would keep the session for the next handshake
    close(c.fd);
    c.ssl = nullptr;
    c.fd = -1;
    c.state = State::closed;
    --open_;
  }

  void count_error(const char* why) {
    if (errors_++ == 0) first_error_ = why;
  }

  void fail(std::size_t i, const char* why) {
    count_error(why);
    ERR_clear_error();
    close_slot(i);
    next(i);
  }

  // What a slot does after its connection ended.
  void next(std::size_t i) {
    if (mode_ == Mode::idle) {
      if (opened_ < connections_ && !second_half_) open(opened_);
    } else if (mode_ != Mode::probe && now() < deadline_) {
      open(i);
    }
  }

  void want(Conn& c, std::size_t i, std::uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = c.events = events;
    ev.data.u64 = i;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // After an SSL call returned r <= 0: waits for what OpenSSL needs, or fails the connection.
  void wait_or_fail(std::size_t i, int r) {
    Conn& c = slots_[i];
    const int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ) return want(c, i, EPOLLIN);
    if (e == SSL_ERROR_WANT_WRITE) return want(c, i, EPOLLOUT);
    if (e == SSL_ERROR_ZERO_RETURN) return fail(i, "close_notify");  // the server closed
    // OpenSSL 3 reports a TCP close without close_notify as an SSL error (unexpected EOF).
    if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return fail(i, "eof");
    if (e == SSL_ERROR_SYSCALL) return fail(i, r == 0 ? "eof" : "reset");
    static constexpr const char* kSteps[] = {"closed", "connect", "handshake", "write", "read", "idle"};
    fail(i, kSteps[static_cast<std::size_t>(c.state)]);
  }

  void drive(std::size_t i) {
    Conn& c = slots_[i];
    c.progress = now();
    for (;;) {
      switch (c.state) {
        case State::connecting: {
          int err = 0;
          socklen_t len = sizeof err;
          if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return fail(i, "connect");
          c.state = State::handshaking;
          break;
        }
        case State::handshaking: {
          const int r = SSL_connect(c.ssl);
          if (r != 1) return wait_or_fail(i, r);
          handshake_done(c);
          c.state = State::writing;
          break;
        }
        case State::writing: {
          const int r = SSL_write(c.ssl, request_.data(), static_cast<int>(request_.size()));
          if (r <= 0) return wait_or_fail(i, r);
          c.state = State::reading;
          c.head.clear();
          c.in_body = false;
          c.body_left = 0;
          break;
        }
        case State::reading: {
          const int r = SSL_read(c.ssl, buf_, sizeof buf_);
          if (r <= 0) return wait_or_fail(i, r);
          const int complete = feed(c, static_cast<std::size_t>(r));
          if (complete < 0) return fail(i, "malformed");
          if (complete > 0) {
            if (!answered(i)) return;
          }
          break;
        }
        case State::idle:
        case State::closed:
          return;
      }
    }
  }

  void handshake_done(Conn& c) {
    if (SSL_session_reused(c.ssl) != 0) {
      ++resumed_;
    } else {
      ++full_;
    }
    const int nid = static_cast<int>(SSL_get_negotiated_group(c.ssl));
    const char* group = nid > 0 ? OBJ_nid2sn(nid) : nullptr;
    const std::string params = std::string(SSL_get_version(c.ssl)) + "/" +
                               SSL_CIPHER_get_name(SSL_get_current_cipher(c.ssl)) + "/" +
                               (group != nullptr ? group : "?");
    if (params_.empty()) params_ = params;
    if (params != std::string(kVersion) + "/" + std::string(kCipher) + "/" + std::string(kGroup))
      ++mismatched_;
  }

  // Feeds n bytes of buf_ to the answer's parser: -1 malformed, 0 more to come, 1 complete.
  int feed(Conn& c, std::size_t n) {
    std::size_t body = n;
    if (!c.in_body) {
      c.head.append(buf_, n);
      const std::size_t end = c.head.find("\r\n\r\n");
      if (end == std::string::npos) return c.head.size() > 16384 ? -1 : 0;
      body = c.head.size() - (end + 4);
      c.head.resize(end + 2);
      c.ok = c.head.starts_with("HTTP/1.1 200 ");
      std::string lower = c.head;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      c.close = lower.find("\r\nconnection: close\r\n") != std::string::npos;
      const std::size_t at = lower.find("\r\ncontent-length:");
      if (at == std::string::npos) return -1;  // every file served here has a length
      c.body_left = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
      c.in_body = true;
    }
    if (body > c.body_left) return -1;  // more than the answer: nothing was asked for
    c.body_left -= body;
    return c.body_left == 0 ? 1 : 0;
  }

  // One answer is complete; returns whether the connection goes on (drive loops again).
  bool answered(std::size_t i) {
    Conn& c = slots_[i];
    const double t = now();
    if (c.ok) {
      ++requests_;
      latencies_.push_back(static_cast<float>(t - c.started));
    } else {
      count_error("status");  // not 200
    }
    switch (mode_) {
      case Mode::keepalive:
        if (t >= deadline_) break;
        if (c.close) {
          // The server ends the connection (e.g. a cap on requests per connection): open
          // another, as wrk does; its full handshake is counted like the others.
          ++reconnects_;
          break;
        }
        c.state = State::writing;
        c.started = t;
        return true;
      case Mode::resume:
        if (session_ == nullptr) {
          // The first connection: keep its session (TLS 1.3 tickets came before the answer) and
          // start all the others.
          session_ = SSL_get1_session(c.ssl);
          close_slot(i);
          for (std::size_t k = 0; k < connections_; ++k) open(k);
          return false;
        }
        break;
      case Mode::idle:
        if (!second_half_) {
          c.state = State::idle;
          --busy_;
          want(c, i, 0);  // nothing to read; EPOLLHUP and EPOLLERR still come and end it
          if (opened_ < connections_) open(opened_);
          return false;
        }
        ++served_;
        break;
      case Mode::full:
      case Mode::probe:
        break;
    }
    close_slot(i);
    next(i);
    return false;
  }

  int idle_second_half() {
    std::printf("ready opened=%zu idle=%zu full=%llu resumed=%llu errors=%llu mismatched=%llu params=%s\n",
                opened_, open_, full_, resumed_, errors_, mismatched_,
                params_.empty() ? "-" : params_.c_str());
    std::fflush(stdout);
    std::string line;
    std::getline(std::cin, line);  // the caller has read the server's memory
    second_half_ = true;
    const unsigned long long errors_before = errors_;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].state != State::idle) continue;
      slots_[i].state = State::writing;
      slots_[i].started = slots_[i].progress = now();
      ++busy_;
      drive(i);
    }
    loop([this] { return busy_ == 0; });
    std::printf("served=%llu errors=%llu first_error=%s\n", served_, errors_ - errors_before, first_error_);
    return 0;
  }

  double p99_ms() {
    if (latencies_.empty()) return 0;
    const auto k = latencies_.size() * 99 / 100;
    std::nth_element(latencies_.begin(), latencies_.begin() + static_cast<std::ptrdiff_t>(k),
                     latencies_.end());
    return static_cast<double>(latencies_[k]) * 1e3;
  }

  Mode mode_;
  std::uint16_t port_;
  std::size_t connections_;
  double seconds_;
  std::vector<Conn> slots_;
  std::string request_;
  SSL_CTX* ctx_ = nullptr;
  SSL_SESSION* session_ = nullptr;  // resume: the first connection's session
  int epfd_ = -1;
  double deadline_ = 0;
  std::size_t open_ = 0;    // connections open (idle ones included)
  std::size_t opened_ = 0;  // connections ever opened
  std::size_t busy_ = 0;    // open and not idle
  bool second_half_ = false;
  unsigned long long requests_ = 0, errors_ = 0, full_ = 0, resumed_ = 0, mismatched_ = 0, served_ = 0,
                     reconnects_ = 0;
  const char* first_error_ = "-";  // which step failed first: connect, handshake, eof, reset, timeout...
  std::string params_;             // of the first handshake, e.g. TLSv1.3/TLS_AES_256_GCM_SHA384/X25519
  std::vector<float> latencies_;
  char sni_[10] = "localhost";
  char buf_[65536];
};

int usage() {
  std::cerr << "usage: tls_load --port P --mode keepalive|full|resume|idle|probe [--path /hello.html]\n"
               "                [--connections N] [--seconds S]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Mode mode = Mode::keepalive;
  long port = 0;
  std::string path = "/hello.html";
  long connections = 50;
  double seconds = 2;
  for (int k = 1; k + 1 < argc; k += 2) {
    const std::string_view key = argv[k];
    const char* value = argv[k + 1];
    if (key == "--port") {
      port = std::strtol(value, nullptr, 10);
    } else if (key == "--path") {
      path = value;
    } else if (key == "--connections") {
      connections = std::strtol(value, nullptr, 10);
    } else if (key == "--seconds") {
      seconds = std::strtod(value, nullptr);
    } else if (key == "--mode") {
      const std::string_view m = value;
      if (m == "keepalive") {
        mode = Mode::keepalive;
      } else if (m == "full") {
        mode = Mode::full;
      } else if (m == "resume") {
        mode = Mode::resume;
      } else if (m == "idle") {
        mode = Mode::idle;
      } else if (m == "probe") {
        mode = Mode::probe;
      } else {
        return usage();
      }
    } else {
      return usage();
    }
  }
  if (argc % 2 == 0 || port <= 0 || port > 65535 || connections <= 0) return usage();
  std::signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {  // idle mode holds 10,000 sockets
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  Load load(mode, static_cast<std::uint16_t>(port), path,
            mode == Mode::probe ? 1 : static_cast<std::size_t>(connections), seconds);
  return load.run();
}
