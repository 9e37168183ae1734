#pragma once
// SocketPump: how the connection drivers move one client's bytes through a socketpair into a
// connection on a real event loop, on one thread and in a repeatable order. A round polls the
// loop, runs what the host has queued (resumes, handler jobs) and reads what the connection
// sent; the connection is taken to wait for the client once a few rounds in a row moved nothing.

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>

#include "fuzz_host.hpp"
#include "http/hosted_connection.hpp"
#include "net/event_loop.hpp"

namespace weft::fuzz {

class SocketPump {
 public:
  /// `quiet_rounds` rounds in a row without movement end settle(); `max_rounds` bounds it.
  SocketPump(FuzzHost& host, net::EventLoop& loop, int quiet_rounds, int max_rounds)
      : host_(host), loop_(loop), quiet_rounds_(quiet_rounds), max_rounds_(max_rounds) {}

  /// Starts pumping for `connection`, whose client end is `client`; what the client receives
  /// is appended to `output`. Both outlive the pump's use until the next start().
  void start(http::HostedConnection& connection, int client, std::string& output) {
    connection_ = &connection;
    client_ = client;
    output_ = &output;
    unsent_ = 0;
    closed_ = false;
  }
  /// The connection is gone (destroyed by the driver): rounds stop running its jobs.
  void detach() noexcept { connection_ = nullptr; }

  /// One round; true when anything moved: a job ran, bytes arrived, the client's unsent bytes
  /// changed (the connection read some), or the connection closed.
  bool round() {
    loop_.poll(net::Clock::now());
    bool moved = host_.has_resumes();
    host_.run_resumes();
    moved =
        (connection_ != nullptr && !host_.connection_closed() && host_.run_pending(*connection_)) || moved;
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
      const ssize_t n = ::recv(client_, chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      output_->append(chunk.data(), static_cast<std::size_t>(n));
      moved = true;
    }
    int unsent = 0;
    (void)::ioctl(client_, TIOCOUTQ, &unsent);
    if (unsent != unsent_) moved = true;
    unsent_ = unsent;
    if (host_.connection_closed() != closed_) moved = true;
    closed_ = host_.connection_closed();
    return moved;
  }

  /// Rounds until nothing moves.
  void settle() {
    for (int quiet = 0, i = 0; quiet < quiet_rounds_ && i < max_rounds_; ++i) quiet = round() ? 0 : quiet + 1;
  }

  /// Writes `piece`, letting the connection work whenever the socket is full; stops early if
  /// the connection stops reading for good or closes. Then settles.
  void write_piece(std::string_view piece) {
    int stalls = 0;
    while (!piece.empty() && stalls < quiet_rounds_) {
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

  /// Fires every armed timer of the connection, as if each had expired.
  void fire_timers() {
    for (const auto& [list, kind] : host_.timers().lists()) {
      if (list->pop_expired(net::Clock::time_point::max()) != nullptr) connection_->on_timeout(kind);
    }
  }

 private:
  FuzzHost& host_;
  net::EventLoop& loop_;
  int quiet_rounds_;
  int max_rounds_;
  http::HostedConnection* connection_ = nullptr;
  int client_ = -1;
  std::string* output_ = nullptr;
  int unsent_ = 0;
  bool closed_ = false;
};

}  // namespace weft::fuzz
