#include "weft/server.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.hpp"
#include "server/access_log.hpp"
#include "server/metrics.hpp"
#include "server/server_loop.hpp"
#include "server/site.hpp"
#include "server/virtual_hosts.hpp"
#include "tls/ktls.hpp"
#include "tls/server_context.hpp"
#include "tls/ticket_keys.hpp"
#include "weft/log.hpp"
#include "weft/thread_pool.hpp"

namespace weft {
namespace {

constexpr int kListenBacklog = 4096;

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("weft::Config: ") + what);
}

// Upper bounds that keep a typo from exhausting the machine (a thread per
// loop and per worker; a listener descriptor per loop).
constexpr std::size_t kMaxLoops = 256;
constexpr std::size_t kMaxThreads = 4096;

Config validated(Config c) {
  require(c.threads > 0 && c.threads <= kMaxThreads, "threads must be between 1 and 4096");
  require(c.loops <= kMaxLoops, "loops must be between 0 (CPU count) and 256");
  require(c.max_queued > 0, "max_queued must be > 0");
  require(c.max_request_line >= 64, "max_request_line must be >= 64");
  require(c.max_header_bytes >= 64, "max_header_bytes must be >= 64");
  require(c.max_headers > 0 && c.max_headers <= 100, "max_headers must be between 1 and 100");
  require(c.max_requests_per_connection > 0, "max_requests_per_connection must be > 0");
  require(c.max_connections > 0, "max_connections must be > 0");
  require(c.h2_max_concurrent_streams > 0, "h2_max_concurrent_streams must be > 0");
  require(c.header_timeout.count() > 0, "header_timeout must be > 0");
  require(c.body_timeout.count() > 0, "body_timeout must be > 0");
  require(c.keepalive_timeout.count() > 0, "keepalive_timeout must be > 0");
  require(c.write_timeout.count() > 0, "write_timeout must be > 0");
  require(c.shutdown_timeout.count() >= 0, "shutdown_timeout must be >= 0");
  require(c.drain_idle_grace.count() >= 0, "drain_idle_grace must be >= 0");
  for (const char ch : c.server_name)
    require(ch >= 0x20 && ch != 0x7f, "server_name holds a control character");
  const bool https = !c.tls.certificates.empty();
  require(https || !c.http_redirect_port, "http_redirect_port needs tls certificates");
  require(https || !c.hsts_seconds, "hsts_seconds needs tls certificates");
  require(!c.http_redirect_port || *c.http_redirect_port != c.port || c.port == 0,
          "http_redirect_port must differ from port");
  require(c.tls.ticket_key_lifetime.count() > 0, "tls.ticket_key_lifetime must be > 0");
  for (const int fd : c.listen_fds) require(fd >= 0, "listen_fds holds a negative descriptor");
  require(c.http_redirect_fds.empty() || c.http_redirect_port, "http_redirect_fds needs http_redirect_port");
  for (const int fd : c.http_redirect_fds) require(fd >= 0, "http_redirect_fds holds a negative descriptor");
  if (c.metrics) {
    // Bound without SO_REUSEPORT, but the main listener allows sharing: the same port would
    // bind and quietly split the site's connections with the metrics loop.
    require(c.metrics->port == 0 || c.metrics->port != c.port, "metrics port must differ from port");
    require(c.metrics->port == 0 || !c.http_redirect_port || c.metrics->port != *c.http_redirect_port,
            "metrics port must differ from http_redirect_port");
  }
  if (c.loops == 0)
    c.loops = std::min<std::size_t>(kMaxLoops, std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

// Descriptors kept free for listeners, epoll, eventfds and log files.
constexpr std::size_t kReservedDescriptors = 64;

// A server holds one descriptor per connection: let it use the hard limit,
// and returns the connection cap that fits below it.
std::size_t raise_fd_limit(std::size_t wanted_connections, std::size_t loops) noexcept {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted_connections;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) (void)::getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur == RLIM_INFINITY) return wanted_connections;
  // A connection holds its socket, and an open file only while it sends one
  // (files are shared through the open-file cache): keep a sixteenth of the
  // limit for those, plus the fixed reserve.
  const auto limit = static_cast<std::size_t>(lim.rlim_cur);
  const std::size_t reserve = kReservedDescriptors + 2 * loops + limit / 16;
  const std::size_t fit = limit > reserve ? limit - reserve : 1;
  return std::min(wanted_connections, fit);
}

}  // namespace

class Server::Impl {
 public:
  explicit Impl(Config config) : config_(validated(std::move(config))) {
    if (!config_.tls.certificates.empty()) {
      ticket_keys_ = std::make_shared<tls::TicketKeys>(config_.tls.ticket_key_lifetime);
      tls_ = load_tls();
    }
  }

  // Throws std::invalid_argument naming the file that failed.
  [[nodiscard]] std::shared_ptr<const tls::ServerContext> load_tls() const {
    return std::make_shared<const tls::ServerContext>(
        config_.tls, ticket_keys_,
        config_.http2 ? std::vector<std::string>{"h2", "http/1.1"} : std::vector<std::string>{"http/1.1"});
  }

  void reload_tls() {
    std::lock_guard lock(mutex_);
    const bool any = ticket_keys_ || std::any_of(extra_.begin(), extra_.end(),
                                                 [](const Extra& e) { return e.ticket_keys != nullptr; });
    if (!any) throw std::logic_error("weft::Server::reload_tls: the server has no TLS certificates");
    // Every context first (each throws naming its file): all are replaced, or none.
    std::shared_ptr<const tls::ServerContext> fresh;
    std::vector<std::shared_ptr<const tls::ServerContext>> fresh_extra;
    try {
      if (ticket_keys_) fresh = load_tls();
      for (const Extra& e : extra_)
        fresh_extra.push_back(e.ticket_keys ? load_extra_tls(e.config, e.ticket_keys) : nullptr);
    } catch (...) {
      note_reload(false);
      throw;
    }
    note_reload(true);
    if (ticket_keys_) {
      tls_ = fresh;
      if (shared_) shared_->tls.store(std::move(fresh), std::memory_order_release);
    }
    for (std::size_t i = 0; i < extra_.size(); ++i) {
      if (extra_[i].ticket_keys)
        extra_[i].tls->context.store(std::move(fresh_extra[i]), std::memory_order_release);
    }
  }

  void sites(std::vector<SiteConfig> sites) {
    auto table =
        std::make_shared<const server::VirtualHosts>(std::move(sites), config_.server_name, config_.max_body);
    std::lock_guard lock(mutex_);
    hosts_ = table;
    if (shared_) {
      shared_->hosts.store(std::move(table), std::memory_order_release);
      shared_->hosts_generation.fetch_add(1, std::memory_order_release);
      shared_->use_hosts.store(true, std::memory_order_release);
    }
  }

  std::size_t listener(ListenerConfig config) {
    Extra extra = make_extra(std::move(config));
    std::lock_guard lock(mutex_);
    if (listening_ || started_) throw std::logic_error("weft::Server::listener: already listening");
    extra_.push_back(std::move(extra));
    return extra_.size() - 1;
  }

  // Server::listeners: keeps the listeners that `wanted` names again (same address and port,
  // cleartext or not; their certificates replaced), opens the new ones, closes the others.
  void listeners(std::vector<ListenerConfig> wanted) {
    std::lock_guard lock(mutex_);
    if (stop_requested_) throw std::logic_error("weft::Server::listeners: the server is stopping");
    std::vector<Extra> next;
    std::vector<std::shared_ptr<const tls::ServerContext>> replaced;  // the kept ones' new certificates
    std::vector<std::vector<server::ListenerFd>> opened(listening_ ? config_.loops : 0);
    for (ListenerConfig& config : wanted) {
      const auto same = std::find_if(extra_.begin(), extra_.end(), [&config, &next](const Extra& e) {
        return e.config.bind == config.bind && e.config.port == config.port &&
               e.config.tls.certificates.empty() == config.tls.certificates.empty() &&
               std::none_of(next.begin(), next.end(), [&e](const Extra& n) { return n.id == e.id; });
      });
      if (same != extra_.end()) {
        Extra kept{std::move(config), same->id, same->ticket_keys, same->tls, same->port};
        replaced.push_back(kept.ticket_keys ? load_extra_tls(kept.config, kept.ticket_keys) : nullptr);
        next.push_back(std::move(kept));
        continue;
      }
      Extra fresh = make_extra(std::move(config));
      replaced.push_back(nullptr);
      if (listening_) fresh.port = bind_extra(fresh, opened);
      next.push_back(std::move(fresh));
    }
    // Nothing can fail from here on: the new sockets go to the loops, the old ones are closed.
    std::vector<std::uint64_t> closed;
    for (const Extra& e : extra_) {
      if (std::none_of(next.begin(), next.end(), [&e](const Extra& n) { return n.id == e.id; }))
        closed.push_back(e.id);
    }
    for (std::size_t i = 0; i < next.size(); ++i) {
      if (replaced[i]) next[i].tls->context.store(std::move(replaced[i]), std::memory_order_release);
    }
    for (std::size_t loop = 0; loop < opened.size(); ++loop) {
      if (started_) {
        for (server::ListenerFd& fd : opened[loop]) loops_[loop]->request_add_listener(std::move(fd));
        for (const std::uint64_t id : closed) loops_[loop]->request_remove_listener(id);
      } else {
        auto& set = listeners_[loop];
        std::erase_if(set, [&closed](const server::ListenerFd& fd) {
          return std::find(closed.begin(), closed.end(), fd.id) != closed.end();
        });
        for (server::ListenerFd& fd : opened[loop]) set.push_back(std::move(fd));
      }
    }
    extra_ = std::move(next);
  }

  std::uint16_t listener_port(std::size_t index) const {
    std::lock_guard lock(mutex_);
    return extra_.at(index).port;
  }

  void note_reload(bool succeeded) noexcept {
    (succeeded ? metrics_.reloads : metrics_.reload_failures).fetch_add(1, std::memory_order_relaxed);
  }

  void reopen_access_log() {
    std::lock_guard lock(mutex_);
    if (sink_) sink_->reopen();
  }

  ~Impl() {
    stop();
    if (started_) wait();
  }

  void listen() {
    std::lock_guard lock(mutex_);
    if (listening_ || started_) throw std::logic_error("weft::Server::listen: already listening");
    listen_locked();
  }

  void start() {
    std::unique_lock lock(mutex_);
    if (started_) throw std::logic_error("weft::Server::start: already started");
    if (!listening_) listen_locked();
    // A peer that vanishes mid-write must be an EPIPE, not a dead process.
    // send() uses MSG_NOSIGNAL, but sendfile() cannot.
    std::signal(SIGPIPE, SIG_IGN);

    site_.prepare(config_.server_name);
    pool_ = std::make_unique<ThreadPool>(ThreadPool::Options{
        .threads = config_.threads, .max_queued = config_.max_queued, .name = "weft-worker"});
    shared_ = std::make_unique<server::ServerShared>(config_, site_, *pool_, *sink_);
    shared_->tls.store(tls_);
    shared_->hosts.store(hosts_);
    shared_->hosts_generation.store(1);
    shared_->use_hosts.store(hosts_ != nullptr);
    shared_->https_port = port_.load(std::memory_order_relaxed);
    shared_->on_exit_after = [this] {
      std::lock_guard guard(mutex_);
      handover_ = {};
      for (auto& loop : loops_) loop->request_mode(http::HostMode::kFinishing);
    };
    for (auto& listeners : listeners_) {
      loops_.push_back(std::make_unique<server::ServerLoop>(*shared_, std::move(listeners)));
      metrics_.loops.push_back(&loops_.back()->counters());
    }
    listeners_.clear();
    if (metrics_listener_.fd) {
      // Last in loops_: it drains and stops with the others, and its thread is named apart.
      std::vector<server::ListenerFd> one;
      one.push_back(std::move(metrics_listener_));
      metrics_.pool = pool_.get();
      shared_->metrics = &metrics_;
      loops_.push_back(
          std::make_unique<server::ServerLoop>(*shared_, std::move(one), server::LoopRole::kMetrics));
    }
    const std::size_t site_loops = metrics_.loops.size();
    for (std::size_t i = 0; i < loops_.size(); ++i) {
      threads_.emplace_back([this, i, site_loops] {
        const std::string name = i < site_loops ? "weft-loop-" + std::to_string(i) : "weft-metrics";
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        loops_[i]->run();
      });
    }
    // Which path files over TLS take, once per distinct answer (listeners may differ by --no-ktls).
    std::vector<std::string_view> said;
    const auto say = [&said](const std::shared_ptr<const tls::ServerContext>& context) {
      if (!context) return;
      const std::string_view line = tls::describe(context->ktls_mode());
      if (std::find(said.begin(), said.end(), line) != said.end()) return;
      said.push_back(line);
      log(LogLevel::info, std::string(line));
    };
    say(tls_);
    for (const Extra& e : extra_) {
      if (e.ticket_keys) say(e.tls->context.load(std::memory_order_acquire));
    }
    started_ = true;
    if (stop_requested_) {
      for (auto& loop : loops_) loop->request_mode(http::HostMode::kDraining);
    }
  }

  void wait() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) {
      if (t.joinable()) t.join();
    }
    // Loops are done; finish the handlers still queued (their responses go
    // nowhere), join the workers, then the loops may be destroyed.
    std::lock_guard lock(mutex_);
    if (pool_) pool_->shutdown();
  }

  void stop() noexcept {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    handover_ = {};
    for (auto& loop : loops_) loop->request_mode(http::HostMode::kDraining);
  }

  void stop_now() noexcept {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    handover_ = {};
    for (auto& loop : loops_) loop->request_stop_now();
  }

  [[nodiscard]] Server::Listeners duplicate_listeners() const {
    Server::Listeners out;
    std::lock_guard lock(mutex_);
    if (!handover_.open) return out;
    const auto raw = [](const std::vector<net::UniqueFd>& fds) {
      std::vector<int> numbers;
      numbers.reserve(fds.size());
      for (const auto& fd : fds) numbers.push_back(fd.get());
      return numbers;
    };
    // Handed-over sockets are the caller's and stay open; those the server bound, its copies.
    const std::vector<int> main = config_.listen_fds.empty() ? raw(handover_.main) : config_.listen_fds;
    const std::vector<int> redirect =
        config_.http_redirect_fds.empty() ? raw(handover_.redirect) : config_.http_redirect_fds;
    try {
      for (const int fd : main) out.main.push_back(net::duplicate(fd).release());
      for (const int fd : redirect) out.redirect.push_back(net::duplicate(fd).release());
    } catch (...) {
      for (const int fd : out.main) ::close(fd);
      for (const int fd : out.redirect) ::close(fd);
      throw;
    }
    return out;
  }

  void check_not_started() const {
    if (started_) throw std::logic_error("weft::Server: routes must be registered before start()");
  }

  Config config_;
  server::Site site_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::uint16_t> redirect_port_{0};
  std::atomic<std::uint16_t> metrics_port_{0};

 private:
  // Opens every listening descriptor, one set per loop, and the access log; nothing stays open
  // when it throws. Under mutex_.
  void listen_locked() {
    config_.max_connections = raise_fd_limit(config_.max_connections, config_.loops);
    std::vector<std::vector<server::ListenerFd>> sets(config_.loops);
    std::uint16_t port = 0;
    if (config_.listen_fds.empty()) {
      // One SO_REUSEPORT listener per loop: the kernel spreads connections over them.
      const net::Endpoint first = net::parse_endpoint(config_.bind, config_.port);
      sets[0].push_back({net::listen_tcp(first, kListenBacklog)});
      port = net::local_port(sets[0].front().fd.get());
      const net::Endpoint rest = net::parse_endpoint(config_.bind, port);
      for (std::size_t i = 1; i < sets.size(); ++i)
        sets[i].push_back({net::listen_tcp(rest, kListenBacklog)});
    } else {
      // A socket handed over exists once: every loop watches it through a duplicate of its own,
      // with EPOLLEXCLUSIVE so that a connection wakes one loop rather than all of them.
      for (const int fd : config_.listen_fds) net::prepare_inherited_listener(fd);
      port = net::local_port(config_.listen_fds.front());
      for (auto& set : sets) {
        for (const int fd : config_.listen_fds) set.push_back({net::duplicate(fd), false, true});
      }
    }
    std::uint16_t redirect_port = 0;
    if (!config_.http_redirect_fds.empty()) {
      for (const int fd : config_.http_redirect_fds) net::prepare_inherited_listener(fd);
      redirect_port = net::local_port(config_.http_redirect_fds.front());
      for (auto& set : sets) {
        for (const int fd : config_.http_redirect_fds) set.push_back({net::duplicate(fd), true, true});
      }
    } else if (config_.http_redirect_port) {
      const net::Endpoint first = net::parse_endpoint(config_.bind, *config_.http_redirect_port);
      sets[0].push_back({net::listen_tcp(first, kListenBacklog), true});
      redirect_port = net::local_port(sets[0].back().fd.get());
      const net::Endpoint same = net::parse_endpoint(config_.bind, redirect_port);
      for (std::size_t i = 1; i < sets.size(); ++i)
        sets[i].push_back({net::listen_tcp(same, kListenBacklog), true});
    }
    for (Extra& e : extra_) e.port = bind_extra(e, sets);
    net::UniqueFd metrics_fd;
    std::uint16_t metrics_port = 0;
    if (config_.metrics) {
      metrics_fd = net::listen_tcp(net::parse_endpoint(config_.metrics->bind, config_.metrics->port),
                                   kListenBacklog, false);
      metrics_port = net::local_port(metrics_fd.get());
    }
    sink_ = std::make_unique<server::AccessLogSink>(config_.access_log, config_.access_log_format);
    // A copy of each socket the server bound, so that duplicate_listeners() never races with a
    // loop closing its own descriptor; closed when the drain begins.
    Handover handover;
    handover.open = true;
    if (config_.listen_fds.empty()) {
      for (const auto& set : sets) handover.main.push_back(net::duplicate(set.front().fd.get()));
    }
    if (config_.http_redirect_fds.empty() && config_.http_redirect_port) {
      for (const auto& set : sets) {
        for (const auto& listener : set) {
          if (listener.redirect) handover.redirect.push_back(net::duplicate(listener.fd.get()));
        }
      }
    }
    handover_ = std::move(handover);
    metrics_listener_ = server::ListenerFd{std::move(metrics_fd)};
    metrics_port_.store(metrics_port, std::memory_order_release);
    listeners_ = std::move(sets);
    port_.store(port, std::memory_order_release);
    redirect_port_.store(redirect_port, std::memory_order_release);
    listening_ = true;
  }

  // One listener() and its certificates.
  struct Extra {
    ListenerConfig config;
    std::uint64_t id = 0;
    std::shared_ptr<tls::TicketKeys> ticket_keys;  // null: cleartext
    std::shared_ptr<server::ListenerTls> tls;      // what its acceptors read
    std::uint16_t port = 0;
  };
  [[nodiscard]] static std::shared_ptr<const tls::ServerContext> load_extra_tls(
      const ListenerConfig& config, const std::shared_ptr<tls::TicketKeys>& keys) {
    return std::make_shared<const tls::ServerContext>(config.tls, keys, std::vector<std::string>{"http/1.1"});
  }
  // Checks the address and loads the certificates: throws std::invalid_argument.
  Extra make_extra(ListenerConfig config) {
    (void)net::parse_endpoint(config.bind, config.port);
    Extra extra;
    extra.id = next_listener_id_.fetch_add(1, std::memory_order_relaxed);
    extra.tls = std::make_shared<server::ListenerTls>();
    if (!config.tls.certificates.empty()) {
      require(config.tls.ticket_key_lifetime.count() > 0, "listener tls.ticket_key_lifetime must be > 0");
      extra.ticket_keys = std::make_shared<tls::TicketKeys>(config.tls.ticket_key_lifetime);
      extra.tls->context.store(load_extra_tls(config, extra.ticket_keys));
    }
    extra.config = std::move(config);
    return extra;
  }
  // One SO_REUSEPORT socket of `e` per loop, added to `sets`; returns the bound port. Throws
  // std::system_error (what it opened closes with `sets`).
  static std::uint16_t bind_extra(const Extra& e, std::vector<std::vector<server::ListenerFd>>& sets) {
    const net::Endpoint first = net::parse_endpoint(e.config.bind, e.config.port);
    sets[0].push_back({net::listen_tcp(first, kListenBacklog), false, false, e.tls, e.id});
    const std::uint16_t port = net::local_port(sets[0].back().fd.get());
    const net::Endpoint same = net::parse_endpoint(e.config.bind, port);
    for (std::size_t i = 1; i < sets.size(); ++i)
      sets[i].push_back({net::listen_tcp(same, kListenBacklog), false, false, e.tls, e.id});
    return port;
  }

  std::atomic<std::uint64_t> next_listener_id_{1};
  std::shared_ptr<tls::TicketKeys> ticket_keys_;   // shared by every reload's contexts
  std::shared_ptr<const tls::ServerContext> tls_;  // the latest loaded (guarded by mutex_)
  // Guards listening_, started_, stop_requested_, listeners_, handover_, loops_ (the vector),
  // threads_, extra_, hosts_.
  mutable std::mutex mutex_;
  std::vector<Extra> extra_;
  std::shared_ptr<const server::VirtualHosts> hosts_;  // the latest sites(); null: site_
  bool listening_ = false;
  bool started_ = false;
  bool stop_requested_ = false;
  std::unique_ptr<server::AccessLogSink> sink_;
  struct Handover {
    bool open = false;  // duplicate_listeners() gives sockets
    std::vector<net::UniqueFd> main;
    std::vector<net::UniqueFd> redirect;
  };
  Handover handover_;  // from listen() until the drain begins (guarded by mutex_)
  std::vector<std::vector<server::ListenerFd>> listeners_;  // per loop, from listen() to start()
  server::ListenerFd metrics_listener_;                     // likewise (none without Config::metrics)
  // Read by the metrics loop; its `loops` is filled before any loop thread starts. Declared
  // before loops_, so that it outlives them.
  server::MetricsSources metrics_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<server::ServerShared> shared_;
  std::vector<std::unique_ptr<server::ServerLoop>> loops_;  // destroyed after pool_ is shut down
  std::vector<std::thread> threads_;
};

Server::Server(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() = default;

Server& Server::route(std::string_view method, std::string_view pattern, Handler handler,
                      RouteOptions options) {
  impl_->check_not_started();
  impl_->site_.add_handler(method, pattern, std::move(handler), options, impl_->config_.max_body);
  return *this;
}

Server& Server::route(std::string_view method, std::string_view pattern, AsyncHandler handler,
                      RouteOptions options) {
  impl_->check_not_started();
  impl_->site_.add_handler(method, pattern, std::move(handler), options, impl_->config_.max_body);
  return *this;
}

Server& Server::fixed(std::string_view pattern, Response response) {
  impl_->check_not_started();
  impl_->site_.add_fixed(pattern, std::move(response));
  return *this;
}

Server& Server::not_found(Response response) {
  impl_->check_not_started();
  impl_->site_.set_not_found(std::move(response));
  return *this;
}

Server& Server::static_dir(std::string_view prefix, const std::string& directory, StaticOptions options) {
  impl_->check_not_started();
  impl_->site_.add_static(prefix, directory, std::move(options));
  return *this;
}

void Server::listen() { impl_->listen(); }
void Server::start() { impl_->start(); }
void Server::wait() { impl_->wait(); }
void Server::run() {
  start();
  wait();
}
void Server::stop() noexcept { impl_->stop(); }
void Server::stop_now() noexcept { impl_->stop_now(); }
std::uint16_t Server::port() const noexcept { return impl_->port_.load(std::memory_order_acquire); }
std::uint16_t Server::redirect_port() const noexcept {
  return impl_->redirect_port_.load(std::memory_order_acquire);
}
void Server::reload_tls() { impl_->reload_tls(); }
void Server::sites(std::vector<SiteConfig> sites) { impl_->sites(std::move(sites)); }
std::size_t Server::listener(ListenerConfig listener) { return impl_->listener(std::move(listener)); }
void Server::listeners(std::vector<ListenerConfig> listeners) { impl_->listeners(std::move(listeners)); }
std::uint16_t Server::listener_port(std::size_t index) const { return impl_->listener_port(index); }
void Server::note_reload(bool succeeded) noexcept { impl_->note_reload(succeeded); }
std::uint16_t Server::metrics_port() const noexcept {
  return impl_->metrics_port_.load(std::memory_order_acquire);
}
void Server::reopen_access_log() { impl_->reopen_access_log(); }
Server::Listeners Server::duplicate_listeners() const { return impl_->duplicate_listeners(); }
const Config& Server::config() const noexcept { return impl_->config_; }

}  // namespace weft
