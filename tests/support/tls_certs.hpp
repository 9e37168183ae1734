#pragma once
// Throwaway certificates for the TLS tests, made with the `openssl` command at test time: a root
// CA, an intermediate CA that signs the server leaves (so a FULLCHAIN file has two certificates,
// as real ones do), ECDSA P-256 and RSA-2048 leaves for given names, client certificates, a key
// that matches nothing and a PEM file whose insides are garbage.
//
// Made once per process, in a temporary directory removed at exit. Under ctest every test is its
// own process, so the tls tests share one set instead: a ctest fixture makes it in the directory
// named by WEFT_TEST_TLS_DIR (tests/integration/tls/CMakeLists.txt) and removes it at the end;
// tls_certs() uses that directory when it holds a complete set.

#include <string>

namespace weft::test {

/// A certificate file (PEM: the leaf, then the intermediate CA for the server leaves) and its key.
struct CertPair {
  std::string cert;
  std::string key;
  std::string subject;  ///< the leaf's subject, RFC 2253 one-line form ("CN=...,O=weft tests")
};

/// Paths of the files, all in `dir`.
struct TlsCerts {
  std::string dir;
  std::string ca;            ///< the root CA's certificate: what clients trust, and --tls-client-ca
  std::string intermediate;  ///< the intermediate CA's certificate (also inside each server leaf file)
  CertPair ecdsa;            ///< ECDSA P-256; DNS localhost, IP 127.0.0.1
  CertPair rsa;              ///< RSA-2048; DNS localhost, IP 127.0.0.1
  CertPair a_test;           ///< ECDSA P-256; DNS a.test
  CertPair b_test_rsa;       ///< RSA-2048; DNS b.test
  CertPair wild;             ///< ECDSA P-256; DNS *.wild.test
  CertPair client;           ///< a client certificate signed by the root CA
  CertPair stranger_client;  ///< a client certificate signed by a CA nobody trusts
  std::string other_key;     ///< an ECDSA P-256 key that belongs to none of the certificates
  std::string garbage;       ///< "-----BEGIN CERTIFICATE-----", then bytes that are not base64 DER
};

/// True when the `openssl` command can be run.
[[nodiscard]] bool openssl_cli_available();

/// The set, made on first use (see above). Throws std::runtime_error (with openssl's stderr) when
/// a file cannot be made.
[[nodiscard]] const TlsCerts& tls_certs();

/// Makes the whole set in `dir` (created; emptied first) and marks it complete. Used by the
/// ctest fixture (make_tls_certs) and by tls_certs(). Throws std::runtime_error.
TlsCerts make_tls_certs(const std::string& dir);

}  // namespace weft::test
