#pragma once
/// \file
/// weft::TlsInfo: what the TLS connection of a request negotiated (Request::tls()). Plain data,
/// made once per connection after its handshake and shared by its requests.

#include <string>

namespace weft {

struct TlsInfo {
  std::string version;      ///< "TLSv1.2" or "TLSv1.3"
  std::string cipher;       ///< OpenSSL's name of the suite, e.g. "TLS_AES_256_GCM_SHA384"
  std::string server_name;  ///< the SNI name the client sent, lowercase; empty when none
  std::string alpn;         ///< the protocol agreed by ALPN ("http/1.1"); empty when none
  bool resumed = false;     ///< the handshake resumed an earlier session (a ticket)
  /// The subject of the client's certificate, verified against Config::tls.client_ca_file, in
  /// RFC 2253 form ("CN=alice,O=Example"); empty when the client sent none.
  std::string client_subject;
};

}  // namespace weft
