// weft: the command-line server (README). CLI -> Config -> Server; signal
// handling lives here and only here (shutdown_signals.hpp).
//
// Every failure ends as one line on stderr and an exit code (cli.hpp):
// 2 for a wrong command line, 1 for a failure to start or run. Nothing here
// lets an exception escape main.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "builtin_site.hpp"
#include "cli.hpp"
#include "config_file.hpp"
#include "demo_streams.hpp"
#include "privileges.hpp"
#include "shutdown_signals.hpp"
#include "sleeper.hpp"
#include "systemd.hpp"
#include "upgrade.hpp"
#include "weft/server.hpp"

namespace {

using weft::app::kExitOk;
using weft::app::kExitRuntime;
using weft::app::kExitUsage;

// "127.0.0.1:7878" or "[::1]:7878".
std::string host_port(const std::string& address, unsigned port) {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

// One line naming the address, without repeating it when the library's message already does
// ("bind 127.0.0.1:7878: Address already in use").
std::string start_failure(const std::string& address, const std::exception& e) {
  const std::string what = e.what();
  if (what.find(address) != std::string::npos) {
    return "weft: cannot start: " + what + "\n";
  }
  return "weft: cannot start on " + address + ": " + what + "\n";
}

// "127.0.0.1:7878" or "[::1]:7878": the address a handed-over socket listens on.
std::string socket_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    if (addr.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      port = ntohs(v6->sin6_port);
    } else if (addr.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      port = ntohs(v4->sin_port);
    }
  }
  return host_port(text, port);
}

// " 'name'" for a named socket (LISTEN_FDNAMES), else nothing.
std::string socket_name(const weft::app::InheritedSockets& sockets, std::size_t i) {
  return i < sockets.names.size() && !sockets.names[i].empty() ? " '" + sockets.names[i] + "'" : "";
}

const char* plural(std::size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

// "weft: FILE:LINE:COL: message" lines of a configuration file that does not load.
void print_errors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) std::fprintf(stderr, "weft: %s\n", e.c_str());
}

// The main listener of a plan (the first [[listen]] and --http-redirect), and the others, to
// tell what a reload changed.
std::string main_listener_of(const weft::app::Plan& plan) {
  std::string out = plan.options.config.bind + ":" + std::to_string(plan.options.config.port);
  for (const auto& c : plan.options.config.tls.certificates) out += " " + c.cert_file + " " + c.key_file;
  if (plan.options.config.http_redirect_port)
    out += " r" + std::to_string(*plan.options.config.http_redirect_port);
  return out;
}
std::string other_listeners_of(const weft::app::Plan& plan) {
  std::string out;
  for (const auto& l : plan.listeners) {
    out += "|" + l.bind + ":" + std::to_string(l.port);
    for (const auto& c : l.tls.certificates) out += " " + c.cert_file + " " + c.key_file;
  }
  return out;
}

// --check-config: what the file and the library accept, without binding anything.
int check_config(const weft::app::Plan& plan) {
  const std::string& file = plan.options.config_file;
  const std::string first = plan.listener_where.empty() ? file : plan.listener_where.front();
  std::optional<weft::Server> server;
  try {
    server.emplace(plan.options.config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: %s: %s\n", first.c_str(), e.what());
    return kExitUsage;
  }
  int status = kExitOk;
  for (std::size_t i = 0; i < plan.listeners.size(); ++i) {
    try {
      (void)server->listener(plan.listeners[i]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft: %s: %s\n", plan.listener_where[i + 1].c_str(), e.what());
      status = kExitUsage;
    }
  }
  if (!plan.sites.empty()) {
    try {
      server->sites(plan.sites);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft: %s: %s\n", file.c_str(), e.what());
      status = kExitUsage;
    }
  }
  if (!plan.options.user.empty()) {
    const auto identity = weft::app::resolve_identity(plan.options.user);
    if (const auto* problem = std::get_if<std::string>(&identity)) {
      std::fprintf(stderr, "weft: %s: user: %s\n", file.c_str(), problem->c_str());
      status = kExitUsage;
    }
  }
  if (status == kExitOk) std::printf("weft: %s: configuration OK\n", file.c_str());
  return status;
}

// What a reload leaves as the server started with: the Config, but for the first listener (its
// own warning says so) and the descriptors a supervisor or an upgrade handed over.
weft::Config settings_of(const weft::app::Plan& plan) {
  weft::Config c = plan.options.config;
  c.bind.clear();
  c.port = 0;
  c.http_redirect_port.reset();
  c.listen_fds.clear();
  c.http_redirect_fds.clear();
  return c;
}

// SIGHUP with --config: the file again. Its sites and every certificate replace those in force,
// then the listeners after the first open and close as the file says; when anything fails, what
// it concerns stays as it was and one line says why.
void reload_config(weft::Server& server, weft::app::Plan& running,
                   const std::vector<std::string>& command_line, const weft::app::Options& cli, bool tty) {
  const std::string file = running.options.config_file;
  const std::string kept = "SIGHUP received: " + file + " not reloaded, keeping the configuration in force: ";
  auto loaded = weft::app::load_config(file, command_line, cli, tty);
  if (const auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
    const std::size_t more = errors->size() - 1;
    weft::log(weft::LogLevel::error,
              kept + errors->front() + (more > 0 ? " (and " + std::to_string(more) + " more)" : ""));
    server.note_reload(false);
    return;
  }
  auto& fresh = std::get<weft::app::Plan>(loaded);
  if (fresh.sites.empty() && !running.sites.empty()) {
    weft::log(weft::LogLevel::error, kept + "it has no site any more (the built-in site needs a restart)");
    server.note_reload(false);
    return;
  }
  // reload_tls() counts itself in the metrics, as a success or a failure: only a reload without
  // certificates is counted here.
  const bool https = !running.options.config.tls.certificates.empty() ||
                     std::any_of(running.listeners.begin(), running.listeners.end(),
                                 [](const weft::ListenerConfig& l) { return !l.tls.certificates.empty(); });
  try {
    if (https) server.reload_tls();
    if (!fresh.sites.empty()) server.sites(fresh.sites);
  } catch (const std::exception& e) {
    weft::log(weft::LogLevel::error, kept + e.what());
    if (!https) server.note_reload(false);
    return;
  }
  if (!https) server.note_reload(true);
  running.sites = fresh.sites;
  weft::log(weft::LogLevel::info, "SIGHUP received: " + file + " reloaded (" +
                                      std::to_string(fresh.sites.size()) +
                                      (fresh.sites.size() == 1 ? " site)" : " sites)"));
  if (settings_of(fresh) != settings_of(running)) {
    weft::log(weft::LogLevel::warn,
              "SIGHUP: " + file +
                  " changed settings beyond the sites, the listeners after the first and "
                  "the certificates' contents (limits, timeouts, logging, ...); they apply "
                  "at the next start (SIGUSR2 upgrades in place)");
  }
  if (main_listener_of(fresh) != main_listener_of(running)) {
    weft::log(weft::LogLevel::warn, "SIGHUP: the first [[listen]] of " + file +
                                        " (or --http-redirect) changed; it stays as it is until a restart");
  }
  if (other_listeners_of(fresh) == other_listeners_of(running)) return;
  try {
    server.listeners(fresh.listeners);
  } catch (const std::exception& e) {
    weft::log(weft::LogLevel::error, "SIGHUP: the listeners of " + file + " stay as they were: " + e.what());
    return;
  }
  running.listeners = fresh.listeners;
  std::string now = "SIGHUP: listening on " +
                    std::string(server.config().tls.certificates.empty() ? "http" : "https") + "://" +
                    host_port(running.options.config.bind, server.port()) + "/";
  for (std::size_t i = 0; i < running.listeners.size(); ++i) {
    now += std::string(", ") + (running.listeners[i].tls.certificates.empty() ? "http" : "https") + "://" +
           host_port(running.listeners[i].bind, server.listener_port(i)) + "/";
  }
  weft::log(weft::LogLevel::info, now);
}

int run(int argc, char** argv) {
  auto parsed = weft::app::parse_command_line(argc, argv, ::isatty(STDOUT_FILENO) == 1);
  if (const auto* exit = std::get_if<weft::app::Exit>(&parsed)) {
    return exit->code;
  }
  auto& options = std::get<weft::app::Options>(parsed);
  // --config: the file's keys, then the command line over them (config_file.hpp).
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const std::vector<std::string> command_line(argv + 1, argv + argc);
  const weft::app::Options cli = options;
  std::optional<weft::app::Plan> plan;
  if (!options.config_file.empty()) {
    auto loaded = weft::app::load_config(options.config_file, command_line, cli, tty);
    if (const auto* errors = std::get_if<std::vector<std::string>>(&loaded)) {
      print_errors(*errors);
      return kExitUsage;
    }
    plan = std::move(std::get<weft::app::Plan>(loaded));
    if (cli.check_only) return check_config(*plan);
    options = plan->options;
  }
  weft::set_log_level(options.log_level);
  const std::string self = weft::app::own_path(argv[0]);  // what SIGUSR2 starts again

  // A binary upgrade: the previous process hands over its sockets (upgrade.hpp).
  auto handover_or_error = weft::app::handed_over();
  if (const auto* problem = std::get_if<std::string>(&handover_or_error)) {
    std::fprintf(stderr, "weft: upgrade: %s\n", problem->c_str());
    return kExitRuntime;
  }
  auto& handover = std::get<weft::app::HandOver>(handover_or_error);

  // Socket activation: serve what systemd bound instead of binding --bind/--port.
  auto inherited_or_error = weft::app::inherited_sockets();
  if (const auto* problem = std::get_if<std::string>(&inherited_or_error)) {
    std::fprintf(stderr, "weft: socket activation: %s\n", problem->c_str());
    return kExitRuntime;
  }
  const auto& inherited = std::get<weft::app::InheritedSockets>(inherited_or_error);
  options.config.listen_fds = inherited.fds;
  if (handover.present()) {
    options.config.listen_fds = handover.listen_fds;
    options.config.http_redirect_fds = handover.redirect_fds;
  }
  const bool activated = !options.config.listen_fds.empty();

  if (!plan && !options.root.empty()) {
    if (const std::string problem = weft::app::check_root(options.root); !problem.empty()) {
      std::fprintf(stderr, "weft: %s\n", problem.c_str());
      return kExitUsage;
    }
  }

  // --user: resolved now, so that a typo or a missing right stops weft before it binds anything.
  std::optional<weft::app::Identity> identity;
  if (!options.user.empty()) {
    auto resolved = weft::app::resolve_identity(options.user);
    if (const auto* problem = std::get_if<std::string>(&resolved)) {
      std::fprintf(stderr, "weft: %s\n", problem->c_str());
      return kExitUsage;
    }
    identity = std::get<weft::app::Identity>(resolved);
    if (const std::string problem = weft::app::check_can_become(*identity); !problem.empty()) {
      std::fprintf(stderr, "weft: %s\n", problem.c_str());
      return kExitRuntime;
    }
  }

  const weft::app::Notifier systemd;  // NOTIFY_SOCKET, when systemd runs weft as Type=notify

  // Declared before the server: /sleep handlers and /events streams hold references to them
  // until the server is gone.
  weft::app::Sleeper sleeper;
  weft::TimerQueue timers;
  std::optional<weft::Server> server;
  try {
    server.emplace(options.config);
    if (plan) {
      for (const weft::ListenerConfig& listener : plan->listeners) (void)server->listener(listener);
    }
    if (plan && !plan->sites.empty()) {
      server->sites(plan->sites);
    } else if (options.root.empty()) {
      weft::app::add_builtin_site(*server, sleeper);
      weft::app::add_demo_streams(*server, timers);
    } else {
      server->static_dir("/", options.root, options.static_options);
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "weft: invalid configuration: %s\n", e.what());
    return kExitUsage;
  }

  const std::string& bind = options.config.bind;
  const std::string given =
      handover.present() ? "the sockets the previous process passed" : "the sockets systemd passed";
  const std::string where = activated ? given : host_port(bind, options.config.port);
  try {
    server->listen();
    // Bound, certificates and keys read, access log open, nothing served yet: give up root now.
    if (identity) {
      // The access log stays open across the switch; a new process after SIGUSR2 opens it as the user.
      if (const std::string& log = options.config.access_log; !log.empty() && log != "-") {
        if (const std::string problem = weft::app::hand_over_file(log, *identity); !problem.empty()) {
          weft::log(weft::LogLevel::warn, problem);
        }
      }
      if (const std::string problem = weft::app::become(*identity); !problem.empty()) {
        std::fprintf(stderr, "weft: %s\n", problem.c_str());
        return kExitRuntime;
      }
      weft::log(weft::LogLevel::info, "running as user " + identity->user + " (uid " +
                                          std::to_string(identity->uid) + "), group " + identity->group +
                                          " (gid " + std::to_string(identity->gid) + ")");
    }
    server->start();
  } catch (const std::invalid_argument& e) {
    std::fputs(start_failure(where, e).c_str(), stderr);
    // A bad --bind is the command line's fault; a bad inherited socket is the unit's.
    return activated ? kExitRuntime : kExitUsage;
  } catch (const std::system_error& e) {
    std::fputs(start_failure(where, e).c_str(), stderr);
    return kExitRuntime;
  }

  const weft::Config& running = server->config();
  std::string site = options.root.empty() ? "built-in site" : "serving " + options.root;
  if (plan && (plan->sites.size() > 1 || (plan->sites.size() == 1 && !plan->sites.front().hosts.empty()))) {
    site = std::to_string(plan->sites.size()) + " " + plural(plan->sites.size(), "site", "sites") + " from " +
           options.config_file;
  }
  const bool https = !running.tls.certificates.empty();
  const char* scheme = https ? "https" : "http";
  const std::string first =
      activated ? socket_address(running.listen_fds.front()) : host_port(bind, server->port());
  const std::string predecessor = "sockets from process " + std::to_string(::getppid()) + ", ";
  const std::string from = handover.present() ? predecessor
                           : activated        ? "socket from systemd" + socket_name(inherited, 0) + ", "
                                              : "";
  const std::string listening = "weft listening on " + std::string(scheme) + "://" + first + "/";
  // Every signal has its handler before the first line goes out: whoever waits for that line (a
  // script, a test counting descriptors, a supervisor) sees the whole process, not a half-made one.
  weft::app::Upgrader upgrader({.path = self, .args = {argv + 1, argv + argc}, .server = &*server});
  weft::app::ShutdownSignals signals({
      .drain =
          [&server, &systemd, &upgrader](int) {
            upgrader.stop();
            // After an upgrade the service goes on, in the new process: systemd must not hear
            // that it stops.
            if (upgrader.successor() == 0) systemd.stopping();
            server->stop();
          },
      // The server closes what remains at the deadline; wake sleeping /sleep workers too,
      // so the pool can be joined now rather than when their sleeps end.
      .drain_expired = [&sleeper] { sleeper.cancel(); },
      .force =
          [&server, &sleeper](int) {
            sleeper.cancel();
            server->stop_now();
          },
      .reload =
          [&server, &systemd, &listening, &plan, &command_line, &cli, https, tty] {
            // systemd hears of every reload, even one with nothing to do: `systemctl reload`
            // then always sees the service go through "reloading" and back to "ready".
            systemd.reloading();
            if (plan) {
              reload_config(*server, *plan, command_line, cli, tty);
            } else if (!https) {
              weft::log(weft::LogLevel::info, "SIGHUP received: nothing to reload (no TLS certificates)");
            } else {
              try {
                server->reload_tls();
                weft::log(weft::LogLevel::info, "SIGHUP received: certificates reloaded");
              } catch (const std::exception& e) {
                weft::log(weft::LogLevel::error,
                          std::string("SIGHUP received: reload failed, keeping the certificates in force: ") +
                              e.what());
              }
            }
            systemd.ready(listening);
          },
      .reopen_logs =
          [&server, &options] {
            const std::string& log = options.config.access_log;
            if (log.empty() || log == "-") {
              weft::log(weft::LogLevel::info, "SIGUSR1 received: no access-log file to reopen");
              return;
            }
            try {
              server->reopen_access_log();
              weft::log(weft::LogLevel::info, "SIGUSR1 received: access log " + log + " reopened");
            } catch (const std::exception& e) {
              weft::log(weft::LogLevel::error,
                        std::string("SIGUSR1 received: cannot reopen the access log, still writing to the "
                                    "old file: ") +
                            e.what());
            }
          },
      .upgrade = [&upgrader](std::function<void()> drain) { upgrader.start(std::move(drain)); },
      .drain_timeout = options.config.shutdown_timeout,
  });
  std::printf("%s (%s%s, %zu %s, %zu %s)\n", listening.c_str(), from.c_str(), site.c_str(), running.loops,
              plural(running.loops, "loop", "loops"), running.threads,
              plural(running.threads, "thread", "threads"));
  // A socket per loop on one address (handed over by a previous process) is named once.
  std::vector<std::string> named{first};
  for (std::size_t i = 1; i < running.listen_fds.size(); ++i) {
    const std::string address = socket_address(running.listen_fds[i]);
    if (std::find(named.begin(), named.end(), address) != named.end()) continue;
    named.push_back(address);
    const std::string source = handover.present() ? "socket from process " + std::to_string(::getppid())
                                                  : "socket from systemd" + socket_name(inherited, i);
    std::printf("weft also listening on %s://%s/ (%s)\n", scheme, address.c_str(), source.c_str());
  }
  if (plan) {
    for (std::size_t i = 0; i < plan->listeners.size(); ++i) {
      const bool tls = !plan->listeners[i].tls.certificates.empty();
      std::printf("weft also listening on %s://%s/\n", tls ? "https" : "http",
                  host_port(plan->listeners[i].bind, server->listener_port(i)).c_str());
    }
  }
  if (running.http_redirect_port) {
    const std::string redirect = running.http_redirect_fds.empty()
                                     ? host_port(bind, server->redirect_port())
                                     : socket_address(running.http_redirect_fds.front());
    std::printf("weft redirecting http://%s/ to https\n", redirect.c_str());
  }
  if (running.metrics) {
    std::printf("weft metrics on http://%s/metrics\n",
                host_port(running.metrics->bind, server->metrics_port()).c_str());
  }
  std::fflush(stdout);

  // Serving, and every signal has its handler: only now is the service ready. After an upgrade,
  // systemd first learns that this process is now the service's main one (NotifyAccess=all), and
  // only then does the previous process hear that it may drain.
  if (handover.present()) systemd.send("MAINPID=" + std::to_string(::getpid()));
  systemd.ready(listening);
  weft::app::tell_ready(handover);
  server->wait();
  upgrader.close();
  if (upgrader.successor() == 0) systemd.stopping();  // when --exit-after ended it, no signal said so
  signals.close();
  if (signals.forced_by() != 0) {
    return weft::app::kExitSignalBase + signals.forced_by();
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    // First, before any thread exists, so that every thread inherits the mask.
    weft::app::block_shutdown_signals();
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: error: %s\n", e.what());
  } catch (...) {
    std::fputs("weft: error: unknown exception\n", stderr);
  }
  return kExitRuntime;
}
