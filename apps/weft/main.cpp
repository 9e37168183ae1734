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

#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>

#include "builtin_site.hpp"
#include "cli.hpp"
#include "demo_streams.hpp"
#include "privileges.hpp"
#include "shutdown_signals.hpp"
#include "sleeper.hpp"
#include "systemd.hpp"
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

// Empty when `root` is a directory weft can serve; otherwise the line to print.
std::string check_root(const std::string& root) {
  std::error_code ec;
  const auto status = std::filesystem::status(root, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return "ROOT '" + root + "' does not exist";
  }
  if (ec) {
    return "ROOT '" + root + "': " + ec.message();
  }
  if (status.type() != std::filesystem::file_type::directory) {
    return "ROOT '" + root + "' is not a directory";
  }
  if (::access(root.c_str(), R_OK | X_OK) != 0) {
    return "ROOT '" + root + "' is not readable";
  }
  return {};
}

int run(int argc, char** argv) {
  auto parsed = weft::app::parse_command_line(argc, argv, ::isatty(STDOUT_FILENO) == 1);
  if (const auto* exit = std::get_if<weft::app::Exit>(&parsed)) {
    return exit->code;
  }
  auto& options = std::get<weft::app::Options>(parsed);
  weft::set_log_level(options.log_level);

  // Socket activation: serve what systemd bound instead of binding --bind/--port.
  auto inherited_or_error = weft::app::inherited_sockets();
  if (const auto* problem = std::get_if<std::string>(&inherited_or_error)) {
    std::fprintf(stderr, "weft: socket activation: %s\n", problem->c_str());
    return kExitRuntime;
  }
  const auto& inherited = std::get<weft::app::InheritedSockets>(inherited_or_error);
  options.config.listen_fds = inherited.fds;
  const bool activated = !inherited.fds.empty();

  if (!options.root.empty()) {
    if (const std::string problem = check_root(options.root); !problem.empty()) {
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
    if (options.root.empty()) {
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
  const std::string where = activated ? "the sockets systemd passed" : host_port(bind, options.config.port);
  try {
    server->listen();
    // Bound, certificates and keys read, access log open, nothing served yet: give up root now.
    if (identity) {
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
  const std::string site = options.root.empty() ? "built-in site" : "serving " + options.root;
  const bool https = !running.tls.certificates.empty();
  const char* scheme = https ? "https" : "http";
  const std::string first =
      activated ? socket_address(inherited.fds.front()) : host_port(bind, server->port());
  const std::string from = activated ? "socket from systemd" + socket_name(inherited, 0) + ", " : "";
  const std::string listening = "weft listening on " + std::string(scheme) + "://" + first + "/";
  std::printf("%s (%s%s, %zu %s, %zu %s)\n", listening.c_str(), from.c_str(), site.c_str(), running.loops,
              plural(running.loops, "loop", "loops"), running.threads,
              plural(running.threads, "thread", "threads"));
  for (std::size_t i = 1; i < inherited.fds.size(); ++i) {
    std::printf("weft also listening on %s://%s/ (socket from systemd%s)\n", scheme,
                socket_address(inherited.fds[i]).c_str(), socket_name(inherited, i).c_str());
  }
  if (running.http_redirect_port) {
    std::printf("weft redirecting http://%s/ to https\n", host_port(bind, server->redirect_port()).c_str());
  }
  if (running.metrics) {
    std::printf("weft metrics on http://%s/metrics\n",
                host_port(running.metrics->bind, server->metrics_port()).c_str());
  }
  std::fflush(stdout);

  weft::app::ShutdownSignals signals({
      .drain =
          [&server, &systemd](int) {
            systemd.stopping();
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
          [&server, &systemd, &listening, https] {
            // systemd hears of every reload, even one with nothing to do: `systemctl reload`
            // then always sees the service go through "reloading" and back to "ready".
            systemd.reloading();
            if (!https) {
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
      .drain_timeout = options.config.shutdown_timeout,
  });
  // Serving, and every signal has its handler: only now is the service ready.
  systemd.ready(listening);
  server->wait();
  systemd.stopping();  // when --exit-after ended it, no signal said so
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
