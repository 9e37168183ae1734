// weft's HTTPS seen by other clients than ours: curl (what people type), Python's ssl module
// (another binding, with its own defaults), and openssl s_client, the reference tool for a
// fallback SCSV and for a renegotiation (its `R` command).

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "integration/tls/tls_fixture.hpp"

namespace weft::test {
namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string resolve(std::uint16_t port) { return "localhost:" + std::to_string(port) + ":127.0.0.1"; }

TEST(TlsCurl, VerifiesTheChainAndFetchesOverHttp11AndHttp2) {
  if (find_program("curl").empty()) GTEST_SKIP() << "curl not installed (scripts/bootstrap installs it)";
  WeftServer weft(https_args());
  const std::string url = "https://localhost:" + std::to_string(weft.port()) + "/";
  // --http2 offers h2 and http/1.1 by ALPN: weft picks h2.
  for (const auto& [protocol, version] : {std::pair{"--http1.1", "1.1"}, std::pair{"--http2", "2"}}) {
    SCOPED_TRACE(protocol);
    const ToolRun run =
        run_tool("curl", {"-sS", "--max-time", "10", protocol, "--cacert", tls_certs().ca, "--resolve",
                          resolve(weft.port()), "-w",
                          "\n%{http_code} %{ssl_verify_result} %{http_version} %{scheme}", url});
    ASSERT_TRUE(run.succeeded()) << run.err;
    EXPECT_TRUE(contains(run.out, "Hello!")) << run.out;
    EXPECT_TRUE(run.out.ends_with(std::string("\n200 0 ") + version + " HTTPS")) << run.out;
  }
}

TEST(TlsCurl, VerifiesTheIpAddressOfTheDefaultCertificate) {
  if (find_program("curl").empty()) GTEST_SKIP() << "curl not installed";
  WeftServer weft(https_args());
  const ToolRun run =
      run_tool("curl", {"-sS", "--max-time", "10", "--cacert", tls_certs().ca, "-o", "/dev/null", "-w",
                        "%{http_code}", "https://127.0.0.1:" + std::to_string(weft.port()) + "/"});
  ASSERT_TRUE(run.succeeded()) << run.err;
  EXPECT_EQ(run.out, "200");
}

TEST(TlsCurl, FollowsTheRedirectListenerToHttps) {
  if (find_program("curl").empty()) GTEST_SKIP() << "curl not installed";
  WeftServer weft(https_args({"--http-redirect", "0"}));
  const auto port = redirect_port(weft);
  ASSERT_TRUE(port);
  const ToolRun run = run_tool("curl", {"-sS", "-L", "--max-time", "10", "--cacert", tls_certs().ca,
                                        "--resolve", resolve(weft.port()), "--resolve", resolve(*port), "-o",
                                        "/dev/null", "-w", "%{http_code} %{num_redirects} %{url_effective}",
                                        "http://localhost:" + std::to_string(*port) + "/"});
  ASSERT_TRUE(run.succeeded()) << run.err;
  EXPECT_EQ(run.out, "200 1 https://localhost:" + std::to_string(weft.port()) + "/");
}

TEST(TlsCurl, OldVersionsAreRefused) {
  if (find_program("curl").empty()) GTEST_SKIP() << "curl not installed";
  WeftServer weft(https_args());
  const ToolRun run =
      run_tool("curl", {"-sS", "--max-time", "10", "--tlsv1.1", "--tls-max", "1.1", "--ciphers",
                        "DEFAULT:@SECLEVEL=0", "--cacert", tls_certs().ca, "--resolve", resolve(weft.port()),
                        "https://localhost:" + std::to_string(weft.port()) + "/"});
  ASSERT_TRUE(run.status && run.status->exited) << run.err;
  EXPECT_EQ(run.status->code, 35) << "curl's SSL connect error expected; "
                                  << run.err;  // CURLE_SSL_CONNECT_ERROR
}

// Python's ssl module: a verified HTTPS request (TLS 1.3, ALPN http/1.1: http.client speaks no h2), a resumed
// TLS 1.2 session, and TLS 1.1 refused. Prints one word per check.
constexpr const char* kPython = R"(
import http.client, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])
conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
conn.request("GET", "/")
r = conn.getresponse()
body = r.read()
print("request", conn.sock.version(), conn.sock.selected_alpn_protocol(), r.status, b"Hello!" in body)
conn.close()

ctx12 = ssl.create_default_context(cafile=ca)
ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
def connect(session=None):
    s = ctx12.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                          server_hostname="localhost", session=session)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    while s.recv(65536):
        pass
    return s
first = connect()
session = first.session
try:
    first.unwrap()  # close_notify: the session stays resumable
except (ssl.SSLError, OSError):
    pass
second = connect(session)
print("resumed", second.version(), second.session_reused)
second.close()

old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
old.load_verify_locations(ca)
old.set_ciphers("ALL:@SECLEVEL=0")
old.minimum_version = ssl.TLSVersion.TLSv1_1
old.maximum_version = ssl.TLSVersion.TLSv1_1
try:
    old.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
    print("tls1.1 accepted")
except ssl.SSLError as e:
    print("tls1.1 refused", e.reason)
)";

TEST(TlsPython, SslModuleRequestsResumesAndIsRefusedTls11) {
  if (find_program("python3").empty()) GTEST_SKIP() << "python3 not installed";
  WeftServer weft(https_args());
  const ToolRun run = run_tool("python3", {"-c", kPython, std::to_string(weft.port()), tls_certs().ca}, 30s);
  ASSERT_TRUE(run.succeeded()) << run.out << run.err;
  EXPECT_TRUE(contains(run.out, "request TLSv1.3 http/1.1 200 True\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "resumed TLSv1.2 True\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "tls1.1 refused")) << run.out;
}

TEST(TlsSClient, FallbackScsvGetsTheInappropriateFallbackAlert) {
  WeftServer weft(https_args());
  const ToolRun run = run_tool("openssl",
                               {"s_client", "-connect", "127.0.0.1:" + std::to_string(weft.port()),
                                "-servername", "localhost", "-tls1_2", "-fallback_scsv"},
                               10s);
  ASSERT_TRUE(run.status) << "s_client did not finish";
  EXPECT_NE(run.status->code, 0);
  EXPECT_TRUE(contains(run.out + run.err, "alert inappropriate fallback")) << run.out << run.err;
}

TEST(TlsSClient, TheRCommandsRenegotiationIsRefused) {
  WeftServer weft(https_args());
  // s_client renegotiates on a line "R"; stdin stays open 3 s so it does not quit first.
  const std::string command =
      "(printf 'R\\n'; sleep 3) | exec openssl s_client -connect 127.0.0.1:" + std::to_string(weft.port()) +
      " -servername localhost -tls1_2";
  const ToolRun run = run_tool("sh", {"-c", command}, 15s);
  ASSERT_TRUE(run.status) << "s_client did not finish";
  const std::string all = run.out + run.err;
  EXPECT_TRUE(contains(all, "RENEGOTIATING")) << all;
  // Accepted, s_client carries on and ends with "DONE" and 0; refused, it stops with an error.
  EXPECT_NE(run.status->code, 0) << all;
  EXPECT_FALSE(contains(all, "DONE")) << all;
}

}  // namespace
}  // namespace weft::test
