#include "server/server_loop.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <exception>
#include <string>

#include "files/open_file.hpp"
#include "h2/connection.hpp"
#include "http/error_page.hpp"
#include "net/socket.hpp"
#include "tls/tls_stream.hpp"
#include "weft/log.hpp"

namespace weft::server {
namespace {

// Accepts per listener event, so that one busy listener cannot starve the
// loop's connections (the listener is level-triggered: the rest comes next turn).
constexpr int kAcceptBatch = 64;
// How long accepting pauses when the process is out of descriptors or at
// Config::max_connections (instead of spinning on EMFILE).
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// Idle keep-alive connections closed to make room when descriptors run out.
constexpr std::size_t kShedOnExhaustion = 16;
constexpr auto kLogFlushInterval = std::chrono::seconds(1);

}  // namespace

ServerLoop::ServerLoop(ServerShared& shared, std::vector<ListenerFd> listeners, LoopRole role)
    : ConnectionHost(shared.config, event_loop), shared_(shared), role_(role), log_(shared.access_log) {
  for (ListenerFd& listener : listeners) add_acceptor(std::move(listener));
  listen_all();
  for (const auto& a : acceptors_) {
    if (!a->listening) throw std::system_error(errno, std::generic_category(), "epoll_ctl(listener)");
  }
}

void ServerLoop::add_acceptor(ListenerFd listener) {
  auto acceptor = std::make_unique<Acceptor>();
  acceptor->loop = this;
  acceptor->fd = std::move(listener.fd);
  acceptor->redirect = listener.redirect;
  acceptor->shared = listener.shared;
  acceptor->tls = std::move(listener.tls);
  acceptor->id = listener.id;
  acceptors_.push_back(std::move(acceptor));
}

void ServerLoop::request_add_listener(ListenerFd listener) {
  event_loop.post([this, listener = std::move(listener)]() mutable {
    if (mode() != http::HostMode::kRunning) return;  // the descriptor closes here
    add_acceptor(std::move(listener));
    // While accepting is paused, the resume registers it with the others.
    if (resume_accept_ == net::Clock::time_point::max()) listen_all();
  });
}

void ServerLoop::request_remove_listener(std::uint64_t id) {
  event_loop.post([this, id] {
    // The Acceptor stays (inert, without a descriptor): an event of this turn may still name it.
    for (const auto& a : acceptors_) {
      if (a->id != id || !a->fd) continue;
      if (a->listening) event_loop.remove(a->fd.get());
      a->listening = false;
      a->fd.reset();
    }
  });
}

void ServerLoop::listen_all() {
  for (const auto& a : acceptors_) {
    // Level-triggered either way: what one batch leaves in the backlog is reported again next
    // turn. A shared socket adds EPOLLEXCLUSIVE (the kernel wakes one of the waiting loops, not
    // all of them, as nginx does for a listener without reuseport); EPOLL_CTL_ADD allows it, and
    // re-adding after a pause reports a backlog that built up meanwhile at once.
    if (a->fd && !a->listening)
      a->listening = event_loop.add(a->fd.get(), EPOLLIN | (a->shared ? EPOLLEXCLUSIVE : 0U), a.get());
  }
}

ServerLoop::~ServerLoop() {
  connections_.clear();
  graveyard_.clear();
}

void ServerLoop::run() {
  for (;;) {
    // Connections that used their write budget continue after one look at epoll.
    event_loop.poll(has_resumes() ? event_loop.now() : next_deadline());
    const net::Clock::time_point now = event_loop.now();
    expire_timers();
    if (now >= resume_accept_ && mode() == http::HostMode::kRunning) {
      resume_accept_ = net::Clock::time_point::max();
      listen_all();
      for (const auto& a : acceptors_) accept_ready(*a);
    }
    if (now >= drain_deadline_ || stop_now_) close_all();
    if (now >= next_log_flush_) {
      log_.flush();
      next_log_flush_ = net::Clock::time_point::max();
    }
    run_resumes();
    graveyard_.clear();
    // The gauges, published once per turn: nothing changes them while the loop sleeps.
    http::LoopCounters::set(counters().open, connections_.size());
    http::LoopCounters::set(counters().idle, timers().keepalive.size() + timers().drain_grace.size());
    if ((stop_now_ || mode() != http::HostMode::kRunning) && connections_.empty()) break;
  }
  log_.flush();
}

net::Clock::time_point ServerLoop::next_deadline() const {
  return std::min({const_cast<ServerLoop*>(this)->timers().next_deadline(), resume_accept_, drain_deadline_,
                   next_log_flush_});
}

void ServerLoop::expire_timers() {
  const net::Clock::time_point now = event_loop.now();
  for (const auto& [list, kind] : timers().lists()) {
    while (net::TimerNode* node = list->pop_expired(now))
      static_cast<http::HostedConnection*>(node)->on_timeout(kind);
  }
}

void ServerLoop::accept_ready(Acceptor& acceptor) {
  for (int i = 0; i < kAcceptBatch && acceptor.fd && acceptor.listening; ++i) {
    if (shared_.open_connections.load(std::memory_order_relaxed) >= shared_.config.max_connections) {
      shed_idle(kShedOnExhaustion);
      pause_accepting();
      return;
    }
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd =
        ::accept4(acceptor.fd.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log(LogLevel::warn, "accept: out of descriptors or memory; closing idle connections, pausing accept");
        shed_idle(kShedOnExhaustion);
        pause_accepting();
      }
      return;  // EAGAIN, or a connection that died in the backlog (ECONNABORTED...)
    }
    net::UniqueFd conn_fd(fd);
    if (shared_.config.send_buffer != 0) net::set_send_buffer(fd, shared_.config.send_buffer);
    const std::size_t exit_after = role_ == LoopRole::kSite ? shared_.config.exit_after : 0;
    if (exit_after != 0) {
      const std::size_t n = shared_.accepted.fetch_add(1, std::memory_order_relaxed) + 1;
      if (n > exit_after) return;  // another loop took the last one: refuse
      if (n == exit_after && shared_.on_exit_after) shared_.on_exit_after();
    }
    const std::uint64_t id = next_id_++;
    std::shared_ptr<const tls::ServerContext> tls;
    if (!acceptor.redirect && role_ == LoopRole::kSite) {
      tls = acceptor.tls ? acceptor.tls->context.load(std::memory_order_acquire)
                         : shared_.tls.load(std::memory_order_acquire);
    }
    std::unique_ptr<http::Connection> connection;
    try {
      connection = std::make_unique<http::Connection>(*this, std::move(conn_fd), net::PeerAddress(peer), id,
                                                      std::move(tls), acceptor.redirect);
    } catch (const std::bad_alloc&) {
      log(LogLevel::warn, "accept: out of memory for a TLS connection; closing it");
      continue;
    }
    http::Connection* raw = connection.get();
    connections_.emplace(id, std::move(connection));
    http::LoopCounters::add(counters().accepted);
    shared_.open_connections.fetch_add(1, std::memory_order_relaxed);
    raw->start();
    raw->on_io(EPOLLIN);  // the request usually came with the connection (deferred accept)
    if (!raw->is_closed() && !raw->watch()) continue;
    if (mode() != http::HostMode::kRunning) {
      raw->on_mode_change();
      return;
    }
  }
}

void ServerLoop::pause_accepting() {
  for (const auto& a : acceptors_) {
    if (a->listening) event_loop.remove(a->fd.get());
    a->listening = false;
  }
  resume_accept_ = event_loop.now() + kAcceptPause;
}

void ServerLoop::shed_idle(std::size_t count) {
  std::vector<http::HostedConnection*> idle;
  for (auto& [id, c] : connections_) {
    if (idle.size() >= count) break;
    if (c->is_idle()) idle.push_back(c.get());
  }
  for (http::HostedConnection* c : idle) c->close();
}

void ServerLoop::request_mode(http::HostMode mode) {
  event_loop.post([this, mode] { enter_mode(mode); });
}

void ServerLoop::request_stop_now() {
  event_loop.post([this] { stop_now_ = true; });
}

void ServerLoop::enter_mode(http::HostMode mode) {
  if (mode <= this->mode()) return;
  set_mode(mode);
  close_listener();
  if (mode == http::HostMode::kDraining) drain_deadline_ = event_loop.now() + shared_.config.shutdown_timeout;
  std::vector<http::HostedConnection*> all;
  all.reserve(connections_.size());
  for (auto& [id, c] : connections_) all.push_back(c.get());
  for (http::HostedConnection* c : all) c->on_mode_change();
}

void ServerLoop::close_listener() {
  for (const auto& a : acceptors_) {
    if (a->listening) event_loop.remove(a->fd.get());
    a->listening = false;
    a->fd.reset();
  }
  resume_accept_ = net::Clock::time_point::max();
}

void ServerLoop::close_all() {
  close_listener();
  std::vector<http::HostedConnection*> all;
  all.reserve(connections_.size());
  for (auto& [id, c] : connections_) all.push_back(c.get());
  for (http::HostedConnection* c : all) c->close();
}

http::Route ServerLoop::route(const http::RequestHead& head, std::string_view path) {
  if (role_ == LoopRole::kMetrics) return metrics_route(head, path);
  if (shared_.use_hosts.load(std::memory_order_relaxed)) {
    const std::uint64_t generation = shared_.hosts_generation.load(std::memory_order_acquire);
    if (generation != hosts_generation_) {
      hosts_ = shared_.hosts.load(std::memory_order_acquire);
      hosts_generation_ = generation;
    }
    return hosts_->route(head, path, hosts_);
  }
  return shared_.site.route(head, path);
}

http::Route ServerLoop::metrics_route(const http::RequestHead& head, std::string_view path) const {
  http::Route route;
  if (path != "/metrics") {
    route.response = Response::text(404, "Not found: this port serves only /metrics.\n");
  } else if (head.method != http::Method::kGet && head.method != http::Method::kHead) {
    route.response = Response::text(405, "/metrics answers GET and HEAD.\n");
    route.response.add_header("Allow", "GET, HEAD");
  } else {
    route.response = Response::bytes(200, shared_.metrics->render(), kMetricsContentType);
    route.response.add_header("Cache-Control", "no-store");
  }
  return route;
}

http::Route ServerLoop::redirect_route(const http::RequestHead& head) {
  http::Route route;
  // The host the client asked for, without its port: the HTTPS port replaces it.
  std::string_view host = head.host;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty()) {
    route.response = Response::text(400, "This port redirects to HTTPS, which needs the Host field.\n");
    return route;
  }
  std::string location = "https://";
  location += host;
  if (shared_.https_port != 443) location += ":" + std::to_string(shared_.https_port);
  // An origin-form target is the path and query as sent; for an absolute-form one, the path on.
  std::string_view target = head.target;
  if (!target.empty() && target.front() != '/') {
    const std::size_t scheme_end = target.find("://");
    const std::size_t path_start =
        scheme_end == std::string_view::npos ? std::string_view::npos : target.find('/', scheme_end + 3);
    target = path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
  }
  location += target;
  route.response = Response::text(308, "Moved to HTTPS: " + location + "\n");
  route.response.add_header("Location", location);
  return route;
}

bool ServerLoop::dispatch(const exchange::Endpoint& endpoint, Request request, Reply reply) {
  return shared_.pool.try_execute(
      [&endpoint, request = std::move(request), reply = std::move(reply)]() mutable {
        // A client that left (or reset its stream) while the job waited gets no handler: a
        // flood of opened-and-reset streams (HTTP/2 rapid reset) must not keep the workers busy.
        if (reply.cancelled()) return;
        endpoint.start(std::move(request), std::move(reply));
      });
}

bool ServerLoop::run_off_loop(std::function<void()> job) { return shared_.pool.try_execute(std::move(job)); }

void ServerLoop::post_news(std::uint64_t connection_id) {
  event_loop.post([this, connection_id] {
    const auto it = connections_.find(connection_id);
    if (it != connections_.end()) it->second->on_exchange_news();
  });
}

int ServerLoop::open_file_body(const Response& response, std::vector<http::BodyPart>& body) {
  files::OpenedFile opened = files::open_regular_file(response.file_path());
  if (opened.status == 200) body.push_back(http::BodyPart{{}, std::move(opened.fd), 0, opened.size});
  return opened.status;
}

void ServerLoop::access(const http::HostedConnection& connection, const http::AccessRecord& record) {
  const double seconds = record.started == net::Clock::time_point{}
                             ? -1.0
                             : std::chrono::duration<double>(event_loop.now() - record.started).count();
  counters().answered(record.protocol, record.status, seconds);
  if (!log_.enabled() || role_ == LoopRole::kMetrics) return;
  const std::string peer = connection.peer();
  const std::string_view tls_version =
      record.tls ? std::string_view(record.tls->version) : std::string_view();
  const std::string_view server_name =
      record.tls ? std::string_view(record.tls->server_name) : std::string_view();
  log_.add({peer, record.method, record.target, record.version_minor, record.status, record.body_bytes,
            record.referer, record.user_agent, record.https, record.version_major, tls_version, server_name},
           std::time(nullptr));
  if (next_log_flush_ == net::Clock::time_point::max())
    next_log_flush_ = event_loop.now() + kLogFlushInterval;
}

void ServerLoop::switch_to_h2(http::HostedConnection& from, http::Handover handover) {
  const auto it = connections_.find(from.id());
  if (it == connections_.end()) return;
  graveyard_.push_back(std::move(it->second));  // `from` is still on the stack: destroyed later
  auto next = std::make_unique<h2::Connection>(*this, std::move(handover));
  h2::Connection* raw = next.get();
  it->second = std::move(next);
  if (raw->start() && mode() != http::HostMode::kRunning) raw->on_mode_change();
}

void ServerLoop::closed(http::HostedConnection& connection) {
  const auto it = connections_.find(connection.id());
  if (it == connections_.end()) return;
  graveyard_.push_back(std::move(it->second));
  connections_.erase(it);
  shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace weft::server
