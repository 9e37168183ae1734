// The test client and certificates against OpenSSL's own s_server: they must be able to do
// every thing the weft tests expect weft to refuse (TLS 1.0 and 1.1, CBC and RSA-key-exchange
// suites, renegotiation), or those refusals would prove nothing. Also the client's reports
// (alerts, session reuse, peer certificate) are checked against a server known to be right.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "integration/tls/tls_fixture.hpp"

namespace weft::test {
namespace {

std::vector<std::string> serve(const CertPair& pair, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"-cert", pair.cert, "-key", pair.key, "-cert_chain", tls_certs().intermediate,
                                "-www"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(TlsClientSelfTest, ReportsTheCertificateAndWhatWasNegotiated) {
  SServer server(serve(tls_certs().ecdsa));
  TlsClient client(server.port(), trusting("localhost"));
  const TlsHandshake& hs = client.handshake();
  ASSERT_TRUE(hs.ok) << hs.error;
  EXPECT_EQ(hs.version, "TLSv1.3");
  EXPECT_EQ(hs.verify_result, 0) << hs.verify_error;
  EXPECT_EQ(hs.peer_subject, tls_certs().ecdsa.subject);
  EXPECT_TRUE(has(hs.peer_names, "DNS:localhost"));
  EXPECT_TRUE(has(hs.peer_names, "IP:127.0.0.1"));
  EXPECT_EQ(hs.peer_key_type, "EC");
  EXPECT_EQ(hs.peer_chain_length, 2);
  EXPECT_EQ(hs.group, "X25519");
  EXPECT_FALSE(hs.session_reused);
  ASSERT_TRUE(client.send("GET / HTTP/1.0\r\n\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(TlsClientSelfTest, VerificationFailsForAnotherNameOrAnotherCa) {
  SServer server(serve(tls_certs().ecdsa));
  {
    TlsClient client(server.port(), trusting("a.test"));
    EXPECT_FALSE(client.ok());
    EXPECT_NE(client.handshake().error.find("certificate verify failed"), std::string::npos)
        << client.handshake().error;
  }
  TlsOptions other_ca = trusting("localhost");
  other_ca.ca_file = tls_certs().intermediate;  // not a root: the chain does not end in a trusted anchor
  TlsClient client(server.port(), other_ca);
  EXPECT_FALSE(client.ok());
}

TEST(TlsClientSelfTest, OffersTls10AndTls11WhenAsked) {
  for (const auto& [version, name] : {std::pair{"1.0", "TLSv1"}, std::pair{"1.1", "TLSv1.1"}}) {
    SServer server(serve(tls_certs().ecdsa, {"-cipher", "ALL:@SECLEVEL=0"}));
    TlsOptions options = trusting();
    options.min_version = options.max_version = version;
    TlsClient client(server.port(), options);
    ASSERT_TRUE(client.ok()) << version << ": " << client.handshake().error;
    EXPECT_EQ(client.handshake().version, name);
  }
}

TEST(TlsClientSelfTest, OffersCbcAndRsaKeyExchangeSuitesWhenAsked) {
  for (const char* suite : {"ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256",
                            "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-CHACHA20-POLY1305", "AES128-SHA"}) {
    SServer server(serve(tls_certs().rsa, {"-cipher", "ALL:@SECLEVEL=0"}));
    TlsOptions options = trusting();
    options.max_version = "1.2";
    options.ciphers = suite;
    TlsClient client(server.port(), options);
    ASSERT_TRUE(client.ok()) << suite << ": " << client.handshake().error;
    EXPECT_EQ(client.handshake().cipher, suite);
  }
}

TEST(TlsClientSelfTest, OffersOtherGroupsWhenAsked) {
  SServer server(serve(tls_certs().rsa));
  for (const char* version : {"1.2", "1.3"}) {
    for (const char* group : {"P-384", "P-521", "X448"}) {
      SCOPED_TRACE(std::string(version) + " " + group);
      TlsOptions options = trusting();
      options.min_version = options.max_version = version;
      options.groups = group;
      TlsClient client(server.port(), options);
      ASSERT_TRUE(client.ok()) << client.handshake().error;
      EXPECT_EQ(client.handshake().group, group);
    }
  }
}

TEST(TlsClientSelfTest, ReportsTheAlertOfARefusedVersion) {
  SServer server(serve(tls_certs().ecdsa, {"-tls1_3"}));
  TlsOptions options = trusting();
  options.min_version = options.max_version = "1.2";
  TlsClient client(server.port(), options);
  EXPECT_FALSE(client.ok());
  EXPECT_FALSE(client.handshake().timed_out);
  EXPECT_EQ(client.handshake().alert, "protocol_version") << client.handshake().error;
}

TEST(TlsClientSelfTest, SendsFallbackScsv) {
  SServer server(serve(tls_certs().ecdsa));
  TlsOptions options = trusting();
  options.max_version = "1.2";
  options.fallback_scsv = true;
  TlsClient client(server.port(), options);
  EXPECT_FALSE(client.ok());
  EXPECT_EQ(client.handshake().alert, "inappropriate_fallback") << client.handshake().error;
}

TEST(TlsClientSelfTest, RenegotiatesOnlyWhereAllowed) {
  TlsOptions options = trusting();
  options.max_version = "1.2";
  {
    SServer server(serve(tls_certs().ecdsa, {"-client_renegotiation"}));
    TlsClient client(server.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    const TlsHandshake again = client.renegotiate();
    EXPECT_TRUE(again.ok) << again.error;
  }
  SServer server(serve(tls_certs().ecdsa));  // OpenSSL 3 refuses client renegotiation by default
  TlsClient client(server.port(), options);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  const TlsHandshake again = client.renegotiate();
  EXPECT_FALSE(again.ok);
  EXPECT_FALSE(again.timed_out);
  EXPECT_EQ(again.alert, "no_renegotiation") << again.error;
}

TEST(TlsClientSelfTest, ResumesTls12AndTls13Sessions) {
  for (const char* version : {"1.2", "1.3"}) {
    SCOPED_TRACE(version);
    SServer server(serve(tls_certs().ecdsa));
    TlsOptions options = trusting();
    options.min_version = options.max_version = version;
    TlsSession session;
    {
      TlsClient first(server.port(), options);
      ASSERT_TRUE(first.ok()) << first.handshake().error;
      EXPECT_FALSE(first.handshake().session_reused);
      ASSERT_TRUE(first.send("GET / HTTP/1.0\r\n\r\n"));
      ASSERT_TRUE(first.read_response());  // TLS 1.3 tickets come with the first reads
      session = first.session();
    }
    // Each resumed connection's own session (TLS 1.3: the new ticket it got) resumes again.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(session);
      options.session = session;
      TlsClient again(server.port(), options);
      ASSERT_TRUE(again.ok()) << again.handshake().error;
      EXPECT_TRUE(again.handshake().session_reused) << "resumption " << i + 1;
      ASSERT_TRUE(again.send("GET / HTTP/1.0\r\n\r\n"));
      ASSERT_TRUE(again.read_response());
      session = again.session();
    }
  }
}

TEST(TlsClientSelfTest, SClientSavesTheTicketOfAResumedTls13Connection) {
  // What TlsResumption.AResumedTls13ConnectionGetsAFreshTicket relies on: s_client -sess_out
  // writes a session when a ticket arrives, and a server that renews tickets gives one.
  SServer server(serve(tls_certs().ecdsa, {"-no_cache"}));
  EXPECT_TRUE(resumed_connection_got_a_ticket(server.port()));
}

TEST(TlsClientSelfTest, SendsTheClientCertificate) {
  SServer server(serve(tls_certs().ecdsa, {"-Verify", "1", "-CAfile", tls_certs().ca}));
  TlsOptions options = trusting();
  options.cert_file = tls_certs().client.cert;
  options.key_file = tls_certs().client.key;
  {
    TlsClient client(server.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    ASSERT_TRUE(client.send("GET / HTTP/1.0\r\n\r\n"));
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  // Without one, a TLS 1.3 client finishes its handshake and learns of the refusal on its first read.
  TlsClient client(server.port(), trusting());
  client.send("GET / HTTP/1.0\r\n\r\n");
  EXPECT_FALSE(client.read_response(3s));
  EXPECT_EQ(client.last_alert(), "certificate_required") << client.last_error();
}

TEST(TlsClientSelfTest, ClientHelloBytesAreOneHandshakeRecord) {
  const std::string hello = client_hello_bytes(trusting());
  ASSERT_GT(hello.size(), 50U);
  EXPECT_EQ(hello[0], 0x16);  // handshake
  EXPECT_EQ(hello[5], 0x01);  // ClientHello
  const std::size_t length =
      std::size_t{static_cast<unsigned char>(hello[3])} * 256 + static_cast<unsigned char>(hello[4]);
  EXPECT_EQ(hello.size(), length + 5);
}

TEST(TlsClientSelfTest, CertificatesAreWhatTheTestsAssume) {
  const TlsCerts& certs = tls_certs();
  for (const auto& [pair, type, name] :
       {std::tuple{certs.rsa, "RSA", "DNS:localhost"}, std::tuple{certs.a_test, "EC", "DNS:a.test"},
        std::tuple{certs.b_test_rsa, "RSA", "DNS:b.test"}, std::tuple{certs.wild, "EC", "DNS:*.wild.test"}}) {
    SServer server(serve(pair));
    TlsClient client(server.port(), {});
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_EQ(client.handshake().peer_subject, pair.subject);
    EXPECT_EQ(client.handshake().peer_key_type, type);
    EXPECT_TRUE(has(client.handshake().peer_names, name)) << name;
  }
}

}  // namespace
}  // namespace weft::test
