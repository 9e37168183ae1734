// Debian's testssl.sh against weft: protocols (-p), cipher categories (-s), forward secrecy
// (-f), server defaults and certificate (-S) and every vulnerability check (-U), read from its
// flat JSON report. weft must offer TLS 1.2 and 1.3 only, no cipher category below "strong",
// only the groups X25519 and P-256, session tickets, and be reported vulnerable to nothing.
// The scan takes about a minute: label "tls;slow", bounded at 200 s.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "integration/tls/tls_fixture.hpp"
#include "support/clean_exit.hpp"
#include "support/files.hpp"
#include "support/tls_client.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

struct Finding {
  std::string severity;
  std::string finding;
};

// testssl.sh's flat JSON: an array of objects whose values are all strings.
std::map<std::string, Finding> parse_findings(const std::string& json) {
  std::map<std::string, Finding> findings;
  static const std::regex pair(R"re("([^"]+)"\s*:\s*"((?:[^"\\]|\\.)*)")re");
  std::size_t position = 0;
  while ((position = json.find('{', position)) != std::string::npos) {
    const std::size_t end = json.find('}', position);
    if (end == std::string::npos) break;
    const std::string object = json.substr(position, end - position);
    std::map<std::string, std::string> fields;
    for (auto it = std::sregex_iterator(object.begin(), object.end(), pair); it != std::sregex_iterator();
         ++it) {
      fields[(*it)[1].str()] = (*it)[2].str();
    }
    if (fields.count("id") != 0U) findings[fields["id"]] = {fields["severity"], fields["finding"]};
    position = end + 1;
  }
  return findings;
}

// Certificate and DNS findings judge the throwaway test certificates (no CRL, no OCSP, no CAA
// record), not weft.
bool about_the_certificate(const std::string& id) {
  return id.rfind("cert", 0) == 0 || id.rfind("DNS_", 0) == 0 || id.rfind("OCSP", 0) == 0 ||
         id == "certificate_transparency";
}

// A TLS 1.3 connection that sends a request gets a ticket that a second connection resumes.
bool resumes_a_tls13_ticket(std::uint16_t port) {
  TlsOptions options = trusting();
  options.min_version = "1.3";
  TlsSession session;
  {
    TlsClient first(port, options);
    if (!first.ok() || !first.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n") || !first.read_response()) {
      return false;
    }
    session = first.session();
  }
  if (!session) return false;
  options.session = session;
  TlsClient second(port, options);
  return second.ok() && second.handshake().session_reused;
}

TEST(TestSsl, OnlyTls12And13AndNoVulnerability) {
  const std::string testssl = find_program("testssl");
  if (testssl.empty()) GTEST_SKIP() << "testssl.sh not installed (scripts/bootstrap installs it)";
  WeftServer weft(https_args({"--log-level", "error"}, {tls_certs().ecdsa, tls_certs().b_test_rsa}));
  const fs::path report =
      fs::temp_directory_path() / ("weft-testssl-" + std::to_string(::getpid()) + ".json");
  fs::remove(report);
  const ToolRun run = run_tool("testssl",
                               {"--quiet",
                                "--color",
                                "0",
                                "--warnings",
                                "off",
                                "--connect-timeout",
                                "5",
                                "--openssl-timeout",
                                "10",
                                "--sneaky",
                                "-p",
                                "-s",
                                "-f",
                                "-S",
                                "-U",
                                "--add-ca",
                                tls_certs().ca,
                                "--ip",
                                "127.0.0.1",
                                "--jsonfile",
                                report.string(),
                                "localhost:" + std::to_string(weft.port())},
                               200s);
  ASSERT_TRUE(run.status) << "testssl.sh did not finish within 200 s; output so far:\n" << run.out;
  const auto json = read_file(report.string());
  fs::remove(report);
  ASSERT_TRUE(json) << "no JSON report; output:\n" << run.out << run.err;
  const auto findings = parse_findings(*json);
  ASSERT_GT(findings.size(), 40U) << *json;
  const auto finding = [&findings](const std::string& id) -> Finding {
    const auto it = findings.find(id);
    return it == findings.end() ? Finding{"(missing)", "(missing)"} : it->second;
  };

  // Protocols: TLS 1.2 and 1.3 offered, nothing older.
  for (const char* id : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"}) {
    EXPECT_EQ(finding(id).finding.rfind("not offered", 0), 0U) << id << ": " << finding(id).finding;
  }
  EXPECT_EQ(finding("TLS1_2").finding.rfind("offered", 0), 0U) << finding("TLS1_2").finding;
  EXPECT_EQ(finding("TLS1_3").finding.rfind("offered", 0), 0U) << finding("TLS1_3").finding;
  EXPECT_NE(finding("ALPN").finding.find("http/1.1"), std::string::npos) << finding("ALPN").finding;

  // Cipher categories: only "strong" ones offered; forward secrecy with X25519 and P-256 only.
  for (const char* id : {"cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                         "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"}) {
    EXPECT_EQ(finding(id).finding.rfind("not offered", 0), 0U) << id << ": " << finding(id).finding;
  }
  EXPECT_EQ(finding("cipherlist_STRONG").finding.rfind("offered", 0), 0U);
  EXPECT_EQ(finding("PFS").severity, "OK") << finding("PFS").finding;
  const std::string curves = finding("PFS_ECDHE_curves").finding;
  EXPECT_NE(curves.find("prime256v1"), std::string::npos) << curves;
  EXPECT_NE(curves.find("X25519"), std::string::npos) << curves;
  for (const char* other : {"secp384r1", "secp521r1", "X448", "brainpool"}) {
    EXPECT_EQ(curves.find(other), std::string::npos) << curves;
  }
  EXPECT_EQ(finding("DH_groups").finding.find("ffdhe"), std::string::npos) << finding("DH_groups").finding;

  // Session resumption by ticket. When testssl.sh saw a TLS 1.3 ticket earlier in its scan, it
  // checks resumption with `openssl s_client -tls1_3 </dev/null`, which shuts down as soon as it
  // reads the end of its input: whether the ticket (sent after the client's Finished) arrived first
  // is a race that a loaded machine loses (nginx loses it every time here), and testssl.sh then
  // reports a connect problem. That one outcome is checked directly: a TLS 1.3 handshake, a
  // request, and a second connection resuming the ticket it brought.
  const Finding ticket = finding("sessionresumption_ticket");
  if (ticket.finding != "supported") {
    EXPECT_EQ(ticket.finding, "check failed because of connect problem") << ticket.severity;
    EXPECT_TRUE(resumes_a_tls13_ticket(weft.port()));
  }
  // The chain verifies against the test CA for the name.
  EXPECT_EQ(finding("cert_chain_of_trust").severity, "OK") << finding("cert_chain_of_trust").finding;
  EXPECT_EQ(finding("cert_trust").severity, "OK") << finding("cert_trust").finding;

  // Every vulnerability check ran and found nothing.
  for (const char* id : {"heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
                         "CRIME_TLS", "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN",
                         "LOGJAM", "BEAST", "LUCKY13", "RC4"}) {
    const Finding f = finding(id);
    EXPECT_TRUE(f.severity == "OK" || f.severity == "INFO") << id << ": " << f.severity << " " << f.finding;
  }
  // And no other finding about weft (not its test certificate) is LOW or worse.
  for (const auto& [id, f] : findings) {
    if (about_the_certificate(id)) continue;
    EXPECT_TRUE(f.severity == "OK" || f.severity == "INFO" || f.severity == "WARN")
        << id << ": " << f.severity << " " << f.finding;
  }
  expect_clean_exit(weft.process());
}

}  // namespace
}  // namespace weft::test
