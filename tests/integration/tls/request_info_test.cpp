// What a handler learns of the TLS connection (an in-process weft::Server with Config::tls):
// req.scheme(), req.tls_version(), req.tls_server_name(), req.tls_client_subject() and
// req.tls(); certificates as PEM text in memory; a bad certificate refused by the constructor;
// the redirect listener of the library.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "integration/tls/tls_fixture.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "weft/server.hpp"

namespace weft::test {
namespace {

Config tls_config(std::vector<TlsCertificate> certificates = {}) {
  Config config = test_config();
  if (certificates.empty()) certificates.push_back({tls_certs().ecdsa.cert, tls_certs().ecdsa.key, "", ""});
  config.tls.certificates = std::move(certificates);
  return config;
}

// GET /info answers "scheme|version|server name|client subject|resumed".
void info_route(Server& server) {
  server.get("/info", [](const Request& req) {
    const bool resumed = req.tls() != nullptr && req.tls()->resumed;
    return Response::text(200, std::string(req.scheme()) + "|" + std::string(req.tls_version()) + "|" +
                                   std::string(req.tls_server_name()) + "|" +
                                   std::string(req.tls_client_subject()) + "|" +
                                   (resumed ? "resumed" : "new"));
  });
}

std::string info(std::uint16_t port, const TlsOptions& options) {
  const auto response = tls_request(port, options, "GET", "/info");
  if (!response) return "no response";
  return response->body;
}

TEST(TlsRequestInfo, HandlersSeeSchemeVersionAndServerName) {
  LiveServer server(tls_config(), info_route);
  EXPECT_EQ(info(server.port(), trusting("localhost")), "https|TLSv1.3|localhost||new");
  TlsOptions tls12 = trusting("localhost");
  tls12.max_version = "1.2";
  EXPECT_EQ(info(server.port(), tls12), "https|TLSv1.2|localhost||new");
  TlsOptions no_sni;
  EXPECT_EQ(info(server.port(), no_sni), "https|TLSv1.3|||new");
}

TEST(TlsRequestInfo, TheServerNameIsLowercase) {
  LiveServer server(tls_config(), info_route);
  TlsOptions options;
  options.sni = "LocalHost";
  EXPECT_EQ(info(server.port(), options), "https|TLSv1.3|localhost||new");
}

TEST(TlsRequestInfo, CleartextRequestsHaveNoTls) {
  LiveServer server(test_config(), info_route);
  const auto response = get(server.port(), "/info");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "http||||new");
}

TEST(TlsRequestInfo, HandlersSeeTheVerifiedClientSubject) {
  Config config = tls_config();
  config.tls.client_ca_file = tls_certs().ca;
  LiveServer server(config, info_route);
  for (const char* version : {"1.2", "1.3"}) {
    TlsOptions options = trusting();
    options.min_version = options.max_version = version;
    options.cert_file = tls_certs().client.cert;
    options.key_file = tls_certs().client.key;
    EXPECT_EQ(info(server.port(), options),
              std::string("https|TLSv") + version + "|localhost|CN=weft test client,O=weft tests|new");
  }
  EXPECT_EQ(tls_certs().client.subject, "CN=weft test client,O=weft tests");
  EXPECT_EQ(info(server.port(), trusting()), "no response");
}

TEST(TlsRequestInfo, AnOptionalClientCertificateLeavesTheSubjectEmptyWhenNoneIsSent) {
  Config config = tls_config();
  config.tls.client_ca_file = tls_certs().ca;
  config.tls.client_cert_optional = true;
  LiveServer server(config, info_route);
  EXPECT_EQ(info(server.port(), trusting()), "https|TLSv1.3|localhost||new");
  TlsOptions with_cert = trusting();
  with_cert.cert_file = tls_certs().client.cert;
  with_cert.key_file = tls_certs().client.key;
  EXPECT_EQ(info(server.port(), with_cert), "https|TLSv1.3|localhost|CN=weft test client,O=weft tests|new");
  // An unverifiable certificate never reaches a handler as a subject.
  TlsOptions stranger = trusting();
  stranger.cert_file = tls_certs().stranger_client.cert;
  stranger.key_file = tls_certs().stranger_client.key;
  const std::string seen = info(server.port(), stranger);
  EXPECT_EQ(seen.find("stranger"), std::string::npos) << seen;
}

TEST(TlsRequestInfo, AResumedSessionIsVisibleToTheHandler) {
  LiveServer server(tls_config(), info_route);
  for (const char* version : {"1.2", "1.3"}) {
    SCOPED_TRACE(version);
    TlsOptions options = trusting();
    options.min_version = options.max_version = version;
    TlsSession session;
    {
      TlsClient first(server.port(), options);
      ASSERT_TRUE(first.ok()) << first.handshake().error;
      ASSERT_TRUE(first.send(make_request("GET", "/info")));
      const auto response = first.read_response();
      ASSERT_TRUE(response);
      EXPECT_TRUE(response->body.ends_with("|new")) << response->body;
      session = first.session();
    }
    options.session = session;
    TlsClient second(server.port(), options);
    ASSERT_TRUE(second.ok()) << second.handshake().error;
    EXPECT_TRUE(second.handshake().session_reused);
    ASSERT_TRUE(second.send(make_request("GET", "/info")));
    const auto response = second.read_response();
    ASSERT_TRUE(response);
    EXPECT_TRUE(response->body.ends_with("|resumed")) << response->body;
  }
}

TEST(TlsRequestInfo, CertificatesGivenAsPemTextServe) {
  const auto cert = read_file(tls_certs().a_test.cert);
  const auto key = read_file(tls_certs().a_test.key);
  ASSERT_TRUE(cert && key);
  LiveServer server(
      tls_config({{"", "", *cert, *key}, {tls_certs().ecdsa.cert, tls_certs().ecdsa.key, "", ""}}),
      info_route);
  TlsClient client(server.port(), trusting("a.test"));
  ASSERT_TRUE(client.ok()) << client.handshake().error;
  EXPECT_EQ(client.handshake().peer_subject, tls_certs().a_test.subject);
  EXPECT_EQ(client.handshake().peer_chain_length, 2);
  EXPECT_EQ(info(server.port(), trusting("localhost")), "https|TLSv1.3|localhost||new");
}

TEST(TlsRequestInfo, ABadCertificateOrKeyIsRefusedByTheConstructorNamingTheFile) {
  const auto expect_refused = [](const TlsCertificate& pair, const std::string& named) {
    try {
      Server server(tls_config({pair}));
      ADD_FAILURE() << "accepted a bad pair naming " << named;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(named), std::string::npos) << error.what();
    }
  };
  const TlsCerts& certs = tls_certs();
  expect_refused({certs.garbage, certs.ecdsa.key, "", ""}, certs.garbage);
  expect_refused({certs.ecdsa.cert, certs.garbage, "", ""}, certs.garbage);
  expect_refused({certs.dir + "/missing.pem", certs.ecdsa.key, "", ""}, certs.dir + "/missing.pem");
  // A key that does not belong to the certificate: named by either file.
  try {
    Server server(tls_config({{certs.ecdsa.cert, certs.other_key, "", ""}}));
    ADD_FAILURE() << "accepted a key of another certificate";
  } catch (const std::invalid_argument& error) {
    const std::string what = error.what();
    EXPECT_TRUE(what.find(certs.other_key) != std::string::npos ||
                what.find(certs.ecdsa.cert) != std::string::npos)
        << what;
  }
}

TEST(TlsRequestInfo, TheLibrarysRedirectListenerAnswers308) {
  Config config = tls_config();
  config.http_redirect_port = 0;
  config.hsts_seconds = 86400;
  LiveServer server(config, info_route);
  ASSERT_NE(server.server().redirect_port(), 0);
  const auto redirected = get(server.server().redirect_port(), "/info?x=1");
  ASSERT_TRUE(redirected);
  EXPECT_EQ(redirected->status, 308);
  EXPECT_EQ(redirected->header("Location"),
            "https://localhost:" + std::to_string(server.port()) + "/info?x=1");
  EXPECT_FALSE(redirected->has("Strict-Transport-Security"));
  const auto response = tls_request(server.port(), trusting(), "GET", "/info");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Strict-Transport-Security"), "max-age=86400");
}

}  // namespace
}  // namespace weft::test
