#pragma once
// A blocking TLS client for the tests (OpenSSL), on a non-blocking loopback socket: every call
// has a deadline, so a broken server fails a test instead of hanging it. The handshake happens
// in the constructor and its outcome is kept, never thrown: a refused handshake is what many
// tests expect. Afterwards the test sends bytes and reads HTTP/1.1 responses with the parser of
// support/http_client.hpp.
//
// The client itself accepts everything OpenSSL can do (security level 0, versions from TLS 1.0
// when asked), so whatever is refused was refused by the server.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/deadline.hpp"
#include "support/fd.hpp"
#include "support/http_client.hpp"

namespace weft::test {

/// A session to resume (SSL_SESSION, shared).
using TlsSession = std::shared_ptr<SSL_SESSION>;

/// What the client offers.
struct TlsOptions {
  std::string sni;                ///< server_name sent; empty: no SNI extension
  std::vector<std::string> alpn;  ///< ALPN protocols offered; empty: no ALPN extension
  std::string min_version;        ///< "1.0", "1.1", "1.2", "1.3"; empty: OpenSSL's default
  std::string max_version;        ///< same; empty: the highest OpenSSL has (1.3)
  std::string ciphers;            ///< TLS 1.2 and below (SSL_CTX_set_cipher_list); empty: default
  std::string ciphersuites;       ///< TLS 1.3 (SSL_CTX_set_ciphersuites); empty: default
  std::string groups;             ///< "X25519:P-256" (SSL_CTX_set1_groups_list); empty: default
  std::string sigalgs;            ///< "ECDSA+SHA256:RSA-PSS+SHA256"; empty: default
  std::string cert_file;          ///< client certificate (PEM, may hold a chain)
  std::string key_file;           ///< its key
  std::string ca_file;            ///< verify the server against this CA; empty: no verification
  std::string verify_name;        ///< name or IP the certificate must match; empty: `sni`
  TlsSession session;             ///< offered for resumption
  bool fallback_scsv = false;     ///< send TLS_FALLBACK_SCSV (a client retrying with a lower version)
  milliseconds timeout = 5s;      ///< for connect plus handshake
};

/// The outcome of a handshake.
struct TlsHandshake {
  bool ok = false;
  bool timed_out = false;    ///< no answer within the deadline (neither done nor refused)
  std::string error;         ///< why it failed: OpenSSL's error strings, or "connection closed"
  std::string alert;         ///< the last alert received, named as in the RFCs ("handshake_failure")
  std::string version;       ///< "TLSv1.2", "TLSv1.3"
  std::string cipher;        ///< OpenSSL's name ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256")
  std::string alpn;          ///< the protocol selected; empty: none
  std::string group;         ///< key exchange group: "X25519", "P-256", "P-384", ...
  std::string peer_subject;  ///< leaf's subject, RFC 2253 one-line form
  std::vector<std::string> peer_names;  ///< leaf's subjectAltName: "DNS:localhost", "IP:127.0.0.1"
  std::string peer_key_type;            ///< "EC" or "RSA"
  int peer_chain_length = 0;            ///< certificates the server sent
  bool session_reused = false;
  long verify_result = -1;   ///< X509_V_OK (0) when verified; -1 when no CA was given
  std::string verify_error;  ///< X509_verify_cert_error_string when not verified
};

/// One TLS connection to 127.0.0.1:`port`.
class TlsClient {
 public:
  /// Connects (throws std::system_error when the TCP connection fails) and does the handshake
  /// (never throws: see handshake()).
  explicit TlsClient(std::uint16_t port, TlsOptions options = {});
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;
  TlsClient(TlsClient&&) = delete;
  TlsClient& operator=(TlsClient&&) = delete;

  [[nodiscard]] const TlsHandshake& handshake() const noexcept { return handshake_; }
  [[nodiscard]] bool ok() const noexcept { return handshake_.ok; }
  /// The last alert received so far, during the handshake or after (TLS 1.3 servers refuse a
  /// client certificate after the client's handshake has completed).
  [[nodiscard]] const std::string& last_alert() const noexcept { return handshake_.alert; }
  /// The last error seen by a read or write after the handshake (OpenSSL's strings).
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }

  /// Sends every byte in as few records as OpenSSL makes (one SSL_write). False when the
  /// connection failed (see last_error()); throws std::system_error when no byte goes out for 5 s.
  bool send(std::string_view bytes);
  /// One response (support/http_client.hpp's parser); nullopt on timeout, close or garbage.
  std::optional<HttpResponse> read_response(milliseconds timeout = 5s, bool head_request = false);
  /// Everything pending and received until the peer closes; nullopt if it did not close in time.
  std::optional<std::string> read_until_close(milliseconds timeout = 5s);
  /// True when nothing was pending and the peer closed (close_notify, EOF, reset or a fatal alert)
  /// within `timeout`; what arrives meanwhile is read and kept in pending().
  bool closed_within(milliseconds timeout);
  /// Reads what arrives for `duration` (TLS 1.3 session tickets come after the handshake).
  void read_for(milliseconds duration);
  [[nodiscard]] const std::string& pending() const noexcept { return buffer_; }

  /// Asks for a TLS 1.2 renegotiation and waits for its outcome: the handshake's result (ok
  /// when the server went along with it).
  TlsHandshake renegotiate(milliseconds timeout = 5s);

  /// The session to resume later: the last ticket received (TLS 1.3: only after a read), else
  /// the current session.
  [[nodiscard]] TlsSession session() const;
  /// Sends close_notify (bounded; the peer's answer is not awaited).
  void close_notify();
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] SSL* ssl() const noexcept { return ssl_; }

  // For OpenSSL's callbacks only.
  void on_alert_received(std::string description) { handshake_.alert = std::move(description); }
  void on_new_session(SSL_SESSION* session);

 private:
  // Drives `step` (SSL_connect, SSL_do_handshake, SSL_read, SSL_write...) until it makes progress
  // or fails; returns its result (> 0 progress, 0 closed, < 0 failure or timeout).
  template <typename Step>
  int drive(Step step, Clock::time_point deadline, bool* timed_out);
  bool fill(Clock::time_point deadline, bool* eof);
  void describe_connection();

  Fd fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  TlsHandshake handshake_;
  TlsSession last_ticket_;
  std::string buffer_;
  std::string last_error_;
  bool failed_ = false;  // a fatal error: OpenSSL allows nothing more on this connection
};

/// The bytes of the ClientHello the client would send with `options` (no connection made): for
/// tests that send half of one, or a corrupted one.
[[nodiscard]] std::string client_hello_bytes(const TlsOptions& options = {});

/// One request on a fresh TLS connection (with Connection: close); nullopt when the handshake or
/// the exchange fails.
[[nodiscard]] std::optional<HttpResponse> tls_request(std::uint16_t port, const TlsOptions& options,
                                                      std::string_view method, std::string_view target,
                                                      const std::vector<std::string>& headers = {});

/// SHA-256 of `bytes`, in lower-case hex.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

}  // namespace weft::test
