// fuzz_h2's driver and invariants (see checks.hpp): the HTTP/2 preface, then the input's bytes,
// through a socketpair into a real h2::Connection (nghttp2 session and exchange glue) on a real
// net::EventLoop, hosted by FuzzHost (its routes: fixed, prepared, files, handlers, streamed
// answers, streamed uploads, static files). Handlers run when the driver says (run_pending).
//
// Invariants: what the server writes is a well-formed sequence of HTTP/2 frames (9-byte headers,
// lengths within the default SETTINGS_MAX_FRAME_SIZE, a SETTINGS first); answers go to odd
// stream ids the client opened, at most one response HEADERS and one END_STREAM per stream, no
// DATA before its HEADERS nor after its END_STREAM; never more responses than HEADERS frames
// sent; the connection closes once the client has sent everything and shut its side; no
// descriptor is leaked (ASan/LSan: no leak).
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "fuzz_host.hpp"
#include "h2/connection.hpp"
#include "input.hpp"
#include "net/event_loop.hpp"
#include "socket_pump.hpp"
#include "weft/log.hpp"

namespace weft::fuzz {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr unsigned kFlagBusyPool = 3;  // dispatch() refuses every other handler (503)
constexpr unsigned kFlagDrain = 4;     // the server starts draining after piece seed % pieces
constexpr unsigned kFlagTimeout = 6;   // the armed timer fires after the last piece
constexpr int kQuietRounds = 4;
constexpr int kMaxRounds = 2000;
constexpr std::size_t kMaxFrame = 16384;

struct World {
  net::EventLoop loop;
  Config config;
  Config small;
  std::unique_ptr<FuzzHost> host;
  std::unique_ptr<FuzzHost> small_host;
  World() {
    if (std::getenv("WEFT_FUZZ_TRACE") == nullptr) set_log_level(static_cast<LogLevel>(-1));
    small.max_request_line = 64;
    small.max_header_bytes = 256;
    small.max_headers = 8;
    small.max_body = 1000;
    small.h2_max_concurrent_streams = 3;
    host = std::make_unique<FuzzHost>(config, loop);
    small_host = std::make_unique<FuzzHost>(small, loop);
  }
};

World& world() {
  static World w;
  return w;
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++n;
    ::closedir(dir);
  }
  return n;
}

struct Frame {
  std::uint32_t length = 0;
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
};

Frame frame_at(std::string_view bytes) {
  const auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  Frame f;
  f.length = (b(0) << 16) | (b(1) << 8) | b(2);
  f.type = static_cast<std::uint8_t>(b(3));
  f.flags = static_cast<std::uint8_t>(b(4));
  f.stream = ((b(5) << 24) | (b(6) << 16) | (b(7) << 8) | b(8)) & 0x7FFFFFFFU;
  return f;
}

// Client HEADERS frames in `data` (as far as it parses as frames): the most responses there may be.
std::size_t count_client_headers(std::string_view data) {
  std::size_t n = 0;
  while (data.size() >= 9) {
    const Frame f = frame_at(data);
    if (f.type == 1) ++n;
    if (data.size() < 9 + std::size_t{f.length}) break;
    data.remove_prefix(9 + std::size_t{f.length});
  }
  return n;
}

Failure check_frames(std::string_view out, bool closed, std::size_t max_responses) {
  if (out.empty()) return std::nullopt;  // closed before a byte (an early fatal error)
  bool first = true;
  struct StreamState {
    bool headers = false;
    bool ended = false;
  };
  std::map<std::uint32_t, StreamState> streams;
  std::size_t responses = 0;
  while (!out.empty()) {
    if (out.size() < 9)
      return closed ? std::nullopt : Failure("a partial frame header on an open connection");
    const Frame f = frame_at(out);
    if (f.length > kMaxFrame) return "a frame of " + std::to_string(f.length) + " bytes";
    if (out.size() < 9 + std::size_t{f.length}) {
      return closed ? std::nullopt : Failure("a partial frame on an open connection");
    }
    if (first && f.type != 4) return "the first frame is not SETTINGS";
    first = false;
    const std::string at =
        "frame type " + std::to_string(f.type) + " on stream " + std::to_string(f.stream) + ": ";
    const bool end = (f.flags & 1U) != 0;
    switch (f.type) {
      case 0:    // DATA
      case 1: {  // HEADERS
        if (f.stream == 0 || f.stream % 2 == 0) return at + "not a client stream";
        StreamState& s = streams[f.stream];
        if (s.ended) return at + "after END_STREAM";
        if (f.type == 1) {
          if (s.headers) return at + "a second HEADERS";
          s.headers = true;
          ++responses;
        } else if (!s.headers) {
          return at + "DATA before HEADERS";
        }
        if (end) s.ended = true;
        break;
      }
      case 3:  // RST_STREAM
        if (f.stream == 0 || f.length != 4) return at + "malformed";
        streams[f.stream].ended = true;
        break;
      case 4:  // SETTINGS
      case 6:  // PING
      case 7:  // GOAWAY
        if (f.stream != 0) return at + "on a stream";
        break;
      case 8:  // WINDOW_UPDATE
        if (f.length != 4) return at + "malformed";
        break;
      case 5:  // PUSH_PROMISE: weft never pushes
        return at + "PUSH_PROMISE";
      default:
        break;
    }
    out.remove_prefix(9 + std::size_t{f.length});
  }
  if (responses > max_responses) {
    return std::to_string(responses) + " responses to " + std::to_string(max_responses) + " HEADERS frames";
  }
  return std::nullopt;
}

class Driver {
 public:
  Driver(FuzzHost& host, net::EventLoop& loop) : host_(host), pump_(host, loop, kQuietRounds, kMaxRounds) {}

  Failure run(const Input& in, std::string& output, bool& closed_after_eof) {
    int sv[2] = {-1, -1};  // NOLINT(modernize-avoid-c-arrays): socketpair's interface
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      return "socketpair failed";
    const net::UniqueFd client(sv[1]);
    http::Handover handover;
    handover.fd = net::UniqueFd(sv[0]);
    handover.id = 1;
    handover.input.assign(kPreface);
    conn_ = std::make_unique<h2::Connection>(host_, std::move(handover));
    pump_.start(*conn_, client.get(), output);
    (void)conn_->start();
    const std::vector<std::size_t> cuts = in.cuts();
    const std::size_t drain_after =
        in.flag(kFlagDrain) && !cuts.empty() ? in.seed % cuts.size() : static_cast<std::size_t>(-1);
    std::size_t start = 0;
    for (std::size_t i = 0; i < cuts.size(); ++i) {
      pump_.write_piece(in.data.substr(start, cuts[i] - start));
      start = cuts[i];
      if (i == drain_after && !host_.connection_closed())
        host_.change_mode(http::HostMode::kDraining, *conn_);
    }
    pump_.settle();
    if (in.flag(kFlagTimeout) && !host_.connection_closed()) {
      pump_.fire_timers();
      pump_.settle();
    }
    ::shutdown(client.get(), SHUT_WR);
    pump_.settle();
    if (!host_.connection_closed() && host_.end_held()) pump_.settle();
    closed_after_eof = host_.connection_closed();
    if (!host_.connection_closed()) conn_->close();
    pump_.settle();
    pump_.detach();
    conn_.reset();
    host_.drain();
    return std::nullopt;
  }

 private:
  FuzzHost& host_;
  SocketPump pump_;
  std::unique_ptr<h2::Connection> conn_;
};

}  // namespace

Failure check_h2(Bytes bytes) {
  const Input in = Input::from(bytes);
  World& w = world();
  FuzzHost& host = in.small_limits() ? *w.small_host : *w.host;
  const std::size_t fds_before = open_descriptors();
  host.begin(in.flag(kFlagBusyPool), true);
  Driver driver(host, w.loop);
  std::string output;
  bool closed_after_eof = false;
  if (Failure f = driver.run(in, output, closed_after_eof)) return f;
  if (std::getenv("WEFT_FUZZ_TRACE") != nullptr) {
    std::fprintf(stderr, "fuzz_h2: %zu bytes in, %zu bytes out, %zu responses logged\n", in.data.size(),
                 output.size(), host.log().size());
  }
  if (Failure f = check_frames(output, true, count_client_headers(in.data))) return f;
  if (!closed_after_eof && !in.flag(kFlagTimeout)) return "connection still open after the client's EOF";
  if (open_descriptors() != fds_before) return "a descriptor leaked";
  return std::nullopt;
}

}  // namespace weft::fuzz
