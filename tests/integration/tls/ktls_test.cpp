// Files over TLS and kernel TLS, against the weft binary: the start-up line that names the path
// files take, --no-ktls, and (only where the kernel has the TLS ULP) files and ranges fetched
// by curl and Python's ssl module while the kernel encrypts them.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "integration/static/static_fixture.hpp"
#include "integration/tls/tls_fixture.hpp"
#include "support/clean_exit.hpp"
#include "tls/ktls.hpp"

namespace weft::test {
namespace {

const std::string kVariable(tls::kTestKtlsSetupVariable);
constexpr std::string_view kKernelLine = "files over TLS: kTLS sendfile";
constexpr std::string_view kNoKernelLine = "files over TLS: user-space encryption (kernel has no kTLS)";
constexpr std::string_view kForcedLine =
    "files over TLS: user-space encryption (kernel has no kTLS; streams set up for it: WEFT_TEST_KTLS_SETUP)";
constexpr std::string_view kOffLine = "files over TLS: user-space encryption (--no-ktls)";

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(generator() & 0xFFU);
  return data;
}

std::string resolve(std::uint16_t port) { return "localhost:" + std::to_string(port) + ":127.0.0.1"; }

TEST(TlsKtlsStartup, TheLineSaysWhichPathFilesTake) {
  const bool kernel = tls::kernel_has_ktls();
  {
    WeftServer weft(https_args(), {kVariable});  // the test switch removed
    EXPECT_TRUE(weft.process().wait_for_stderr(kernel ? kKernelLine : kNoKernelLine, 5s))
        << weft.process().err();
    expect_clean_exit(weft.process());
  }
  {
    WeftServer weft(https_args(), {kVariable + "=1"});
    EXPECT_TRUE(weft.process().wait_for_stderr(kernel ? kKernelLine : kForcedLine, 5s))
        << weft.process().err();
    expect_clean_exit(weft.process());
  }
}

TEST(TlsKtlsStartup, NoKtlsSaysSoAndFilesStillArriveWhole) {
  StaticTree tree;
  const std::string big = random_bytes((std::size_t{1} << 20) + 9, 3);
  tree.write("big.bin", big);
  WeftServer weft(https_args({"--no-ktls", tree.root_arg()}), {kVariable + "=1"});
  EXPECT_TRUE(weft.process().wait_for_stderr(kOffLine, 5s)) << weft.process().err();
  EXPECT_EQ(weft.process().err().find("files over TLS: kTLS"), std::string::npos) << weft.process().err();
  const auto response = tls_request(weft.port(), trusting(), "GET", "/big.bin");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(sha256_hex(response->body), sha256_hex(big));
  expect_clean_exit(weft.process());
}

TEST(TlsKtlsStartup, NoKtlsWithoutHttpsIsAUsageError) {
  const RunResult run = run_weft({"--no-ktls"});
  ASSERT_TRUE(run.status && run.status->exited);
  EXPECT_EQ(run.status->code, 2);
  EXPECT_NE(run.err.find("--no-ktls needs --tls-cert and --tls-key"), std::string::npos) << run.err;
}

// HTTP/2 over TLS writes through the same stream: DATA frames of a file, byte for byte.
TEST(TlsKtlsH2, AFileAndARangeOverH2ArriveByteForByte) {
  if (find_program("curl").empty()) GTEST_SKIP() << "curl not installed (scripts/bootstrap installs it)";
  StaticTree tree;
  const std::string big = random_bytes((std::size_t{3} << 20) + 1, 9);
  tree.write("big.bin", big);
  WeftServer weft(https_args({tree.root_arg()}));
  const std::string url = "https://localhost:" + std::to_string(weft.port()) + "/big.bin";
  for (const bool range : {false, true}) {
    std::vector<std::string> args = {"-sS",      "--max-time",   "20",        "--http2",
                                     "--cacert", tls_certs().ca, "--resolve", resolve(weft.port())};
    if (range) args.insert(args.end(), {"-r", "70000-2100000"});
    args.push_back(url);
    const ToolRun run = run_tool("curl", args, 30s);
    ASSERT_TRUE(run.succeeded()) << run.err;
    const std::string want = range ? big.substr(70000, 2100000 - 70000 + 1) : big;
    ASSERT_EQ(run.out.size(), want.size());
    EXPECT_EQ(sha256_hex(run.out), sha256_hex(want));
  }
  expect_clean_exit(weft.process());
}

// Python's ssl module: the whole file, then a range on the same kept-alive connection.
constexpr const char* kPythonFetch = R"(
import hashlib, socket, ssl, sys
port, ca, path, first, last = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="localhost")
f = s.makefile("rb")
def get(extra):
    s.sendall(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n").encode())
    status = f.readline().split()[1].decode()
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, hashlib.sha256(f.read(length)).hexdigest()
print(*get(""))
print(*get("Range: bytes=%d-%d\r\n" % (first, last)))
)";

TEST(TlsKernel, CurlAndPythonFetchFilesAndRangesByteForByte) {
  if (!tls::kernel_has_ktls())
    GTEST_SKIP() << "kernel has no TLS ULP: /proc/sys/net/ipv4/tcp_available_ulp lacks tls";
  if (find_program("curl").empty() || find_program("python3").empty())
    GTEST_SKIP() << "curl or python3 not installed (scripts/bootstrap installs them)";
  StaticTree tree;
  const std::string big = random_bytes((std::size_t{8} << 20) + 3, 5);
  tree.write("big.bin", big);
  WeftServer weft(https_args({tree.root_arg()}));
  ASSERT_TRUE(weft.process().wait_for_stderr(kKernelLine, 5s)) << weft.process().err();
  const std::size_t first = 1000003;
  const std::size_t last = 5000011;
  const std::string url = "https://localhost:" + std::to_string(weft.port()) + "/big.bin";
  for (const char* version : {"--tlsv1.2", "--tlsv1.3"}) {
    SCOPED_TRACE(version);
    for (const bool range : {false, true}) {
      std::vector<std::string> args = {"-sS",          "--max-time", "20",
                                       version,        "--http1.1",  "--cacert",
                                       tls_certs().ca, "--resolve",  resolve(weft.port())};
      if (range) args.insert(args.end(), {"-r", std::to_string(first) + "-" + std::to_string(last)});
      args.push_back(url);
      const ToolRun run = run_tool("curl", args, 30s);
      ASSERT_TRUE(run.succeeded()) << run.err;
      const std::string want = range ? big.substr(first, last - first + 1) : big;
      ASSERT_EQ(run.out.size(), want.size());
      EXPECT_EQ(sha256_hex(run.out), sha256_hex(want));
    }
  }
  const ToolRun python = run_tool("python3",
                                  {"-c", kPythonFetch, std::to_string(weft.port()), tls_certs().ca,
                                   "/big.bin", std::to_string(first), std::to_string(last)},
                                  30s);
  ASSERT_TRUE(python.succeeded()) << python.out << python.err;
  EXPECT_EQ(python.out,
            "200 " + sha256_hex(big) + "\n206 " + sha256_hex(big.substr(first, last - first + 1)) + "\n");
  expect_clean_exit(weft.process());
}

}  // namespace
}  // namespace weft::test
