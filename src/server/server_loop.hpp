#pragma once
// ServerLoop: one event-loop thread of a Server. Owns its listening descriptors
// (its own SO_REUSEPORT listener, or its duplicate of each handed-over socket),
// its connections and its timers; hosts the connections
// (http::ConnectionHost): routes through the shared Site, sends handlers to
// the shared ThreadPool and takes their responses back via EventLoop::post.
// Everything runs on the loop thread except request_mode/request_stop_now.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "http/connection.hpp"
#include "http/connection_host.hpp"
#include "net/event_loop.hpp"
#include "net/unique_fd.hpp"
#include "server/access_log.hpp"
#include "server/metrics.hpp"
#include "server/site.hpp"
#include "server/virtual_hosts.hpp"
#include "tls/server_context.hpp"
#include "weft/config.hpp"
#include "weft/thread_pool.hpp"

namespace weft::server {

/// State shared by every loop of one Server (read-only or atomic).
struct ServerShared {
  ServerShared(const Config& c, const Site& s, ThreadPool& p, const AccessLogSink& log)
      : config(c), site(s), pool(p), access_log(log) {}
  const Config& config;
  const Site& site;
  ThreadPool& pool;
  const AccessLogSink& access_log;
  /// The certificates new HTTPS connections use (null: cleartext); replaced by a reload while
  /// connections keep the one they started with.
  std::atomic<std::shared_ptr<const tls::ServerContext>> tls;
  /// Server::sites: when set (use_hosts), requests go to them instead of `site`; a reload
  /// replaces the table while routes taken from the old one keep it alive.
  std::atomic<std::shared_ptr<const VirtualHosts>> hosts;
  std::atomic<bool> use_hosts{false};
  /// Incremented after each store to `hosts`: a loop reloads its copy only when it changed
  /// (an atomic<shared_ptr> load per request costs a lock and two reference counts).
  std::atomic<std::uint64_t> hosts_generation{0};
  /// The HTTPS port that redirect listeners send clients to.
  std::uint16_t https_port = 0;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::size_t> accepted{0};
  /// Called (on a loop thread) when Config::exit_after connections were accepted.
  std::function<void()> on_exit_after = nullptr;
  /// What the metrics loop answers with (null without Config::metrics).
  const MetricsSources* metrics = nullptr;
};

/// What a loop serves.
enum class LoopRole : std::uint8_t {
  kSite,     ///< the site, on the main (and redirect) listeners
  kMetrics,  ///< only /metrics, in cleartext, on the metrics listener; not counted itself
};

/// The certificates of one Server::listener (null: cleartext), replaced by a reload while
/// connections keep the ones they started with.
struct ListenerTls {
  std::atomic<std::shared_ptr<const tls::ServerContext>> context;
};

/// One listening descriptor of a loop.
struct ListenerFd {
  net::UniqueFd fd;
  /// A cleartext port whose requests are all redirected to HTTPS.
  bool redirect = false;
  /// The loops share the socket (each holds a duplicate): it is watched with EPOLLEXCLUSIVE, so
  /// that a connection wakes one loop, not every one; a loop that still loses the race gets EAGAIN.
  bool shared = false;
  /// A Server::listener's certificates; null: the main ones (ServerShared::tls).
  std::shared_ptr<ListenerTls> tls = nullptr;
  /// The Server::listener it belongs to (0: the main listeners).
  std::uint64_t id = 0;
};

// The EventLoop must exist before ConnectionHost (a base) refers to it.
struct LoopHolder {
  net::EventLoop event_loop;
};

class ServerLoop final : private LoopHolder, public http::ConnectionHost {
 public:
  /// `listeners`: the main ones first. Throws std::system_error when epoll refuses one.
  ServerLoop(ServerShared& shared, std::vector<ListenerFd> listeners, LoopRole role = LoopRole::kSite);
  ServerLoop(const ServerLoop&) = delete;
  ServerLoop& operator=(const ServerLoop&) = delete;
  ~ServerLoop();

  /// The loop thread's body: returns once stopped and every connection is gone.
  void run();
  /// Any thread: enter kFinishing or kDraining (never back to kRunning).
  void request_mode(http::HostMode mode);
  /// Any thread: close everything now and return from run().
  void request_stop_now();
  /// Any thread: accept on `listener` too (closed instead once the loop is not running).
  void request_add_listener(ListenerFd listener);
  /// Any thread: close the listening descriptors of Server::listener `id`; the connections
  /// accepted there go on to their end.
  void request_remove_listener(std::uint64_t id);

  // http::ConnectionHost
  http::Route route(const http::RequestHead& head, std::string_view path) override;
  http::Route redirect_route(const http::RequestHead& head) override;
  bool dispatch(const exchange::Endpoint& endpoint, Request request, Reply reply) override;
  bool run_off_loop(std::function<void()> job) override;
  void post_news(std::uint64_t connection_id) override;
  int open_file_body(const Response& response, std::vector<http::BodyPart>& body) override;
  void access(const http::HostedConnection& connection, const http::AccessRecord& record) override;
  void closed(http::HostedConnection& connection) override;
  [[nodiscard]] bool offers_h2() const noexcept override { return shared_.config.http2; }
  void switch_to_h2(http::HostedConnection& from, http::Handover handover) override;

 private:
  // One listening socket of this loop.
  struct Acceptor final : net::EventLoop::Watcher {
    ServerLoop* loop = nullptr;
    net::UniqueFd fd;
    bool redirect = false;             // a cleartext port that only redirects to HTTPS
    bool shared = false;               // other loops watch the same socket
    bool listening = false;            // registered with epoll
    std::shared_ptr<ListenerTls> tls;  // ListenerFd::tls
    std::uint64_t id = 0;              // ListenerFd::id
    void on_io(std::uint32_t /*events*/) override { loop->accept_ready(*this); }
  };

  void accept_ready(Acceptor& acceptor);
  void add_acceptor(ListenerFd listener);
  void listen_all();
  void pause_accepting();
  void enter_mode(http::HostMode mode);
  void close_listener();
  void close_all();
  void expire_timers();
  void shed_idle(std::size_t count);
  [[nodiscard]] net::Clock::time_point next_deadline() const;
  /// The metrics loop's answer to every request.
  [[nodiscard]] http::Route metrics_route(const http::RequestHead& head, std::string_view path) const;

  ServerShared& shared_;
  const LoopRole role_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;  // the main listener first
  net::Clock::time_point resume_accept_ = net::Clock::time_point::max();
  net::Clock::time_point drain_deadline_ = net::Clock::time_point::max();
  net::Clock::time_point next_log_flush_ = net::Clock::time_point::max();
  bool stop_now_ = false;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<http::HostedConnection>> connections_;
  std::vector<std::unique_ptr<http::HostedConnection>> graveyard_;  // closed during this iteration
  AccessLogBuffer log_;
  // This loop's copy of ServerShared::hosts, as of hosts_generation_.
  std::shared_ptr<const VirtualHosts> hosts_;
  std::uint64_t hosts_generation_ = 0;
};

}  // namespace weft::server
