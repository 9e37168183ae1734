#pragma once
/// \file
/// weft::TlsConfig: HTTPS settings of a weft::Server (Config::tls). Plain data; the Server's
/// constructor loads and checks every certificate and key and throws std::invalid_argument
/// naming the file (or the certificate's position) and OpenSSL's reason.

#include <chrono>
#include <string>
#include <vector>

namespace weft {

/// One certificate chain and its private key, from files or from PEM text in memory (for each
/// of the two, the PEM text wins when both are set).
struct TlsCertificate {
  std::string cert_file;  ///< PEM: the leaf first, then the intermediates ("fullchain.pem")
  std::string key_file;   ///< PEM private key (ECDSA or RSA), unencrypted
  std::string cert_pem;
  std::string key_pem;

  /// Every field equal.
  bool operator==(const TlsCertificate&) const = default;
};

struct TlsConfig {
  /// Empty: the server speaks cleartext HTTP. Otherwise every connection is HTTPS; the
  /// certificate is chosen by the client's SNI name (an exact DNS name of the certificate, then
  /// a wildcard "*.example.com" one), and the first one answers unknown or absent names.
  std::vector<TlsCertificate> certificates;
  /// "1.2" (TLS 1.2 and 1.3) or "1.3" (TLS 1.3 only). Nothing older is ever offered.
  std::string min_version = "1.2";
  /// PEM file of the CAs that client certificates must chain to; empty = none asked for.
  std::string client_ca_file;
  /// With client_ca_file: ask for a certificate but let clients without one in (a certificate
  /// that is sent must still verify).
  bool client_cert_optional = false;
  /// Session tickets are encrypted with a key shared by every loop, replaced this often; the
  /// previous key still decrypts (a resumed client then gets a ticket under the new one).
  std::chrono::seconds ticket_key_lifetime{3600};
  /// Where the kernel offers TLS in the socket layer (kTLS: the "tls" TCP ULP), connections are
  /// set up so that the kernel encrypts their output once the handshake is done, and files go
  /// out with SSL_sendfile (no copy through user space); false: always encrypt in user space
  /// (files read into a buffer and written with SSL_write), as on a kernel without kTLS.
  bool ktls = true;

  /// Every field equal.
  bool operator==(const TlsConfig&) const = default;
};

}  // namespace weft
