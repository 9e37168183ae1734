#pragma once
// Helpers of the TLS tests: weft's TLS flags for the test certificates (support/tls_certs.hpp),
// client options that trust the test CA, OpenSSL's s_server for the client's own tests, and
// the other programs the tests drive (openssl s_client, curl, python3), each bounded.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_client.hpp"

namespace weft::test {

/// "--tls-cert C --tls-key K" for each pair, in order (the first is the default).
[[nodiscard]] std::vector<std::string> tls_flags(const std::vector<CertPair>& pairs);

/// weft's arguments for HTTPS with `pairs` (default: the ECDSA localhost pair), two loops, two
/// threads, then `extra`. A ROOT, when wanted, goes last in `extra`.
[[nodiscard]] std::vector<std::string> https_args(std::vector<std::string> extra = {},
                                                  const std::vector<CertPair>& pairs = {});

/// A client that sends SNI `name`, checks the certificate against it and trusts the test CA.
[[nodiscard]] TlsOptions trusting(const std::string& name = "localhost");

/// The port of weft's redirect listener, from its second stdout line
/// ("weft redirecting http://127.0.0.1:RPORT/ to https"); nullopt when that line does not come.
[[nodiscard]] std::optional<std::uint16_t> redirect_port(WeftServer& server, std::string* line = nullptr);

/// Full path of a program found in PATH; empty when missing.
[[nodiscard]] std::string find_program(const std::string& name);

/// What a helper program did: exit status (nullopt when it had to be killed) and output.
struct ToolRun {
  std::optional<ExitStatus> status;
  std::string out;
  std::string err;
  [[nodiscard]] bool succeeded() const { return status && status->exited && status->code == 0; }
};

/// Runs `program` (a name from PATH) with `args` to completion, killed after `timeout`.
[[nodiscard]] ToolRun run_tool(const std::string& program, const std::vector<std::string>& args,
                               milliseconds timeout = 20s);

/// True when a TLS 1.3 connection to `port` that resumed a session got a new ticket: two runs of
/// `openssl s_client`, each with one request (a full handshake saving its ticket; a resumption
/// of it, saving the ticket it gets, if any).
[[nodiscard]] bool resumed_connection_got_a_ticket(std::uint16_t port);

/// `openssl s_server` on 127.0.0.1, a free port, with `args` (for the client's own tests: it
/// shows what the client does against a server that is not weft).
class SServer {
 public:
  /// Throws std::runtime_error when it does not listen within 10 s.
  explicit SServer(const std::vector<std::string>& args);
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] Process& process() noexcept { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

}  // namespace weft::test
