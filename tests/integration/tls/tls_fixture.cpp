#include "integration/tls/tls_fixture.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <regex>
#include <stdexcept>

namespace weft::test {

std::vector<std::string> tls_flags(const std::vector<CertPair>& pairs) {
  std::vector<std::string> flags;
  for (const auto& pair : pairs) flags.insert(flags.end(), {"--tls-cert", pair.cert, "--tls-key", pair.key});
  return flags;
}

std::vector<std::string> https_args(std::vector<std::string> extra, const std::vector<CertPair>& pairs) {
  std::vector<std::string> args = tls_flags(pairs.empty() ? std::vector<CertPair>{tls_certs().ecdsa} : pairs);
  args.insert(args.end(), {"--loops", "2", "--threads", "2"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TlsOptions trusting(const std::string& name) {
  TlsOptions options;
  options.sni = name;
  options.ca_file = tls_certs().ca;
  return options;
}

std::optional<std::uint16_t> redirect_port(WeftServer& server, std::string* line) {
  const auto second = server.process().read_stdout_line(5s);
  if (!second) return std::nullopt;
  if (line != nullptr) *line = *second;
  static const std::regex url(R"(^weft redirecting http://127\.0\.0\.1:([0-9]+)/ to https)");
  std::smatch match;
  unsigned port = 0;
  if (!std::regex_search(*second, match, url) ||
      std::from_chars(match[1].first.base(), match[1].second.base(), port).ec != std::errc{} || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(port);
}

std::string find_program(const std::string& name) { return find_in_path(name); }

ToolRun run_tool(const std::string& program, const std::vector<std::string>& args, milliseconds timeout) {
  const std::string path = find_in_path(program);
  if (path.empty()) throw std::runtime_error(program + " is not installed");
  Process process(path, args);
  ToolRun run;
  run.status = process.wait_exit(timeout);
  process.kill();
  run.out = process.out();
  run.err = process.err();
  return run;
}

bool resumed_connection_got_a_ticket(std::uint16_t port) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("weft-tickets-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto connect = [&](const std::string& in, const std::string& out) {
    std::vector<std::string> args{"s_client",    "-connect",          "127.0.0.1:" + std::to_string(port),
                                  "-servername", "localhost",         "-tls1_3",
                                  "-sess_out",   (dir / out).string()};
    if (!in.empty()) args.insert(args.end(), {"-sess_in", (dir / in).string()});
    // One request, answered before the server closes (Connection: close): whatever the server
    // sends with or before its answer arrives.
    std::string command =
        "printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | exec openssl";
    for (const auto& arg : args) command += " '" + arg + "'";
    command += " -ign_eof";
    return run_tool("sh", {"-c", command}, 10s);
  };
  connect("", "first");
  const ToolRun resumed = connect("first", "second");
  const bool got = fs::exists(dir / "first") && fs::exists(dir / "second") &&
                   resumed.out.find("Reused, TLSv1.3") != std::string::npos;
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return got;
}

SServer::SServer(const std::vector<std::string>& args) {
  std::vector<std::string> all{"s_server", "-accept", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  process_ = std::make_unique<Process>(find_in_path("openssl"), all);
  static const std::regex accept(R"(^ACCEPT 127\.0\.0\.1:([0-9]+))");
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    const auto line = process_->read_stdout_line(milliseconds(ms_left(deadline)));
    if (!line) break;
    std::smatch match;
    unsigned port = 0;
    if (std::regex_search(*line, match, accept) &&
        std::from_chars(match[1].first.base(), match[1].second.base(), port).ec == std::errc{}) {
      port_ = static_cast<std::uint16_t>(port);
      return;
    }
  }
  process_->wait_exit(100ms);
  throw std::runtime_error("openssl s_server did not listen; stderr: " + process_->err());
}

}  // namespace weft::test
