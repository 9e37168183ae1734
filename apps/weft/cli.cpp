#include "cli.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace weft::app {
namespace {

// Durations on the command line are seconds (fractions allowed); this caps them
// far below where milliseconds could overflow.
constexpr double kMaxSeconds = 1'000'000.0;

std::optional<unsigned long long> parse_whole(std::string_view text) {
  unsigned long long value = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc{} || end != last) {
    return std::nullopt;
  }
  return value;
}

// CLI11 runs validators on the raw text before converting it, so every numeric
// flag gets one message of the same shape, whatever is wrong with the value:
// "--port: expected a whole number from 0 to 65535, got '70000'".
CLI::Validator whole_number(unsigned long long min, unsigned long long max) {
  std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
  if (max == std::numeric_limits<std::size_t>::max()) {
    range = min == 0 ? "(0 or more)" : "of at least " + std::to_string(min);
  }
  return {[min, max, range](std::string& text) -> std::string {
            const auto value = parse_whole(text);
            if (!value || *value < min || *value > max) {
              return "expected a whole number " + range + ", got '" + text + "'";
            }
            return {};
          },
          "", "whole number"};
}

CLI::Validator seconds() {
  return {[](std::string& text) -> std::string {
            double value = 0;
            const char* first = text.data();
            const char* last = first + text.size();
            auto [end, ec] = std::from_chars(first, last, value);
            if (text.empty() || ec != std::errc{} || end != last || !std::isfinite(value) || value < 0 ||
                value > kMaxSeconds) {
              return "expected a number of seconds from 0 to " +
                     std::to_string(static_cast<long>(kMaxSeconds)) + ", got '" + text + "'";
            }
            return {};
          },
          "", "seconds"};
}

CLI::Validator ip_literal() {
  return {[](std::string& text) -> std::string {
            in_addr v4{};
            in6_addr v6{};
            if (inet_pton(AF_INET, text.c_str(), &v4) == 1 || inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
              return {};
            }
            return "expected an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0, ::1 or ::, got '" + text +
                   "'";
          },
          "", "address"};
}

// "127.0.0.1:9100" or "[::1]:9100" -> address and port; nullopt when malformed.
std::optional<MetricsListener> parse_listen_address(std::string_view text) {
  std::string_view address;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    address = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  const std::string host(address);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1 && inet_pton(AF_INET6, host.c_str(), &v6) != 1)
    return std::nullopt;
  const auto number = parse_whole(port);
  if (!number || *number > 65535) return std::nullopt;
  return MetricsListener{host, static_cast<std::uint16_t>(*number)};
}

CLI::Validator listen_address() {
  return {[](std::string& text) -> std::string {
            if (parse_listen_address(text)) return {};
            return "expected ADDR:PORT with an IP literal and a port from 0 to 65535, such as "
                   "127.0.0.1:9100 or [::1]:9100, got '" +
                   text + "'";
          },
          "", "address"};
}

CLI::Validator log_level_name() {
  return {[](std::string& text) -> std::string {
            if (parse_log_level(text)) {
              return {};
            }
            return "expected error, warn, info or debug, got '" + text + "'";
          },
          "", "level"};
}

CLI::Validator header_value() {
  return {[](std::string& text) -> std::string {
            for (const char c : text) {
              if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
                return "expected a header value without control characters";
              }
            }
            return {};
          },
          "", "value"};
}

std::chrono::milliseconds to_millis(double secs) {
  return std::chrono::milliseconds(std::llround(secs * 1000.0));
}

double to_seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

constexpr const char* kFooter = R"(
ROOT is served as static files (GET, HEAD, OPTIONS): index.html for a directory, else a
  listing (HTML, or JSON for Accept: application/json or ?format=json); ETag/Last-Modified with
  304/412; Range (206, multipart/byteranges, 416); f.br/f.zst/f.gz sent for f when accepted;
  ROOT/404.html as the not-found page. Paths never leave ROOT (symlinks out are 404).
Without ROOT weft serves the built-in site:
  GET /            hello.html (200)
  GET /sleep?ms=N  sleeps N ms (default 5000, at most 60000) on a pool worker, then hello.html
  GET /events?n=N&ms=M
                   Server-Sent Events: N events "data: I", one every M ms, then the end
                   (defaults 10 and 1000; 1 <= N <= 1000000, 0 <= M <= 60000)
  PUT|POST /upload reads a body of any size as it arrives; answers {"bytes": N, "sha256": "..."}
  anything else    404.html with status 404

Signals: SIGINT or SIGTERM drains gracefully (listeners close, in-flight requests finish,
  idle keep-alive connections answer one more request within --drain-idle-grace, all at most
  --shutdown-timeout), then exit 0. A second signal during the drain stops at once.
  SIGHUP reloads the TLS certificates and keys, and with --config the file's sites. SIGUSR1
  reopens the --access-log file (after logrotate renamed it).

Config file (--config FILE, TOML; --check-config FILE checks it): every flag is a key named
  like its long form (port = 8080, max-connections = 5000, spa = true, tls-cert = [...]), and
  root = "DIR" is ROOT. Flags on the command line override the file. Then:
  [[listen]]   bind, port, tls-cert, tls-key: one listener each (the first replaces bind/port)
  [[site]]     hosts = ["example.com", "*.example.com"], root, no-listing, hidden, spa,
               follow-symlinks-outside, cache-control: one virtual host each, chosen by Host
               (the first is the default); [[site.headers]] prefix = "/", fields = {NAME = "VALUE"}
               adds header fields; [[site.redirect]] path = "/old", to = "URL", status = 301
  SIGHUP re-reads the file: the sites switch for new requests, [[listen]] tables after the
  first open or close; the first listener and the other keys need a restart. A file that fails
  to load leaves the one in force.

Under systemd: sockets passed by socket activation (LISTEN_FDS) are served instead of
  --bind/--port; with NOTIFY_SOCKET (Type=notify) weft reports READY=1 once it serves,
  RELOADING=1 around SIGHUP and STOPPING=1 when it drains.

Exit status: 0 stopped normally (signal, --exit-after) or --help/--version;
  1 could not start or failed while running (e.g. address in use);
  2 bad command line (unknown flag, bad value, missing ROOT);
  128+N forced stop by a second signal N (130 for SIGINT, 143 for SIGTERM).
)";

// The parser; `error` null: usage errors are printed (with a hint), else stored there.
// `cross_checks` false: each value alone (a configuration-file key), not whether the flags go
// together.
std::variant<Options, Exit> parse(int argc, const char* const* argv, bool stdout_is_terminal,
                                  std::string* error, std::vector<FlagKey>* keys = nullptr,
                                  bool cross_checks = true) {
  const auto usage = [error](const std::string& message) -> std::variant<Options, Exit> {
    if (error != nullptr) {
      *error = message;
    } else {
      std::fprintf(stderr, "weft: %s\n", message.c_str());
    }
    return Exit{kExitUsage};
  };
  Options options;
  Config& config = options.config;
  const Config defaults;

  CLI::App app{"weft: a multithreaded HTTP/1.1 server.", "weft"};
  app.set_version_flag("-V,--version", "weft " WEFT_VERSION);
  app.footer(kFooter);
  app.get_formatter()->column_width(40);

  app.add_option("ROOT", options.root, "Directory to serve; without it, the built-in site")->type_name("DIR");

  // ---- configuration file ----
  app.add_option("--config", options.config_file,
                 "Read the settings from this TOML file (see below); flags given too override it")
      ->type_name("FILE");
  std::string check_file;
  app.add_option("--check-config", check_file,
                 "Check this TOML file (types, keys, roots, certificates, ports), exit 0 or 2")
      ->type_name("FILE");

  // ---- listening and threads ----
  app.add_option("-b,--bind", config.bind, "Address to listen on (IPv4 or IPv6 literal)")
      ->type_name("ADDR")
      ->check(ip_literal())
      ->capture_default_str();
  app.add_option("-p,--port", config.port, "TCP port; 0 = any free port")
      ->type_name("PORT")
      ->check(whole_number(0, std::numeric_limits<std::uint16_t>::max()))
      ->capture_default_str();
  app.add_option("-t,--threads", config.threads, "ThreadPool workers that run handlers")
      ->type_name("N")
      ->check(whole_number(1, std::numeric_limits<std::size_t>::max()))
      ->capture_default_str();
  app.add_option("--loops", config.loops, "Event-loop threads [default: CPU count; 0 = CPU count]")
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<std::size_t>::max()));
  app.add_option("--exit-after", config.exit_after,
                 "Stop accepting after N connections, finish them, exit 0; 0 = never")
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<std::size_t>::max()))
      ->capture_default_str();

  app.add_option("--user", options.user,
                 "Once the ports are bound and the keys read, run as this user (and group; default: "
                 "the user's own); needs root")
      ->type_name("NAME[:GROUP]");

  // ---- durations (seconds) ----
  double shutdown_timeout = to_seconds(defaults.shutdown_timeout);
  double drain_idle_grace = to_seconds(defaults.drain_idle_grace);
  double header_timeout = to_seconds(defaults.header_timeout);
  double body_timeout = to_seconds(defaults.body_timeout);
  double keepalive_timeout = to_seconds(defaults.keepalive_timeout);
  double write_timeout = to_seconds(defaults.write_timeout);
  app.add_option("--shutdown-timeout", shutdown_timeout,
                 "Drain deadline after SIGINT/SIGTERM; then what remains is closed")
      ->type_name("SECONDS")
      ->check(seconds())
      ->capture_default_str();
  app.add_option("--drain-idle-grace", drain_idle_grace,
                 "Draining: idle keep-alive connections wait this long for one more request (answered "
                 "with close); 0 = close at once")
      ->type_name("SECONDS")
      ->check(seconds())
      ->capture_default_str();
  app.add_option("--header-timeout", header_timeout, "Whole request head must arrive within this -> 408")
      ->type_name("SECONDS")
      ->check(seconds())
      ->capture_default_str();
  app.add_option("--body-timeout", body_timeout, "No request body byte for this long -> 408")
      ->type_name("SECONDS")
      ->check(seconds())
      ->capture_default_str();
  app.add_option("--keepalive-timeout", keepalive_timeout, "Idle keep-alive connection closed after this")
      ->type_name("SECONDS")
      ->check(seconds())
      ->capture_default_str();
  app.add_option("--write-timeout", write_timeout, "No response byte written for this long -> close")
      ->type_name("SECONDS")
      ->check(seconds())
      ->capture_default_str();

  // ---- limits ----
  const auto any_size = whole_number(0, std::numeric_limits<std::size_t>::max());
  const auto positive_size = whole_number(1, std::numeric_limits<std::size_t>::max());
  app.add_option("--max-request-line", config.max_request_line, "Longest request line in bytes -> 414")
      ->type_name("BYTES")
      ->check(positive_size)
      ->capture_default_str();
  app.add_option("--max-header-bytes", config.max_header_bytes, "Largest header block in bytes -> 431")
      ->type_name("BYTES")
      ->check(positive_size)
      ->capture_default_str();
  app.add_option("--max-headers", config.max_headers, "Most header fields in a request -> 431")
      ->type_name("N")
      ->check(positive_size)
      ->capture_default_str();
  app.add_option("--max-body", config.max_body, "Largest request body for a handler in bytes -> 413")
      ->type_name("BYTES")
      ->check(any_size)
      ->capture_default_str();
  app.add_option("--max-requests-per-connection", config.max_requests_per_connection,
                 "Requests on one connection, then Connection: close")
      ->type_name("N")
      ->check(positive_size)
      ->capture_default_str();
  app.add_option("--max-connections", config.max_connections, "Open connections at most (all loops)")
      ->type_name("N")
      ->check(positive_size)
      ->capture_default_str();
  bool no_h2 = false;
  app.add_flag("--no-h2", no_h2, "Speak HTTP/1.1 only (no HTTP/2 by ALPN h2 or prior knowledge)");
  app.add_option("--h2-max-streams", config.h2_max_concurrent_streams,
                 "HTTP/2 streams one connection may have open at once")
      ->type_name("N")
      ->check(CLI::Range(1U, 1000000U))
      ->capture_default_str();
  app.add_option("--send-buffer", config.send_buffer,
                 "SO_SNDBUF of each connection in bytes (caps what a stalled reader pins); 0 = kernel's")
      ->type_name("BYTES")
      ->check(whole_number(0, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-queued", config.max_queued, "Handler jobs waiting for a worker; beyond -> 503")
      ->type_name("N")
      ->check(positive_size)
      ->capture_default_str();

  // ---- static files (ROOT) ----
  StaticOptions& files = options.static_options;
  bool no_listing = false;
  app.add_flag("--no-listing", no_listing, "A directory without index.html is 403 instead of a listing");
  app.add_flag("--hidden", files.hidden,
               "Serve and list names starting with '.' (default: 404, except /.well-known/)");
  app.add_flag("--follow-symlinks-outside", files.follow_symlinks_outside,
               "Follow symlinks that lead outside ROOT (default: 404)");
  app.add_option("--cache-control", files.cache_control,
                 "Cache-Control value for files, e.g. 'public, max-age=3600' [default: none]")
      ->type_name("VALUE")
      ->check(header_value());
  app.add_flag("--spa", files.spa, "Single-page app: a missing path without an extension serves /index.html");

  // ---- HTTPS ----
  std::vector<std::string> tls_certs;
  std::vector<std::string> tls_keys;
  app.add_option("--tls-cert", tls_certs,
                 "Serve HTTPS with this PEM certificate chain (leaf first); repeat for more names "
                 "(chosen by SNI; the first is the default), each followed by its --tls-key")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--tls-key", tls_keys, "PEM private key (ECDSA or RSA) of the --tls-cert before it")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--tls-min", config.tls.min_version, "Oldest TLS version accepted: 1.2 or 1.3")
      ->type_name("VERSION")
      ->check(CLI::IsMember({"1.2", "1.3"}))
      ->capture_default_str();
  app.add_option("--tls-client-ca", config.tls.client_ca_file,
                 "Require client certificates that chain to these PEM CAs")
      ->type_name("FILE");
  app.add_flag("--tls-client-optional", config.tls.client_cert_optional,
               "With --tls-client-ca: ask for a client certificate but do not require one");
  bool no_ktls = false;
  app.add_flag("--no-ktls", no_ktls,
               "Encrypt files over HTTPS in user space even where the kernel offers TLS (kTLS, "
               "SSL_sendfile)");
  std::optional<std::uint16_t> redirect_port;
  app.add_option("--http-redirect", redirect_port,
                 "Also listen on this cleartext port and redirect every request to HTTPS (308)")
      ->type_name("PORT");
  std::optional<std::uint32_t> hsts;
  app.add_option("--hsts", hsts, "Send Strict-Transport-Security: max-age=SECONDS over HTTPS")
      ->type_name("SECONDS");

  // ---- metrics ----
  std::string metrics;
  app.add_option("--metrics", metrics,
                 "Serve Prometheus metrics at http://ADDR:PORT/metrics on a listener of their own "
                 "(port 0: any free port) [default: off]")
      ->type_name("ADDR:PORT")
      ->check(listen_address());

  // ---- logging ----
  std::optional<std::string> access_log;
  app.add_option("--access-log", access_log,
                 "Access log to '-' (stdout), a file (appended; SIGUSR1 reopens it) or 'off' "
                 "[default: '-' when stdout is a terminal, else off]")
      ->type_name("DEST");
  std::string access_log_format = "clf";
  app.add_option("--access-log-format", access_log_format,
                 "clf (Common Log Format), combined (clf + Referer and User-Agent, as nginx) or json "
                 "(one object per line: the combined fields, scheme and protocol)")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"clf", "combined", "json"}))
      ->capture_default_str();
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "Diagnostics on stderr: error|warn|info|debug")
      ->type_name("LEVEL")
      ->check(log_level_name())
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return Exit{kExitOk};
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return Exit{kExitOk};
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return Exit{kExitOk};
  } catch (const CLI::ParseError& e) {
    return usage(error != nullptr ? std::string(e.what()) : std::string(e.what()) + " (try 'weft --help')");
  }
  if (keys != nullptr) {
    for (const CLI::Option* option : app.get_options()) {
      if (option->get_lnames().empty()) continue;
      const std::string& name = option->get_lnames().front();
      if (name == "help" || name == "help-all" || name == "version" || name == "config" ||
          name == "check-config")
        continue;
      const FlagKey::Kind kind = option->get_expected_max() == 0  ? FlagKey::Kind::kFlag
                                 : option->get_expected_max() > 1 ? FlagKey::Kind::kList
                                                                  : FlagKey::Kind::kValue;
      keys->push_back({name, kind});
    }
  }
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() == 0) continue;
    options.given.push_back(option->get_lnames().empty() ? option->get_name() : option->get_lnames().front());
  }
  if (!check_file.empty()) {
    if (!options.config_file.empty()) return usage("--config and --check-config do not go together");
    options.config_file = check_file;
    options.check_only = true;
  }

  if (cross_checks && tls_certs.size() != tls_keys.size()) {
    return usage("--tls-cert and --tls-key come in pairs (got " + std::to_string(tls_certs.size()) +
                 " certificates, " + std::to_string(tls_keys.size()) + " keys)");
  }
  for (std::size_t i = 0; i < std::min(tls_certs.size(), tls_keys.size()); ++i) {
    TlsCertificate pair;
    pair.cert_file = tls_certs[i];
    pair.key_file = tls_keys[i];
    config.tls.certificates.push_back(std::move(pair));
  }
  const bool https = !config.tls.certificates.empty();
  for (const auto& [given, flag] :
       {std::pair{!config.tls.client_ca_file.empty(), "--tls-client-ca"},
        std::pair{config.tls.client_cert_optional, "--tls-client-optional"}, std::pair{no_ktls, "--no-ktls"},
        std::pair{redirect_port.has_value(), "--http-redirect"}, std::pair{hsts.has_value(), "--hsts"}}) {
    if (cross_checks && given && !https) {
      return usage(std::string(flag) + " needs --tls-cert and --tls-key");
    }
  }
  if (cross_checks && config.tls.client_cert_optional && config.tls.client_ca_file.empty()) {
    return usage("--tls-client-optional needs --tls-client-ca");
  }
  config.tls.ktls = !no_ktls;
  config.http_redirect_port = redirect_port;
  if (!metrics.empty()) config.metrics = parse_listen_address(metrics);
  config.hsts_seconds = hsts;
  files.listing = !no_listing;
  config.http2 = !no_h2;
  config.shutdown_timeout = to_millis(shutdown_timeout);
  config.drain_idle_grace = to_millis(drain_idle_grace);
  config.header_timeout = to_millis(header_timeout);
  config.body_timeout = to_millis(body_timeout);
  config.keepalive_timeout = to_millis(keepalive_timeout);
  config.write_timeout = to_millis(write_timeout);

  if (!access_log) {
    config.access_log = stdout_is_terminal ? "-" : "";
  } else if (*access_log == "off") {
    config.access_log.clear();
  } else if (access_log->empty()) {
    return usage("--access-log: expected '-', a file path or 'off', got ''");
  } else {
    config.access_log = *access_log;
  }
  config.access_log_format = access_log_format == "json"       ? AccessLogFormat::json
                             : access_log_format == "combined" ? AccessLogFormat::combined
                                                               : AccessLogFormat::clf;
  options.log_level = parse_log_level(log_level).value_or(LogLevel::info);
  return options;
}

}  // namespace

std::variant<Options, Exit> parse_command_line(int argc, const char* const* argv, bool stdout_is_terminal) {
  return parse(argc, argv, stdout_is_terminal, nullptr);
}

std::variant<Options, Exit> parse_arguments(const std::vector<std::string>& args, bool stdout_is_terminal,
                                            std::string& error, bool cross_checks) {
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return parse(static_cast<int>(argv.size()), argv.data(), stdout_is_terminal, &error, nullptr, cross_checks);
}

std::vector<FlagKey> flag_keys() {
  std::vector<FlagKey> keys;
  std::string error;
  const char* const argv[] = {"weft"};
  (void)parse(1, argv, false, &error, &keys);
  return keys;
}

}  // namespace weft::app
