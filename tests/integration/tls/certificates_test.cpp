// Which certificate weft presents (SNI: exact name, then wildcard, else the first pair; ECDSA
// and RSA), how it treats client certificates (--tls-client-ca, --tls-client-optional), what
// a bad certificate or key does at start (one line on stderr naming the file, exit 2), and
// SIGHUP's reload of the files.

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/tls/tls_fixture.hpp"
#include "support/clean_exit.hpp"
#include "support/files.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

// The default ECDSA pair first, then a.test, b.test (RSA) and *.wild.test.
std::vector<std::string> four_names() {
  const TlsCerts& certs = tls_certs();
  return https_args({}, {certs.ecdsa, certs.a_test, certs.b_test_rsa, certs.wild});
}

// The subject of the certificate weft presents for SNI `sni` (empty: no SNI).
std::string presented(std::uint16_t port, const std::string& sni) {
  TlsOptions options;
  options.sni = sni;
  TlsClient client(port, options);
  EXPECT_TRUE(client.ok()) << sni << ": " << client.handshake().error;
  return client.handshake().peer_subject;
}

TEST(TlsSni, AnExactNameSelectsItsCertificate) {
  WeftServer weft(four_names());
  EXPECT_EQ(presented(weft.port(), "a.test"), tls_certs().a_test.subject);
  EXPECT_EQ(presented(weft.port(), "b.test"), tls_certs().b_test_rsa.subject);
  EXPECT_EQ(presented(weft.port(), "localhost"), tls_certs().ecdsa.subject);
  // And it verifies for that name, with a request served over it.
  const auto response = tls_request(weft.port(), trusting("a.test"), "GET", "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(TlsSni, NamesAreMatchedWithoutRegardToCase) {
  WeftServer weft(four_names());
  EXPECT_EQ(presented(weft.port(), "A.TEST"), tls_certs().a_test.subject);
  EXPECT_EQ(presented(weft.port(), "X.Wild.Test"), tls_certs().wild.subject);
}

TEST(TlsSni, AWildcardCoversExactlyOneLabel) {
  WeftServer weft(four_names());
  EXPECT_EQ(presented(weft.port(), "x.wild.test"), tls_certs().wild.subject);
  EXPECT_EQ(presented(weft.port(), "www.wild.test"), tls_certs().wild.subject);
  // Not the bare name, not two labels: those fall back to the default.
  EXPECT_EQ(presented(weft.port(), "wild.test"), tls_certs().ecdsa.subject);
  EXPECT_EQ(presented(weft.port(), "a.b.wild.test"), tls_certs().ecdsa.subject);
  const auto response = tls_request(weft.port(), trusting("x.wild.test"), "GET", "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(TlsSni, UnknownOrAbsentNamesGetTheFirstPair) {
  WeftServer weft(four_names());
  EXPECT_EQ(presented(weft.port(), "unknown.test"), tls_certs().ecdsa.subject);
  EXPECT_EQ(presented(weft.port(), ""), tls_certs().ecdsa.subject);
  // Without SNI a client that connects to the address verifies the IP SAN of the default pair.
  TlsOptions by_address;
  by_address.ca_file = tls_certs().ca;
  by_address.verify_name = "127.0.0.1";
  const auto response = tls_request(weft.port(), by_address, "GET", "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  // The order of the flags decides the default.
  WeftServer reordered(https_args({}, {tls_certs().a_test, tls_certs().ecdsa}));
  EXPECT_EQ(presented(reordered.port(), "unknown.test"), tls_certs().a_test.subject);
  EXPECT_EQ(presented(reordered.port(), "localhost"), tls_certs().ecdsa.subject);
}

TEST(TlsSni, EachLoopPresentsTheSameChoice) {
  // Two loops, each with its own listener: many connections land on both.
  WeftServer weft(four_names());
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(presented(weft.port(), i % 2 == 0 ? "a.test" : "x.wild.test"),
              i % 2 == 0 ? tls_certs().a_test.subject : tls_certs().wild.subject);
  }
}

TEST(TlsKeys, AnRsaCertificateServesTls12AndTls13) {
  WeftServer weft(https_args({}, {tls_certs().rsa}));
  for (const char* version : {"1.2", "1.3"}) {
    SCOPED_TRACE(version);
    TlsOptions options = trusting();
    options.min_version = options.max_version = version;
    TlsClient client(weft.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_EQ(client.handshake().peer_key_type, "RSA");
    EXPECT_EQ(client.handshake().peer_subject, tls_certs().rsa.subject);
    if (std::string(version) == "1.2") {
      EXPECT_EQ(client.handshake().cipher.rfind("ECDHE-RSA-", 0), 0U) << client.handshake().cipher;
    }
    ASSERT_TRUE(client.send(make_request("GET", "/")));
    const auto response = client.read_response();
    ASSERT_TRUE(response) << client.last_error();
    EXPECT_EQ(response->status, 200);
  }
}

TEST(TlsKeys, AnEcdsaCertificateServesEcdheEcdsaSuites) {
  WeftServer weft(https_args());
  TlsOptions options = trusting();
  options.max_version = "1.2";
  TlsClient client(weft.port(), options);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().peer_key_type, "EC");
  EXPECT_EQ(client.handshake().cipher.rfind("ECDHE-ECDSA-", 0), 0U) << client.handshake().cipher;
}

// ---------------------------------------------------------------- client certificates

TlsOptions with_client_cert(const CertPair& pair, const char* version = "1.3") {
  TlsOptions options = trusting();
  options.min_version = options.max_version = version;
  options.cert_file = pair.cert;
  options.key_file = pair.key;
  return options;
}

// True when a GET / over a client with `options` got a 200 (TLS 1.3 refuses a client
// certificate after the client's handshake: the refusal shows on a read).
bool served(std::uint16_t port, const TlsOptions& options, std::string* alert = nullptr) {
  TlsClient client(port, options);
  std::optional<HttpResponse> response;
  // Read first: a refusal sent right after the handshake would be lost if the request's write
  // met the closed connection.
  if (client.ok()) client.read_for(300ms);
  if (client.ok() && client.send(make_request("GET", "/"))) response = client.read_response(3s);
  if (alert != nullptr) *alert = client.last_alert();
  return response && response->status == 200;
}

TEST(TlsClientCertificates, RequiredRefusesAClientWithoutOne) {
  WeftServer weft(https_args({"--tls-client-ca", tls_certs().ca}));
  std::string alert;
  TlsOptions none = trusting();
  EXPECT_FALSE(served(weft.port(), none, &alert));
  EXPECT_EQ(alert, "certificate_required");  // TLS 1.3's alert for it
  none.max_version = "1.2";
  EXPECT_FALSE(served(weft.port(), none, &alert));
  EXPECT_FALSE(alert.empty()) << "refused without an alert";
}

TEST(TlsClientCertificates, RequiredServesAClientWithATrustedOne) {
  WeftServer weft(https_args({"--tls-client-ca", tls_certs().ca}));
  EXPECT_TRUE(served(weft.port(), with_client_cert(tls_certs().client, "1.3")));
  EXPECT_TRUE(served(weft.port(), with_client_cert(tls_certs().client, "1.2")));
}

TEST(TlsClientCertificates, RequiredRefusesAnUntrustedOne) {
  WeftServer weft(https_args({"--tls-client-ca", tls_certs().ca}));
  for (const char* version : {"1.2", "1.3"}) {
    SCOPED_TRACE(version);
    std::string alert;
    EXPECT_FALSE(served(weft.port(), with_client_cert(tls_certs().stranger_client, version), &alert));
    EXPECT_FALSE(alert.empty()) << "refused without an alert";
  }
}

TEST(TlsClientCertificates, OptionalServesClientsWithoutOneAndVerifiesThoseSent) {
  WeftServer weft(https_args({"--tls-client-ca", tls_certs().ca, "--tls-client-optional"}));
  EXPECT_TRUE(served(weft.port(), trusting()));
  EXPECT_TRUE(served(weft.port(), with_client_cert(tls_certs().client)));
  // A certificate that is sent must still verify.
  EXPECT_FALSE(served(weft.port(), with_client_cert(tls_certs().stranger_client)));
}

TEST(TlsClientCertificates, WithoutAClientCaNoCertificateIsAskedFor) {
  WeftServer weft(https_args());
  // A client with a certificate that nobody trusts is served: it was never asked to send it.
  EXPECT_TRUE(served(weft.port(), with_client_cert(tls_certs().stranger_client)));
}

// ---------------------------------------------------------------- bad files at start

// weft's start with these pairs: exit 2 and one line on stderr that names `file`.
void expect_refused_start(const std::vector<std::string>& args, const std::string& file) {
  const RunResult run = run_weft(args, 10s);
  ASSERT_TRUE(run.status) << "weft did not exit; stderr: " << run.err;
  EXPECT_TRUE(run.status->exited);
  EXPECT_EQ(run.status->code, 2) << run.err;
  EXPECT_NE(run.err.find(file), std::string::npos) << "stderr does not name " << file << ": " << run.err;
  ASSERT_FALSE(run.err.empty());
  EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << "not one line: " << run.err;
  EXPECT_EQ(run.out.find("weft listening"), std::string::npos) << run.out;
}

std::vector<std::string> start_args(const std::string& cert, const std::string& key) {
  return {"--port", "0", "--tls-cert", cert, "--tls-key", key};
}

TEST(TlsStart, AMissingCertificateFileExits2NamingIt) {
  const std::string missing = tls_certs().dir + "/no-such-cert.pem";
  expect_refused_start(start_args(missing, tls_certs().ecdsa.key), missing);
}

TEST(TlsStart, AMissingKeyFileExits2NamingIt) {
  const std::string missing = tls_certs().dir + "/no-such-key.pem";
  expect_refused_start(start_args(tls_certs().ecdsa.cert, missing), missing);
}

TEST(TlsStart, AGarbageCertificateExits2NamingIt) {
  expect_refused_start(start_args(tls_certs().garbage, tls_certs().ecdsa.key), tls_certs().garbage);
}

TEST(TlsStart, AGarbageKeyExits2NamingIt) {
  expect_refused_start(start_args(tls_certs().ecdsa.cert, tls_certs().garbage), tls_certs().garbage);
}

TEST(TlsStart, AKeyThatIsNotTheCertificatesExits2NamingAFile) {
  const RunResult run = run_weft(start_args(tls_certs().ecdsa.cert, tls_certs().other_key), 10s);
  ASSERT_TRUE(run.status) << run.err;
  EXPECT_EQ(run.status->code, 2) << run.err;
  EXPECT_TRUE(run.err.find(tls_certs().other_key) != std::string::npos ||
              run.err.find(tls_certs().ecdsa.cert) != std::string::npos)
      << "names neither file: " << run.err;
  EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << "not one line: " << run.err;
  // A key and certificate that both parse but are swapped between two pairs: the same.
  std::vector<std::string> swapped = start_args(tls_certs().ecdsa.cert, tls_certs().ecdsa.key);
  swapped.insert(swapped.end(), {"--tls-cert", tls_certs().a_test.cert, "--tls-key", tls_certs().rsa.key});
  const RunResult second = run_weft(swapped, 10s);
  ASSERT_TRUE(second.status) << second.err;
  EXPECT_EQ(second.status->code, 2) << second.err;
  EXPECT_TRUE(second.err.find(tls_certs().rsa.key) != std::string::npos ||
              second.err.find(tls_certs().a_test.cert) != std::string::npos)
      << "names neither file of the second pair: " << second.err;
}

TEST(TlsStart, AnEmptyCertificateFileExits2NamingIt) {
  const std::string empty = tls_certs().dir + "/empty-" + std::to_string(::getpid()) + ".pem";
  { std::ofstream create(empty); }
  expect_refused_start(start_args(empty, tls_certs().ecdsa.key), empty);
  fs::remove(empty);
}

TEST(TlsStart, AKeyInPlaceOfTheCertificateExits2NamingIt) {
  expect_refused_start(start_args(tls_certs().ecdsa.key, tls_certs().ecdsa.key), tls_certs().ecdsa.key);
}

TEST(TlsStart, UnpairedFlagsExit2) {
  const RunResult run = run_weft({"--port", "0", "--tls-cert", tls_certs().ecdsa.cert}, 10s);
  ASSERT_TRUE(run.status);
  EXPECT_EQ(run.status->code, 2) << run.err;
  const RunResult bad_ca = run_weft({"--port", "0", "--tls-cert", tls_certs().ecdsa.cert, "--tls-key",
                                     tls_certs().ecdsa.key, "--tls-client-ca", tls_certs().garbage},
                                    10s);
  ASSERT_TRUE(bad_ca.status);
  EXPECT_EQ(bad_ca.status->code, 2) << bad_ca.err;
  EXPECT_NE(bad_ca.err.find(tls_certs().garbage), std::string::npos) << bad_ca.err;
}

// ---------------------------------------------------------------- SIGHUP

// A copy of a pair under fixed names, to be overwritten by the test.
class PairCopy {
 public:
  explicit PairCopy(const CertPair& pair)
      : dir_(fs::temp_directory_path() / ("weft-tls-reload-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    use(pair);
  }
  ~PairCopy() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  PairCopy(const PairCopy&) = delete;
  PairCopy& operator=(const PairCopy&) = delete;
  void use(const CertPair& pair) const { write(pair.cert, pair.key); }
  void write(const std::string& cert, const std::string& key) const {
    fs::copy_file(cert, cert_path(), fs::copy_options::overwrite_existing);
    fs::copy_file(key, key_path(), fs::copy_options::overwrite_existing);
  }
  [[nodiscard]] std::string cert_path() const { return (dir_ / "cert.pem").string(); }
  [[nodiscard]] std::string key_path() const { return (dir_ / "key.pem").string(); }

 private:
  fs::path dir_;
};

TEST(TlsReload, SighupLoadsTheNewFilesAndOpenConnectionsKeepWorking) {
  PairCopy files(tls_certs().ecdsa);
  WeftServer weft(https_args({}, {CertPair{files.cert_path(), files.key_path(), ""}}));
  TlsClient before(weft.port(), trusting());
  ASSERT_TRUE(before.ok()) << before.handshake().error;
  EXPECT_EQ(before.handshake().peer_subject, tls_certs().ecdsa.subject);

  files.use(tls_certs().rsa);
  weft.process().send_signal(SIGHUP);
  const bool reloaded =
      wait_for([&] { return presented(weft.port(), "localhost") == tls_certs().rsa.subject; }, 5s);
  EXPECT_TRUE(reloaded) << "still the old certificate 5 s after SIGHUP";
  // The connection made before the reload goes on.
  ASSERT_TRUE(before.send(make_request("GET", "/")));
  const auto response = before.read_response();
  ASSERT_TRUE(response) << before.last_error();
  EXPECT_EQ(response->status, 200);
  expect_clean_exit(weft.process());
}

TEST(TlsReload, AFailedReloadKeepsTheCertificatesInForce) {
  PairCopy files(tls_certs().ecdsa);
  WeftServer weft(https_args({}, {CertPair{files.cert_path(), files.key_path(), ""}}));
  files.write(tls_certs().garbage, tls_certs().ecdsa.key);
  weft.process().send_signal(SIGHUP);
  // For a second after the signal (the reload has been tried by then), new connections still
  // get the certificate loaded at the start, and weft runs on.
  const auto until = Clock::now() + 1s;
  while (Clock::now() < until) {
    EXPECT_EQ(presented(weft.port(), "localhost"), tls_certs().ecdsa.subject);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(weft.process().running());
  const auto response = tls_request(weft.port(), trusting(), "GET", "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  expect_clean_exit(weft.process());
}

}  // namespace
}  // namespace weft::test
