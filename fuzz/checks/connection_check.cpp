// fuzz_connection's driver and invariants (see checks.hpp): one client stream through a
// socketpair into a real http::Connection on a real net::EventLoop, hosted by FuzzHost.
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "fuzz_host.hpp"
#include "http/chunked_decoder.hpp"
#include "http/parser.hpp"
#include "http/response_writer.hpp"
#include "input.hpp"
#include "net/event_loop.hpp"
#include "socket_pump.hpp"
#include "weft/log.hpp"

namespace weft::fuzz {
namespace {

// Flag bits of input.hpp that this check reads.
constexpr unsigned kFlagBusyPool = 3;     // dispatch() refuses every other handler request (503), the
                                          // pool two body deliveries of three (retried)
constexpr unsigned kFlagDrain = 4;        // the server starts draining after piece seed % pieces
constexpr unsigned kFlagFinish = 5;       // ... or finishing (exit-after)
constexpr unsigned kFlagTimeout = 6;      // the armed timer fires after the last piece
constexpr unsigned kFlagFewRequests = 7;  // max_requests_per_connection = 3

// Rounds of "poll, run a handler, read output" with nothing changing before the driver decides
// the connection waits for the client.
constexpr int kQuietRounds = 3;
constexpr int kMaxRounds = 10'000;

Config make_config(bool small, bool few_requests) {
  Config c;
  c.server_name = "weft";
  if (small) {
    c.max_request_line = 64;
    c.max_header_bytes = 256;
    c.max_headers = 8;
    c.max_body = 512;
    c.max_discard_body = 128;
  } else {
    c.max_body = 64 * 1024;
    c.max_discard_body = 4 * 1024;
  }
  if (few_requests) c.max_requests_per_connection = 3;
  return c;
}

// One host per configuration, made once: the loop and hosts live as long as the process.
struct World {
  net::EventLoop loop;
  std::vector<std::unique_ptr<Config>> configs;
  std::vector<std::unique_ptr<FuzzHost>> hosts;
  World() {
    // The exchange logs every cut stream and dropped Reply, which the host makes on purpose:
    // quiet (a level below error) unless WEFT_FUZZ_TRACE asks to see what an input does.
    if (std::getenv("WEFT_FUZZ_TRACE") == nullptr) set_log_level(static_cast<LogLevel>(-1));
    for (int i = 0; i < 4; ++i) {
      configs.push_back(std::make_unique<Config>(make_config((i & 1) != 0, (i & 2) != 0)));
      hosts.push_back(std::make_unique<FuzzHost>(*configs.back(), loop));
    }
  }
  FuzzHost& host(bool small, bool few_requests) {
    return *hosts[(small ? 1U : 0U) | (few_requests ? 2U : 0U)];
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

struct Actions {
  std::size_t mode_change_after = SIZE_MAX;  // piece index
  http::HostMode mode = http::HostMode::kRunning;
  bool fire_timer = false;
};

struct Run {
  std::string output;
  std::vector<Logged> log;
  bool closed_after_eof = false;             // closed on its own once the client had sent everything and EOF
  bool forced = false;                       // a simulated timeout, or the driver had to close it
  std::uint32_t cut_streams = 0;             // streams the host cut or saw cancelled (FuzzHost::cut_streams)
  std::size_t split_free_prefix = SIZE_MAX;  // see FuzzHost::split_free_prefix
  bool strict = false;                       // FuzzHost::strict
};

class Driver {
 public:
  Driver(FuzzHost& host, net::EventLoop& loop) : host_(host), pump_(host, loop, kQuietRounds, kMaxRounds) {}
  Failure run(std::string_view data, const std::vector<std::size_t>& cuts, const Actions& actions, Run& out);

 private:
  FuzzHost& host_;
  SocketPump pump_;
  std::unique_ptr<http::Connection> conn_;
  std::string output_;
};

Failure Driver::run(std::string_view data, const std::vector<std::size_t>& cuts, const Actions& actions,
                    Run& out) {
  int sv[2] = {-1, -1};  // NOLINT(modernize-avoid-c-arrays): socketpair's interface
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return "socketpair failed";
  const net::UniqueFd client(sv[1]);
  output_.clear();
  conn_ = std::make_unique<http::Connection>(host_, net::UniqueFd(sv[0]), net::PeerAddress(), 1);
  pump_.start(*conn_, client.get(), output_);
  // As the server does: read at once, watch only if the connection lives on.
  conn_->start();
  conn_->on_io(EPOLLIN);
  if (!conn_->is_closed()) static_cast<void>(conn_->watch());

  std::size_t start = 0;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    pump_.write_piece(data.substr(start, cuts[i] - start));
    start = cuts[i];
    if (i == actions.mode_change_after && !host_.connection_closed()) host_.change_mode(actions.mode, *conn_);
  }
  pump_.settle();
  if (actions.fire_timer && !host_.connection_closed()) {
    out.forced = true;
    pump_.fire_timers();
    pump_.settle();
  }
  ::shutdown(client.get(), SHUT_WR);
  pump_.settle();
  // A held stream (/st/hold) is cancelled when the client is gone; with a pipelined request
  // behind it, the client may still be reading: the stream ends now, and that request follows.
  if (!host_.connection_closed() && host_.end_held()) pump_.settle();
  out.closed_after_eof = host_.connection_closed();
  if (!host_.connection_closed()) {
    out.forced = true;
    conn_->close();
  }
  pump_.round();  // what the connection wrote before it closed
  pump_.detach();
  conn_.reset();
  host_.drain();
  out.output = std::move(output_);
  out.log = host_.log();
  out.cut_streams = host_.cut_streams();
  out.split_free_prefix = host_.split_free_prefix();
  out.strict = host_.strict();
  return std::nullopt;
}

// How many requests the client's bytes hold, read on their own with the same limits: every
// complete head (and its body), plus one for a head that is malformed or unfinished (which may
// get an error or a 408). The connection may answer fewer (it stops at the first error), never
// more: a second answer to one request would be taken by the client as the answer to its next.
std::size_t count_requests(std::string_view data, const http::ParserLimits& limits) {
  std::size_t n = 0;
  http::RequestParser parser(limits);
  http::ChunkedDecoder decoder(limits);
  while (!data.empty()) {
    parser.reset();
    const http::ParseResult r = parser.parse(data);
    ++n;
    if (r.status != http::ParseStatus::kComplete) return n;
    data.remove_prefix(r.consumed);
    if (!r.head->chunked) {
      const std::uint64_t length = r.head->content_length.value_or(0);
      if (length > data.size()) return n;
      data.remove_prefix(static_cast<std::size_t>(length));
      continue;
    }
    decoder.reset();
    for (;;) {
      const http::ChunkedResult c = decoder.decode(data);
      data.remove_prefix(c.consumed);
      if (c.status == http::ChunkedStatus::kDone) break;
      if (c.status != http::ChunkedStatus::kData) return n;
    }
  }
  return n;
}

std::string_view field(std::string_view head, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::size_t at = head.find(key);
  if (at == std::string_view::npos) return {};
  const std::size_t start = at + key.size();
  return head.substr(start, head.find("\r\n", start) - start);
}

// A chunked body as weft writes it, read strictly: lowercase hex sizes without leading zeros or
// extensions, no empty data chunk, "0\r\n\r\n" at the end (no trailers).
struct Dechunked {
  enum class End : std::uint8_t { kComplete, kTruncated, kMalformed } end = End::kTruncated;
  std::uint64_t size = 0;    // data bytes decoded
  std::size_t consumed = 0;  // bytes of `in` up to the end of the last chunk (kComplete)
};

Dechunked dechunk(std::string_view in) {
  Dechunked d;
  std::size_t pos = 0;
  // True when `in` at `pos` starts with `what`; false with d.end set when it does not, or ends first.
  const auto expect = [&](std::string_view what) {
    const std::string_view rest = in.substr(pos);
    if (rest.starts_with(what)) {
      pos += what.size();
      return true;
    }
    d.end = what.starts_with(rest) ? Dechunked::End::kTruncated : Dechunked::End::kMalformed;
    return false;
  };
  for (;;) {
    const std::size_t digits = in.find_first_not_of("0123456789abcdef", pos);
    if (digits == std::string_view::npos) {
      d.end = Dechunked::End::kTruncated;
      return d;
    }
    const std::string_view hex = in.substr(pos, digits - pos);
    std::uint64_t size = 0;
    const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
    if (hex.empty() || ec != std::errc() || ptr != hex.data() + hex.size() ||
        (hex.size() > 1 && hex[0] == '0')) {
      d.end = Dechunked::End::kMalformed;
      return d;
    }
    pos = digits;
    if (!expect("\r\n")) return d;
    if (size == 0) {
      if (!expect("\r\n")) return d;
      d.end = Dechunked::End::kComplete;
      d.consumed = pos;
      return d;
    }
    if (in.size() - pos < size) {
      d.end = Dechunked::End::kTruncated;
      return d;
    }
    pos += static_cast<std::size_t>(size);
    d.size += size;
    if (!expect("\r\n")) return d;
  }
}

// The bytes the client received must be exactly the responses the connection logged, in order,
// each well framed, nothing after a "Connection: close":
//  * Content-Length: the logged body, or none for a HEAD; a 1xx/204/304 has neither length nor
//    Transfer-Encoding;
//  * Transfer-Encoding: chunked (a streamed body to an HTTP/1.1 request): strict chunks adding up
//    to the logged body, ending with the last chunk; a HEAD gets the head only;
//  * neither (a streamed body to an HTTP/1.0 request): "Connection: close", the body runs to the
//    end of the output and is the logged body, so it is the last response;
//  * a stream that was cut (dropped without end(), or cancelled) is not logged: a response the
//    connection did not log is allowed only then, only framed as a stream, and only as the last
//    bytes of the output; chunked, it must not end with the last chunk (the client must not take
//    it for complete). A close-delimited one cannot show that it was cut (HTTP/1.0's weakness).
// A response cut short is allowed only when the driver forced the end (timer, forced close), or
// (known bug, unless WEFT_FUZZ_STRICT: fuzz/findings/README.md) when a stream was cut: the
// connection's close() then drops what it still had queued, earlier complete responses included.
Failure check_output(const Run& run) {
  const bool cut_tail_ok = run.forced || (run.cut_streams > 0 && !run.strict);
  const std::string_view out = run.output;
  std::size_t pos = 0;
  std::size_t next = 0;  // index into run.log
  bool closed = false;
  while (pos < out.size()) {
    if (closed) return "bytes after a response with Connection: close";
    const std::size_t end = out.find("\r\n\r\n", pos);
    if (end == std::string_view::npos) {
      if (cut_tail_ok || (next >= run.log.size() && run.cut_streams > 0)) return std::nullopt;
      return "response head cut short";
    }
    const std::string_view head = out.substr(pos, end + 4 - pos);
    pos = end + 4;
    if (!head.starts_with("HTTP/1.1 ") || head.size() < 13 || head[12] != ' ') return "bad status line";
    int status = 0;
    std::from_chars(head.data() + 9, head.data() + 12, status);
    if (status == 100) {
      if (head != http::kContinueResponse) return "malformed 100 Continue";
      continue;
    }
    const std::string_view length = field(head, "Content-Length");
    const std::string_view coding = field(head, "Transfer-Encoding");
    const bool chunked = !coding.empty();
    if (chunked && coding != "chunked") return "Transfer-Encoding other than chunked";
    if (chunked && !length.empty()) return "both Content-Length and Transfer-Encoding";
    const bool bodiless_status = !http::status_has_content_length(status);
    if (bodiless_status && (chunked || !length.empty())) return "framing fields on a 1xx/204/304";
    const bool close_delimited = !chunked && length.empty() && !bodiless_status;
    closed = field(head, "Connection") == "close";

    if (next >= run.log.size()) {
      // Not logged: only a cut stream, the last thing the client gets.
      if (run.cut_streams == 0 && !run.forced)
        return "a response the connection did not log (status " + std::to_string(status) + ")";
      if (chunked) {
        const Dechunked body = dechunk(out.substr(pos));
        if (body.end == Dechunked::End::kMalformed) return "bad chunked framing in a cut stream";
        if (body.end == Dechunked::End::kComplete)
          return "a cut stream (not logged) ends with the last chunk: it looks complete";
        return std::nullopt;  // truncated: nothing follows it
      }
      if (close_delimited) {
        if (!closed) return "a close-delimited response without Connection: close";
        return std::nullopt;  // runs to the close
      }
      return "a response the connection did not log, not framed as a stream (status " +
             std::to_string(status) + ")";
    }
    const Logged& logged = run.log[next++];
    const std::string n = "response " + std::to_string(next) + ": ";
    if (logged.status != status)
      return n + "status " + std::to_string(status) + ", logged " + std::to_string(logged.status);
    if (logged.head && logged.body_bytes != 0) return n + "a HEAD logged with body bytes";
    std::uint64_t body = 0;  // bytes after the head
    if (bodiless_status) {
      if (logged.body_bytes != 0) return n + "a 1xx/204/304 logged with body bytes";
    } else if (!length.empty()) {
      std::uint64_t declared = 0;
      const auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
      if (ec != std::errc() || ptr != length.data() + length.size()) return n + "bad Content-Length";
      if (!logged.head) {
        if (declared != logged.body_bytes) return n + "Content-Length differs from the body sent";
        body = declared;
      }
    } else if (chunked) {
      if (logged.version_minor == 0) return n + "chunked to an HTTP/1.0 request";
      if (!logged.head) {
        const Dechunked d = dechunk(out.substr(pos));
        if (d.end == Dechunked::End::kMalformed) return n + "bad chunked framing";
        if (d.end == Dechunked::End::kTruncated) {
          if (cut_tail_ok) return std::nullopt;
          return n + "chunked body cut short";
        }
        if (d.size != logged.body_bytes) {
          return n + "chunked body of " + std::to_string(d.size) + " bytes, logged " +
                 std::to_string(logged.body_bytes);
        }
        body = d.consumed;
      }
    } else {  // close-delimited, or a HEAD to a stream for HTTP/1.0
      if (logged.version_minor != 0) return n + "neither Content-Length nor chunked to an HTTP/1.1 request";
      if (!logged.head) {
        if (!closed) return n + "a close-delimited response without Connection: close";
        body = out.size() - pos;
        if (body != logged.body_bytes && !(cut_tail_ok && body < logged.body_bytes)) {
          return n + "close-delimited body of " + std::to_string(body) + " bytes, logged " +
                 std::to_string(logged.body_bytes);
        }
      }
    }
    if (out.size() - pos < body) {
      if (cut_tail_ok) return std::nullopt;
      return n + "response body cut short";
    }
    pos += static_cast<std::size_t>(body);
  }
  if (next != run.log.size() && !cut_tail_ok) {
    return std::to_string(run.log.size() - next) + " logged response(s) never sent";
  }
  return std::nullopt;
}

// The first `n` entries of `log`.
std::vector<Logged> prefix(const std::vector<Logged>& log, std::size_t n) {
  return {log.begin(), log.begin() + static_cast<std::ptrdiff_t>(std::min(n, log.size()))};
}

}  // namespace

Failure check_connection(Bytes bytes) {
  const Input in = Input::from(bytes);
  const std::vector<std::size_t> cuts = in.cuts();
  World& w = world();
  FuzzHost& host = w.host(in.small_limits(), in.flag(kFlagFewRequests));
  Actions actions;
  if ((in.flag(kFlagDrain) || in.flag(kFlagFinish)) && !cuts.empty()) {
    actions.mode_change_after = in.seed % cuts.size();
    actions.mode = in.flag(kFlagDrain) ? http::HostMode::kDraining : http::HostMode::kFinishing;
  }
  actions.fire_timer = in.flag(kFlagTimeout);

  const std::size_t fds_before = open_descriptors();
  Driver driver(host, w.loop);
  host.begin(in.flag(kFlagBusyPool));
  Run pieces;
  if (Failure f = driver.run(in.data, cuts, actions, pieces)) return f;
  if (Failure f = check_output(pieces)) return "pieces: " + *f;
  if (const std::size_t requests = count_requests(in.data, host.limits()); pieces.log.size() > requests) {
    return std::to_string(pieces.log.size()) + " responses to " + std::to_string(requests) + " request(s)";
  }
  if (!pieces.closed_after_eof && !actions.fire_timer) return "connection still open after the client's EOF";

  // Without mode changes or timers the responses do not depend on how the bytes were cut, up to
  // a handler that may answer before its body is there (then what follows depends on whether
  // the body had arrived: a keep-alive answer, or one that closes with the body unread).
  if (actions.mode == http::HostMode::kRunning && !actions.fire_timer && in.data.size() > 0) {
    host.begin(in.flag(kFlagBusyPool));
    Run whole;
    if (Failure f = driver.run(in.data, {in.data.size()}, {}, whole)) return f;
    if (Failure f = check_output(whole)) return "whole: " + *f;
    const std::size_t same = std::min(whole.split_free_prefix, pieces.split_free_prefix);
    if (prefix(whole.log, same) != prefix(pieces.log, same)) {
      return "split changes the responses: whole " + std::to_string(whole.log.size()) + ", pieces " +
             std::to_string(pieces.log.size());
    }
  }
  if (open_descriptors() != fds_before) return "descriptor leak";
  return std::nullopt;
}

}  // namespace weft::fuzz
