#include "support/tls_certs.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "support/process.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

// Extensions of every certificate made here, one section each (openssl req -extensions / x509
// -extfile). The leaves are what a public CA issues: CA:FALSE, serverAuth or clientAuth, the
// names in subjectAltName (clients ignore the CN).
constexpr std::string_view kConfig = R"([req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server_localhost]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server_a]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:a.test
[server_b]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:b.test
[server_wild]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.wild.test
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
)";

// The text (for a .pem) that looks like a certificate to a quick glance and to nothing else.
constexpr std::string_view kGarbage =
    "-----BEGIN CERTIFICATE-----\n"
    "this is not base64 !!! and not DER either\n"
    "-----END CERTIFICATE-----\n";

// Runs openssl with `args`; throws with its stderr when it fails or takes over 30 s.
void openssl(const std::vector<std::string>& args) {
  static const std::string program = find_in_path("openssl");
  if (program.empty()) throw std::runtime_error("no openssl command in PATH");
  Process process(program, args);
  const auto status = process.wait_exit(30s);
  if (!status || !status->exited || status->code != 0) {
    std::string command = "openssl";
    for (const auto& arg : args) command += " " + arg;
    throw std::runtime_error(command + " failed: " + process.err());
  }
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The paths of a set in `dir` (made or not).
TlsCerts layout(const std::string& dir) {
  const fs::path d(dir);
  const auto pair = [&d](const std::string& name, const std::string& cn) {
    return CertPair{(d / (name + ".pem")).string(), (d / (name + ".key")).string(),
                    "CN=" + cn + ",O=weft tests"};
  };
  TlsCerts set;
  set.dir = dir;
  set.ca = (d / "root-ca.pem").string();
  set.intermediate = (d / "intermediate-ca.pem").string();
  set.ecdsa = pair("ecdsa", "weft ecdsa localhost");
  set.rsa = pair("rsa", "weft rsa localhost");
  set.a_test = pair("a-test", "weft a.test");
  set.b_test_rsa = pair("b-test-rsa", "weft b.test rsa");
  set.wild = pair("wild", "weft wild.test wildcard");
  set.client = pair("client", "weft test client");
  set.stranger_client = pair("stranger-client", "weft stranger client");
  set.other_key = (d / "other.key").string();
  set.garbage = (d / "garbage.pem").string();
  return set;
}

enum class KeyType { ecdsa, rsa };

void make_key(const std::string& path, KeyType type) {
  if (type == KeyType::ecdsa) {
    openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path});
  } else {
    openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path});
  }
}

// 16 random bytes, as public CAs use (and scanners expect): "0x..." for openssl -set_serial.
std::string random_serial() {
  static std::random_device source;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string serial = "0x4";  // a leading nibble below 8: the number stays positive
  for (int i = 0; i < 31; ++i) serial.push_back(kHex[source() % 16]);
  return serial;
}

std::string slash_subject(const std::string& cn) { return "/O=weft tests/CN=" + cn; }

// A certificate for `key_path` with subject `cn`, signed by `ca` / `ca_key`, extensions from
// section `section` of the config.
void sign(const fs::path& dir, const std::string& out, const std::string& key_path, const std::string& cn,
          const std::string& ca, const std::string& ca_key, const std::string& section) {
  const std::string config = (dir / "openssl.cnf").string();
  const std::string csr = (dir / "request.csr").string();
  openssl({"req", "-new", "-config", config, "-key", key_path, "-subj", slash_subject(cn), "-out", csr});
  openssl({"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", random_serial(), "-days",
           "90", "-sha256", "-extfile", config, "-extensions", section, "-out", out});
  fs::remove(csr);
}

}  // namespace

bool openssl_cli_available() { return !find_in_path("openssl").empty(); }

TlsCerts make_tls_certs(const std::string& dir) {
  const fs::path d(dir);
  fs::remove_all(d);
  fs::create_directories(d);
  write_text(d / "openssl.cnf", kConfig);
  const std::string config = (d / "openssl.cnf").string();
  TlsCerts set = layout(dir);

  // Root CA (self-signed), intermediate CA (signed by the root).
  const std::string root_key = (d / "root-ca.key").string();
  make_key(root_key, KeyType::ecdsa);
  openssl({"req", "-x509", "-new", "-config", config, "-extensions", "root", "-key", root_key, "-subj",
           slash_subject("weft test root CA"), "-days", "90", "-sha256", "-out", set.ca});
  const std::string intermediate_key = (d / "intermediate-ca.key").string();
  make_key(intermediate_key, KeyType::ecdsa);
  sign(d, set.intermediate, intermediate_key, "weft test intermediate CA", set.ca, root_key, "intermediate");
  const std::string intermediate_pem = read_text(set.intermediate);

  // A server leaf signed by the intermediate; its file holds the leaf then the intermediate (a
  // FULLCHAIN).
  const auto server = [&](const CertPair& pair, KeyType type, const std::string& cn,
                          const std::string& section) {
    make_key(pair.key, type);
    sign(d, pair.cert, pair.key, cn, set.intermediate, intermediate_key, section);
    write_text(pair.cert, read_text(pair.cert) + intermediate_pem);
  };
  server(set.ecdsa, KeyType::ecdsa, "weft ecdsa localhost", "server_localhost");
  server(set.rsa, KeyType::rsa, "weft rsa localhost", "server_localhost");
  server(set.a_test, KeyType::ecdsa, "weft a.test", "server_a");
  server(set.b_test_rsa, KeyType::rsa, "weft b.test rsa", "server_b");
  server(set.wild, KeyType::ecdsa, "weft wild.test wildcard", "server_wild");

  // Client certificates: one from the root CA, one from a CA that nobody is told to trust.
  make_key(set.client.key, KeyType::ecdsa);
  sign(d, set.client.cert, set.client.key, "weft test client", set.ca, root_key, "client");
  const std::string stranger_ca = (d / "stranger-ca.pem").string();
  const std::string stranger_ca_key = (d / "stranger-ca.key").string();
  make_key(stranger_ca_key, KeyType::ecdsa);
  openssl({"req", "-x509", "-new", "-config", config, "-extensions", "root", "-key", stranger_ca_key, "-subj",
           slash_subject("weft stranger CA"), "-days", "90", "-sha256", "-out", stranger_ca});
  make_key(set.stranger_client.key, KeyType::ecdsa);
  sign(d, set.stranger_client.cert, set.stranger_client.key, "weft stranger client", stranger_ca,
       stranger_ca_key, "client");

  make_key(set.other_key, KeyType::ecdsa);
  write_text(set.garbage, kGarbage);
  write_text(d / "complete", "");
  return set;
}

const TlsCerts& tls_certs() {
  // The set of this process: the fixture's when it is complete, else one of our own, removed at exit.
  struct Owned {
    TlsCerts set;
    bool remove = false;
    Owned() {
      if (const char* shared = std::getenv("WEFT_TEST_TLS_DIR");
          shared != nullptr && *shared != '\0' && fs::exists(fs::path(shared) / "complete")) {
        set = layout(shared);
        return;
      }
      std::string pattern = (fs::temp_directory_path() / "weft-tls-certs-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
      remove = true;
      try {
        set = make_tls_certs(pattern);
      } catch (...) {
        std::error_code ignored;
        fs::remove_all(pattern, ignored);
        throw;
      }
    }
    ~Owned() {
      if (remove) {
        std::error_code ignored;
        fs::remove_all(set.dir, ignored);
      }
    }
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
  };
  static const Owned owned;
  return owned.set;
}

}  // namespace weft::test
