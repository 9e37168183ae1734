#pragma once
/// \file
/// weft::Server: an HTTP/1.1 server (cleartext or HTTPS: Config::tls) with a router whose
/// handlers run on a ThreadPool.
///
/// Event-loop threads own the sockets (Config::loops, each with its own epoll
/// and SO_REUSEPORT listener, or a share of the sockets a supervisor handed over:
/// Config::listen_fds); a handler runs on the server's ThreadPool and
/// its Response goes back to the connection's loop. A loop never blocks and
/// never runs a handler. See DESIGN.md.
///
/// Usage:
///   weft::Server server(weft::Config{.port = 8080});
///   server.get("/hello/{name}", [](const weft::Request& req) {
///     return weft::Response::text(200, "hi " + std::string(req.param("name")));
///   });
///   server.run();   // blocks until stop()
///
/// Handlers may also answer later or stream (AsyncHandler, weft/reply.hpp), and read a request
/// body as it arrives (RouteOptions::stream_body, weft/body_reader.hpp).
///
/// Thread safety: route registration (get/post/.../static_dir) must finish
/// before start()/run(); stop() and port() may be called from any thread,
/// including a handler.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/config.hpp"
#include "weft/reply.hpp"
#include "weft/request.hpp"
#include "weft/response.hpp"
#include "weft/static_options.hpp"
#include "weft/virtual_hosts.hpp"

namespace weft {

/// A route handler: runs on a pool worker and returns the answer. An exception becomes a 500
/// and one log line.
using Handler = std::function<Response(const Request&)>;

/// An asynchronous handler: runs on a pool worker, may return at once and answer later through
/// `reply` from any thread, or stream the answer (weft/reply.hpp). An exception thrown before
/// the Reply was moved elsewhere becomes a 500 (the Reply answers it when destroyed).
using AsyncHandler = std::function<void(Request, Reply)>;

/// How a route reads its request body.
struct RouteOptions {
  /// Hand the body over as it arrives (Request::body_reader()) instead of buffering it; the
  /// handler runs as soon as the head has arrived. For uploads of any size.
  bool stream_body = false;
  /// The most body bytes accepted (more -> 413 and close); nullopt = Config::max_body; 0 = no
  /// limit (only with stream_body: a buffered body always has one).
  std::optional<std::uint64_t> max_body = std::nullopt;
};

class Server {
 public:
  /// Validates `config` and loads its TLS certificates: throws std::invalid_argument naming the
  /// bad field, or the certificate or key file and OpenSSL's reason.
  explicit Server(Config config);
  /// stop() and wait(), if running.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  /// Registers `handler` for `method` and `pattern`. A pattern is a path of
  /// segments, each literal or "{name}" (one segment, available as
  /// Request::param("name")); a final "{name...}" takes the rest of the path.
  /// GET routes also answer HEAD (the body is dropped). A known path with
  /// another method -> 405 with Allow. Throws std::invalid_argument for a bad
  /// pattern or a duplicate route; std::logic_error after start().
  /// `options` say how the body is read (std::invalid_argument: max_body 0 without stream_body).
  Server& route(std::string_view method, std::string_view pattern, Handler handler,
                RouteOptions options = {});
  /// The same for a handler that answers through a Reply (later, from any thread, or streamed).
  Server& route(std::string_view method, std::string_view pattern, AsyncHandler handler,
                RouteOptions options = {});
  template <typename F>
  Server& get(std::string_view pattern, F&& handler, RouteOptions options = {}) {
    return route("GET", pattern, as_handler(std::forward<F>(handler)), options);
  }
  template <typename F>
  Server& post(std::string_view pattern, F&& handler, RouteOptions options = {}) {
    return route("POST", pattern, as_handler(std::forward<F>(handler)), options);
  }
  template <typename F>
  Server& put(std::string_view pattern, F&& handler, RouteOptions options = {}) {
    return route("PUT", pattern, as_handler(std::forward<F>(handler)), options);
  }
  template <typename F>
  Server& del(std::string_view pattern, F&& handler, RouteOptions options = {}) {
    return route("DELETE", pattern, as_handler(std::forward<F>(handler)), options);
  }

  /// Answers GET and HEAD of `pattern` with `response` on the event loop
  /// itself (no pool round trip): for constant pages such as the built-in
  /// site. Same pattern rules and exceptions as route().
  Server& fixed(std::string_view pattern, Response response);

  /// The response for a request that no route matches, instead of the
  /// built-in 404 page (its status is kept as given; HEAD drops the body).
  /// Served on the event loop.
  Server& not_found(Response response);

  /// Serves the files under `directory` at URL `prefix` (GET and HEAD; OPTIONS
  /// answered; other methods 405), on the event loops (a directory listing is
  /// built on a pool worker). See StaticOptions for what is served and how.
  /// Throws std::invalid_argument when `directory` is not a readable directory
  /// or `options` is invalid. Routes registered with route() win over it.
  Server& static_dir(std::string_view prefix, const std::string& directory, StaticOptions options = {});

  /// Serves these virtual hosts (weft/virtual_hosts.hpp) instead of what route(), fixed(),
  /// not_found() and static_dir() registered. Any thread, any time: after start(), requests
  /// routed from then on use the new sites, while requests already routed finish with the sites
  /// they started with (freed after the last of them). Throws std::invalid_argument naming the
  /// site and the field (an unreadable root, a bad host name, header or redirect); the sites in
  /// force stay then.
  void sites(std::vector<SiteConfig> sites);

  /// Adds a listening address with its own certificates (or none: cleartext), served like the
  /// main one (each loop its own SO_REUSEPORT socket). Before listen(): std::logic_error after.
  /// Loads the certificates now: throws std::invalid_argument naming the file and the reason,
  /// or a bad address. Returns the listener's index for listener_port().
  std::size_t listener(ListenerConfig listener);
  /// Replaces the listener() set, any time before stop(): a listener that `listeners` names
  /// again (same bind and port, HTTPS or not) stays open and takes the certificates given now; the
  /// others open (bound now: a port 0 gets its free port) or close. A closed listener accepts no
  /// more, while the connections it accepted go on to their end. Throws, with nothing changed:
  /// std::invalid_argument (an address, a certificate), std::system_error (a port in use),
  /// std::logic_error after stop().
  void listeners(std::vector<ListenerConfig> listeners);
  /// The bound port of the index-th listener (in the order of listener() calls, or of the last
  /// listeners()); 0 before listen(). std::out_of_range for a bad index.
  [[nodiscard]] std::uint16_t listener_port(std::size_t index) const;

  /// Binds every listener (or takes Config::listen_fds) and opens the access log, without
  /// serving yet: connections wait in the kernel's backlog until start(). For a program that
  /// gives up privileges between the two (a port below 1024, root-only files), so that no
  /// request is ever served with them. Optional: start() calls it when it has not run.
  /// Throws std::system_error (e.g. address in use, access log not writable) or
  /// std::invalid_argument (bad bind address, a listen_fds descriptor that is not a listening
  /// TCP socket); nothing is left open then. std::logic_error when called twice.
  void listen();
  /// listen() if it has not run, then starts the loops and the pool; returns once the server
  /// accepts connections. Throws as listen() does; nothing is left running then.
  void start();
  /// Blocks until the server has stopped (after stop(), or Config::exit_after
  /// connections have finished) and every thread is joined.
  void wait();
  /// start() then wait().
  void run();
  /// Begins a graceful drain (DESIGN.md, Shutdown): listeners close at once,
  /// idle connections close, in-flight requests finish with Connection: close,
  /// and what remains after Config::shutdown_timeout is closed. Returns at once;
  /// idempotent; safe from any thread and from a handler.
  void stop() noexcept;
  /// Stops at once: closes every connection without waiting (a second SIGINT).
  void stop_now() noexcept;

  /// The bound port (useful with Config::port = 0), or that of the first of Config::listen_fds;
  /// 0 before listen().
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// The bound port of Config::http_redirect_port; 0 before listen() or without one.
  [[nodiscard]] std::uint16_t redirect_port() const noexcept;
  /// The bound port of Config::metrics; 0 before listen() or without one.
  [[nodiscard]] std::uint16_t metrics_port() const noexcept;
  /// Counts a reload the application performed (a configuration re-read, say) in the metrics'
  /// weft_reloads_total, or weft_reload_failures_total when it failed. reload_tls() counts
  /// itself: do not note it again. Any thread, any time.
  void note_reload(bool succeeded = true) noexcept;
  /// Loads Config::tls's certificates and keys again (from their files; PEM text as given), and
  /// those of every listener(), and makes new connections use them; connections already open keep theirs.
  /// Throws std::invalid_argument naming the file and the reason when one fails (the certificates in force
  /// stay), std::logic_error when the server has no TLS. Any thread, any time.
  void reload_tls();
  /// Opens Config::access_log again, for a log rotated by renaming (logrotate without
  /// copytruncate): the lines written after it go to a new file of that name. Throws
  /// std::system_error naming the file when it cannot be opened (lines keep going to the old one).
  /// Nothing to do for stdout, without an access log, or before listen(). Any thread, any time.
  void reopen_access_log();
  /// Listening sockets as another process needs them to take over this server's ports without
  /// closing them (a binary upgrade): close-on-exec duplicates, owned by the caller, of every
  /// main listener (one per loop when the server bound them, one per Config::listen_fds) in
  /// `main`, and of the http_redirect_port listeners in `redirect`. Both empty before listen()
  /// and once stop() or stop_now() was called (the sockets are closing then: a successor would
  /// inherit connections nobody accepts). Throws std::system_error when a dup fails. Any thread.
  struct Listeners {
    std::vector<int> main;
    std::vector<int> redirect;
  };
  [[nodiscard]] Listeners duplicate_listeners() const;
  /// The configuration in force (loops resolved to a number).
  [[nodiscard]] const Config& config() const noexcept;

 private:
  // A callable taking (Request, Reply) is an AsyncHandler; anything else must be a Handler.
  template <typename F>
  static auto as_handler(F&& f) {
    if constexpr (std::is_invocable_v<F&, Request, Reply>) {
      return AsyncHandler(std::forward<F>(f));
    } else {
      return Handler(std::forward<F>(f));
    }
  }

  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft
