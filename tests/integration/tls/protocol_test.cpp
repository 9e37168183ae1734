// What weft's TLS layer agrees to and what it refuses, seen by a client (support/tls_client.hpp)
// that offers one thing at a time: versions (1.2 and 1.3 only), TLS 1.2 suites (ECDHE with an
// AEAD only), groups (X25519 and P-256), ALPN (http/1.1, or none), fallback SCSV, renegotiation
// (refused) and session resumption (TLS 1.2 and 1.3). The client's own tests
// (client_selftest_test.cpp) show that it can negotiate each refused thing with a server that
// allows it, so a refusal here is weft's.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "integration/tls/tls_fixture.hpp"
#include "support/clean_exit.hpp"

namespace weft::test {
namespace {

// An ECDSA default certificate, and an RSA one for b.test (the ECDHE-RSA suites need it).
std::vector<std::string> two_key_types(std::vector<std::string> extra = {}) {
  return https_args(std::move(extra), {tls_certs().ecdsa, tls_certs().b_test_rsa});
}

TlsOptions with_versions(TlsOptions options, const char* min, const char* max) {
  options.min_version = min;
  options.max_version = max;
  return options;
}

// One GET / on an established connection: the built-in site's hello page.
void expect_hello(TlsClient& client) {
  ASSERT_TRUE(client.send(make_request("GET", "/")));
  const auto response = client.read_response();
  ASSERT_TRUE(response) << client.last_error();
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("Hello!"), std::string::npos);
}

TEST(TlsVersions, Tls13IsChosenWhenOffered) {
  WeftServer weft(https_args());
  EXPECT_EQ(weft.listening_line().rfind(
                "weft listening on https://127.0.0.1:" + std::to_string(weft.port()) + "/ (built-in site", 0),
            0U)
      << weft.listening_line();
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().version, "TLSv1.3");
  EXPECT_EQ(client.handshake().verify_result, 0) << client.handshake().verify_error;
  expect_hello(client);
  expect_clean_exit(weft.process());
}

TEST(TlsVersions, Tls12IsAccepted) {
  WeftServer weft(https_args());
  TlsClient client(weft.port(), with_versions(trusting(), "1.2", "1.2"));
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().version, "TLSv1.2");
  expect_hello(client);
}

TEST(TlsVersions, Tls10AndTls11AreRefusedWithProtocolVersion) {
  WeftServer weft(https_args());
  for (const char* version : {"1.0", "1.1"}) {
    SCOPED_TRACE(version);
    TlsClient client(weft.port(), with_versions(trusting(), version, version));
    EXPECT_FALSE(client.ok()) << "negotiated " << client.handshake().version;
    EXPECT_FALSE(client.handshake().timed_out);
    EXPECT_EQ(client.handshake().alert, "protocol_version") << client.handshake().error;
  }
  // A client that offers 1.0 to 1.3 gets 1.3.
  TlsClient client(weft.port(), with_versions(trusting(), "1.0", "1.3"));
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().version, "TLSv1.3");
}

TEST(TlsVersions, TlsMin13RefusesTls12) {
  WeftServer weft(https_args({"--tls-min", "1.3"}));
  {
    TlsClient client(weft.port(), with_versions(trusting(), "1.2", "1.2"));
    EXPECT_FALSE(client.ok()) << "negotiated " << client.handshake().version;
    EXPECT_EQ(client.handshake().alert, "protocol_version") << client.handshake().error;
  }
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().version, "TLSv1.3");
  expect_hello(client);
}

TEST(TlsSuites, Tls12EcdheAeadSuitesAreAcceptedForTheirKeyType) {
  WeftServer weft(two_key_types());
  const std::vector<std::pair<const char*, const char*>> suites = {
      {"ECDHE-ECDSA-AES128-GCM-SHA256", "localhost"}, {"ECDHE-ECDSA-AES256-GCM-SHA384", "localhost"},
      {"ECDHE-ECDSA-CHACHA20-POLY1305", "localhost"}, {"ECDHE-RSA-AES128-GCM-SHA256", "b.test"},
      {"ECDHE-RSA-AES256-GCM-SHA384", "b.test"},      {"ECDHE-RSA-CHACHA20-POLY1305", "b.test"}};
  for (const auto& [suite, name] : suites) {
    SCOPED_TRACE(suite);
    TlsOptions options = with_versions(trusting(name), "1.2", "1.2");
    options.ciphers = suite;
    TlsClient client(weft.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_EQ(client.handshake().cipher, suite);
    expect_hello(client);
  }
}

TEST(TlsSuites, Tls12SuitesWithoutEcdheOrWithoutAeadAreRefused) {
  WeftServer weft(two_key_types());
  const std::vector<std::pair<const char*, const char*>> suites = {
      // ECDHE, but CBC with HMAC (no AEAD)
      {"ECDHE-ECDSA-AES128-SHA256", "localhost"},
      {"ECDHE-ECDSA-AES256-SHA384", "localhost"},
      {"ECDHE-ECDSA-AES128-SHA", "localhost"},
      {"ECDHE-RSA-AES128-SHA256", "b.test"},
      {"ECDHE-RSA-AES256-SHA", "b.test"},
      // AEAD, but RSA key transport or finite-field DHE (no ECDHE)
      {"AES128-GCM-SHA256", "b.test"},
      {"AES256-GCM-SHA384", "b.test"},
      {"DHE-RSA-AES128-GCM-SHA256", "b.test"},
      {"DHE-RSA-CHACHA20-POLY1305", "b.test"},
      // neither
      {"AES128-SHA", "b.test"},
  };
  for (const auto& [suite, name] : suites) {
    SCOPED_TRACE(suite);
    TlsOptions options = with_versions(trusting(name), "1.2", "1.2");
    options.ciphers = suite;
    TlsClient client(weft.port(), options);
    EXPECT_FALSE(client.ok()) << "negotiated " << client.handshake().cipher;
    EXPECT_FALSE(client.handshake().timed_out);
    EXPECT_EQ(client.handshake().alert, "handshake_failure") << client.handshake().error;
  }
}

TEST(TlsSuites, Tls13SuitesAreAccepted) {
  WeftServer weft(https_args());
  for (const char* suite :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    SCOPED_TRACE(suite);
    TlsOptions options = trusting();
    options.ciphersuites = suite;
    TlsClient client(weft.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_EQ(client.handshake().cipher, suite);
    expect_hello(client);
  }
}

// TLS 1.2 ties the ECDSA certificate's curve to the groups the client lists (RFC 8422): a
// client offering X25519 alone cannot take a P-256 certificate. The TLS 1.2 cases use the RSA
// certificate (b.test), so that the key exchange alone decides.
const char* name_for(const std::string& version) { return version == "1.2" ? "b.test" : "localhost"; }

TEST(TlsGroups, X25519AndP256AreAcceptedInBothVersions) {
  WeftServer weft(two_key_types());
  for (const char* version : {"1.2", "1.3"}) {
    for (const char* group : {"X25519", "P-256"}) {
      SCOPED_TRACE(std::string(version) + " " + group);
      TlsOptions options = with_versions(trusting(name_for(version)), version, version);
      options.groups = group;
      TlsClient client(weft.port(), options);
      ASSERT_TRUE(client.ok()) << client.handshake().error;
      EXPECT_EQ(client.handshake().group, group);
    }
  }
  // A TLS 1.2 client of the ECDSA certificate that lists both gets X25519 (or P-256): served.
  TlsOptions both = with_versions(trusting(), "1.2", "1.2");
  both.groups = "X25519:P-256";
  TlsClient client(weft.port(), both);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  expect_hello(client);
}

TEST(TlsGroups, OtherGroupsAloneAreRefused) {
  WeftServer weft(two_key_types());
  for (const char* version : {"1.2", "1.3"}) {
    for (const char* group : {"P-384", "P-521", "X448"}) {
      SCOPED_TRACE(std::string(version) + " " + group);
      TlsOptions options = with_versions(trusting(name_for(version)), version, version);
      options.groups = group;
      TlsClient client(weft.port(), options);
      EXPECT_FALSE(client.ok()) << "negotiated " << client.handshake().group;
      EXPECT_FALSE(client.handshake().timed_out);
    }
  }
}

TEST(TlsGroups, Tls13KeyShareOfAnotherGroupGetsAHelloRetryForP256) {
  WeftServer weft(https_args());
  TlsOptions options = trusting();
  options.groups = "P-384:P-256";  // OpenSSL sends a key share for the first group only
  TlsClient client(weft.port(), options);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().version, "TLSv1.3");
  EXPECT_EQ(client.handshake().group, "P-256");
  expect_hello(client);
}

TEST(TlsAlpn, H2IsPreferredHttp11ServedAndNoAlpnIsHttp11) {
  WeftServer weft(https_args());
  {
    TlsOptions options = trusting();
    options.alpn = {"http/1.1"};
    TlsClient client(weft.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_EQ(client.handshake().alpn, "http/1.1");
    expect_hello(client);
  }
  // Our preference wins whatever the client's order (h2 then http/1.1, as h2o and nginx).
  for (const std::vector<std::string>& offer :
       {std::vector<std::string>{"h2", "http/1.1"}, std::vector<std::string>{"http/1.1", "h2"}}) {
    TlsOptions options = trusting();
    options.alpn = offer;
    TlsClient client(weft.port(), options);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_EQ(client.handshake().alpn, "h2");
  }
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().alpn, "");
  expect_hello(client);
}

TEST(TlsAlpn, NoH2OffersHttp11Only) {
  WeftServer weft(https_args({"--no-h2"}));
  TlsOptions options = trusting();
  options.alpn = {"h2", "http/1.1"};
  TlsClient client(weft.port(), options);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().alpn, "http/1.1");
  expect_hello(client);
  options.alpn = {"h2"};
  TlsClient refused(weft.port(), options);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.handshake().alert, "no_application_protocol") << refused.handshake().error;
}

TEST(TlsAlpn, NoCommonProtocolIsRefusedWithNoApplicationProtocol) {
  WeftServer weft(https_args());
  for (const std::vector<std::string>& offer :
       {std::vector<std::string>{"h2x"}, std::vector<std::string>{"h2c"},
        std::vector<std::string>{"spdy/3.1", "h3"}}) {
    for (const char* version : {"1.2", "1.3"}) {
      SCOPED_TRACE(offer.front() + " TLS " + version);
      TlsOptions options = with_versions(trusting(), version, version);
      options.alpn = offer;
      TlsClient client(weft.port(), options);
      EXPECT_FALSE(client.ok()) << "selected '" << client.handshake().alpn << "'";
      EXPECT_EQ(client.handshake().alert, "no_application_protocol") << client.handshake().error;
    }
  }
}

TEST(TlsFallback, ScsvBelowTheHighestVersionGetsInappropriateFallback) {
  WeftServer weft(https_args());
  TlsOptions options = with_versions(trusting(), "1.2", "1.2");
  options.fallback_scsv = true;
  TlsClient client(weft.port(), options);
  EXPECT_FALSE(client.ok()) << "negotiated " << client.handshake().version;
  EXPECT_EQ(client.handshake().alert, "inappropriate_fallback") << client.handshake().error;
}

TEST(TlsFallback, ScsvAtTheHighestVersionIsHarmless) {
  WeftServer weft(https_args());
  TlsOptions options = trusting();
  options.fallback_scsv = true;
  TlsClient client(weft.port(), options);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().version, "TLSv1.3");
}

TEST(TlsRenegotiation, ClientRenegotiationIsRefusedAndOthersAreServed) {
  WeftServer weft(https_args());
  TlsClient client(weft.port(), with_versions(trusting(), "1.2", "1.2"));
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  expect_hello(client);
  const TlsHandshake again = client.renegotiate(5s);
  EXPECT_FALSE(again.ok) << "the server renegotiated";
  EXPECT_FALSE(again.timed_out) << "the server neither renegotiated nor refused";
  // Refused the way RFC 5246 (7.2.2) says: the warning alert no_renegotiation.
  EXPECT_EQ(again.alert, "no_renegotiation") << again.error;
  TlsClient other(weft.port(), trusting());
  ASSERT_TRUE(other.ok()) << other.handshake().error;
  expect_hello(other);
  expect_clean_exit(weft.process());
}

// A first connection with one request, then `count` connections offering its session.
void expect_resumption(const char* version, int count) {
  WeftServer weft(https_args());
  const TlsOptions options = with_versions(trusting(), version, version);
  TlsSession session;
  {
    TlsClient first(weft.port(), options);
    ASSERT_TRUE(first.ok()) << first.handshake().error;
    EXPECT_FALSE(first.handshake().session_reused);
    expect_hello(first);  // a TLS 1.3 ticket comes after the handshake, with the first reads
    session = first.session();
  }
  ASSERT_TRUE(session);
  // weft has two loops (SO_REUSEPORT): the connections land on both, and each must resume.
  for (int i = 0; i < count; ++i) {
    SCOPED_TRACE("connection " + std::to_string(i + 1));
    TlsOptions again = options;
    again.session = session;
    TlsClient client(weft.port(), again);
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    EXPECT_TRUE(client.handshake().session_reused);
    EXPECT_EQ(client.handshake().version, std::string("TLSv") + version);
    expect_hello(client);
  }
}

TEST(TlsResumption, Tls12SessionsAreResumedOnEveryLoop) { expect_resumption("1.2", 8); }

TEST(TlsResumption, Tls13TicketsAreResumedOnEveryLoop) { expect_resumption("1.3", 8); }

TEST(TlsResumption, AResumedTls13ConnectionGetsAFreshTicket) {
  // TLS 1.3 clients use a ticket once (RFC 8446, appendix C.4; browsers do): without a new
  // ticket after each resumption, every other connection of theirs is a full handshake.
  WeftServer weft(https_args());
  EXPECT_TRUE(resumed_connection_got_a_ticket(weft.port()))
      << "no NewSessionTicket after a resumed TLS 1.3 handshake";
}

TEST(TlsResumption, AForeignSessionIsAFullHandshake) {
  // A session from another server (another weft, other ticket keys) is not resumed, and the
  // handshake still succeeds.
  TlsSession foreign;
  {
    WeftServer other(https_args());
    TlsClient client(other.port(), trusting());
    ASSERT_TRUE(client.ok()) << client.handshake().error;
    expect_hello(client);
    foreign = client.session();
  }
  ASSERT_TRUE(foreign);
  WeftServer weft(https_args());
  TlsOptions options = trusting();
  options.session = foreign;
  TlsClient client(weft.port(), options);
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_FALSE(client.handshake().session_reused);
  expect_hello(client);
}

TEST(TlsChain, TheWholeChainIsSentAndVerifies) {
  WeftServer weft(https_args());
  TlsClient client(weft.port(), trusting());
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().peer_chain_length, 2) << "leaf and intermediate";
  EXPECT_EQ(client.handshake().verify_result, 0) << client.handshake().verify_error;
}

}  // namespace
}  // namespace weft::test
