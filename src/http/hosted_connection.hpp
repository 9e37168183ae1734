#pragma once
// HostedConnection: what a ConnectionHost holds of one client socket, whatever protocol it
// speaks (HTTP/1.1: http::Connection; HTTP/2: h2::Connection). The host routes events, timers
// and exchange news to it by id and destroys it after closed(); the protocol logic stays behind
// this interface. Loop thread only.

#include <cstdint>
#include <string>

#include "net/event_loop.hpp"
#include "net/socket.hpp"
#include "net/timer_list.hpp"

namespace weft::http {

enum class TimerKind : std::uint8_t;

class HostedConnection : public net::EventLoop::Watcher, public net::TimerNode {
 public:
  HostedConnection(const HostedConnection&) = delete;
  HostedConnection& operator=(const HostedConnection&) = delete;
  virtual ~HostedConnection() = default;

  /// Continues writing after the host's resume_later() (see ConnectionHost::run_resumes).
  virtual void on_resume() = 0;
  /// The armed timer fired (the host pops it from `kind`'s list).
  virtual void on_timeout(TimerKind kind) = 0;
  /// An exchange of this connection has news (an answer, stream bytes, room for body bytes).
  virtual void on_exchange_news() = 0;
  /// The host's mode changed (finishing, draining): finish what is in flight, then close.
  virtual void on_mode_change() = 0;
  /// Closes the socket now; the host is told through closed().
  virtual void close() = 0;
  [[nodiscard]] virtual bool is_closed() const noexcept = 0;
  /// Nothing buffered, queued or in flight: the host may close it to make room.
  [[nodiscard]] virtual bool is_idle() const noexcept = 0;

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  /// "127.0.0.1:50312" or "[::1]:50312", formatted on each call.
  [[nodiscard]] std::string peer() const { return peer_.to_string(); }
  [[nodiscard]] const net::PeerAddress& peer_address() const noexcept { return peer_; }

 protected:
  HostedConnection(net::PeerAddress peer, std::uint64_t id) : peer_(peer), id_(id) {}

 private:
  net::PeerAddress peer_;
  std::uint64_t id_;
};

}  // namespace weft::http
