// fuzz_connection's driver and invariants (see checks.hpp): one client stream through a
// socketpair into a real http::Connection on a real net::EventLoop, hosted by FuzzHost.
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
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

namespace weft::fuzz {
namespace {

// Flag bits of input.hpp that this check reads.
constexpr unsigned kFlagBusyPool = 3;     // dispatch() refuses: every handler request gets 503
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
  bool closed_after_eof = false;  // closed on its own once the client had sent everything and EOF
  bool forced = false;            // a simulated timeout, or the driver had to close it
};

class Driver {
 public:
  Driver(FuzzHost& host, net::EventLoop& loop) : host_(host), loop_(loop) {}
  Failure run(std::string_view data, const std::vector<std::size_t>& cuts, const Actions& actions, Run& out);

 private:
  // One round; true when anything moved.
  bool round() {
    loop_.poll(net::Clock::now());
    bool moved = host_.has_resumes();
    host_.run_resumes();
    moved = (conn_ && !host_.connection_closed() && host_.run_pending(*conn_)) || moved;
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
      const ssize_t n = ::recv(client_, chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      output_.append(chunk.data(), static_cast<std::size_t>(n));
      moved = true;
    }
    int unread = 0;
    (void)::ioctl(client_, TIOCOUTQ, &unread);
    if (unread != unread_) moved = true;
    unread_ = unread;
    if (host_.connection_closed() != closed_) moved = true;
    closed_ = host_.connection_closed();
    return moved;
  }
  void settle() {
    for (int quiet = 0, i = 0; quiet < kQuietRounds && i < kMaxRounds; ++i) quiet = round() ? 0 : quiet + 1;
  }
  // Writes `piece`, letting the connection work whenever the socket is full; stops early if the
  // connection stops reading for good.
  void write_piece(std::string_view piece) {
    int stalls = 0;
    while (!piece.empty() && stalls < kQuietRounds) {
      const ssize_t n = ::send(client_, piece.data(), piece.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        piece.remove_prefix(static_cast<std::size_t>(n));
        stalls = 0;
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;  // closed
      stalls = round() ? 0 : stalls + 1;
    }
    settle();
  }
  void fire_timer() {
    for (const auto& [list, kind] : host_.timers().lists()) {
      if (list->pop_expired(net::Clock::time_point::max()) != nullptr) conn_->on_timeout(kind);
    }
  }

  FuzzHost& host_;
  net::EventLoop& loop_;
  std::unique_ptr<http::Connection> conn_;
  int client_ = -1;
  std::string output_;
  int unread_ = 0;
  bool closed_ = false;
};

Failure Driver::run(std::string_view data, const std::vector<std::size_t>& cuts, const Actions& actions,
                    Run& out) {
  int sv[2] = {-1, -1};  // NOLINT(modernize-avoid-c-arrays): socketpair's interface
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return "socketpair failed";
  const net::UniqueFd client(sv[1]);
  client_ = sv[1];
  output_.clear();
  unread_ = 0;
  closed_ = false;
  conn_ = std::make_unique<http::Connection>(host_, net::UniqueFd(sv[0]), net::PeerAddress(), 1);
  // As the server does: read at once, watch only if the connection lives on.
  conn_->start();
  conn_->on_io(EPOLLIN);
  if (!conn_->is_closed()) static_cast<void>(conn_->watch());

  std::size_t start = 0;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    write_piece(data.substr(start, cuts[i] - start));
    start = cuts[i];
    if (i == actions.mode_change_after && !host_.connection_closed()) host_.change_mode(actions.mode, *conn_);
  }
  settle();
  if (actions.fire_timer && !host_.connection_closed()) {
    out.forced = true;
    fire_timer();
    settle();
  }
  ::shutdown(client_, SHUT_WR);
  settle();
  out.closed_after_eof = host_.connection_closed();
  if (!host_.connection_closed()) {
    out.forced = true;
    conn_->close();
  }
  round();  // what the connection wrote before it closed
  conn_.reset();
  out.output = std::move(output_);
  out.log = host_.log();
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

// The bytes the client received must be exactly the responses the connection logged, in order,
// each well framed, nothing after a "Connection: close".
Failure check_output(const Run& run) {
  const std::string_view out = run.output;
  std::size_t pos = 0;
  std::size_t next = 0;  // index into run.log
  bool closed = false;
  while (pos < out.size()) {
    if (closed) return "bytes after a response with Connection: close";
    const std::size_t end = out.find("\r\n\r\n", pos);
    if (end == std::string_view::npos) {
      if (run.forced) return std::nullopt;  // cut short by the simulated timeout or forced close
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
    if (next >= run.log.size())
      return "a response the connection did not log (status " + std::to_string(status) + ")";
    const Logged& logged = run.log[next++];
    if (logged.status != status) {
      return "response " + std::to_string(next) + " has status " + std::to_string(status) + ", logged " +
             std::to_string(logged.status);
    }
    const std::string_view length = field(head, "Content-Length");
    if (http::status_has_content_length(status) == length.empty())
      return "Content-Length present iff allowed";
    if (logged.body_bytes > 0 && length != std::to_string(logged.body_bytes))
      return "Content-Length differs from the body sent";
    if (out.size() - pos < logged.body_bytes) {
      if (run.forced) return std::nullopt;
      return "response body cut short";
    }
    pos += logged.body_bytes;
    closed = field(head, "Connection") == "close";
  }
  if (next != run.log.size() && !run.forced) {
    return std::to_string(run.log.size() - next) + " logged response(s) never sent";
  }
  return std::nullopt;
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

  // Without mode changes or timers the responses do not depend on how the bytes were cut.
  if (actions.mode == http::HostMode::kRunning && !actions.fire_timer && in.data.size() > 0) {
    host.begin(in.flag(kFlagBusyPool));
    Run whole;
    if (Failure f = driver.run(in.data, {in.data.size()}, {}, whole)) return f;
    if (Failure f = check_output(whole)) return "whole: " + *f;
    if (whole.log != pieces.log) {
      return "split changes the responses: whole " + std::to_string(whole.log.size()) + ", pieces " +
             std::to_string(pieces.log.size());
    }
  }
  if (open_descriptors() != fds_before) return "descriptor leak";
  return std::nullopt;
}

}  // namespace weft::fuzz
