#pragma once
// ServerContext: the OpenSSL contexts of one TLS listener, built from a TlsConfig: one SSL_CTX
// per certificate (all with the same protocol settings), the SNI choice between them, ALPN,
// client-certificate checks, and the shared ticket keys. Immutable once built, so every loop
// uses it without locks; a reload builds a new one, and connections keep the one they started
// with (each holds a reference).
//
// Protocol settings, and why: TLS 1.2 and 1.3 only; TLS 1.2 with ECDHE key exchange and AEAD
// ciphers only (Mozilla's "intermediate" profile without its DHE suites); groups X25519 and
// P-256; no renegotiation (client-initiated renegotiation is a DoS lever and TLS 1.3 has none);
// no compression (CRIME); the client's order of suites (all offered ones are strong).

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tls/ktls.hpp"
#include "tls/ticket_keys.hpp"
#include "weft/tls_config.hpp"

namespace weft::tls {

class ServerContext {
 public:
  /// Loads and checks every certificate, key and CA file of `config`; `alpn` lists the
  /// protocols this listener speaks, most preferred first ("http/1.1"). Throws
  /// std::invalid_argument "<file>: <reason>" (or "certificate N: <reason>" for PEM text).
  ServerContext(const TlsConfig& config, std::shared_ptr<TicketKeys> keys,
                const std::vector<std::string>& alpn);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  /// A server-side SSL for one connection, on the default certificate until SNI chooses;
  /// nullptr when OpenSSL is out of memory.
  [[nodiscard]] SSL* new_ssl() const;
  /// Whether its streams are set up for kTLS (see ktls.hpp); decided when it is built.
  [[nodiscard]] KtlsMode ktls_mode() const noexcept { return ktls_mode_; }
  /// The DNS names each certificate answers, in configuration order (for the start-up log).
  [[nodiscard]] std::vector<std::vector<std::string>> names() const;

 private:
  struct Entry {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // lowercase; "*.example.com" for a wildcard
  };
  SSL_CTX* make_ctx(const TlsConfig& config);
  [[nodiscard]] SSL_CTX* choose(std::string_view name) const;
  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                     unsigned int in_len, void* arg);

  std::vector<Entry> entries_;  // entries_[0] answers unknown and absent names
  std::shared_ptr<TicketKeys> keys_;
  KtlsMode ktls_mode_ = KtlsMode::kNoKernel;
  std::string alpn_wire_;  // the protocols in ALPN wire format (length-prefixed), preferred first
};

/// OpenSSL's reason for the most recent error of this thread (its error queue is then cleared);
/// `fallback` when the queue is empty.
[[nodiscard]] std::string openssl_reason(std::string_view fallback = "unknown OpenSSL error");

}  // namespace weft::tls
