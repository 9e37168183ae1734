#include "tls/ktls.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

namespace weft::tls {

bool kernel_has_ktls() {
  std::ifstream ulp("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string word;
  while (ulp >> word) {
    if (word == "tls") return true;
  }
  return false;
}

KtlsMode ktls_mode(const TlsConfig& config) {
  if (!config.ktls) return KtlsMode::kOff;
  if (kernel_has_ktls()) return KtlsMode::kSendfile;
  // Read when a listener's contexts are built (start-up and reload), never on a loop.
  const char* forced =
      std::getenv(std::string(kTestKtlsSetupVariable).c_str());  // NOLINT(concurrency-mt-unsafe)
  if (forced != nullptr && std::string_view(forced) == "1") return KtlsMode::kTestDirect;
  return KtlsMode::kNoKernel;
}

std::string_view describe(KtlsMode mode) noexcept {
  switch (mode) {
    case KtlsMode::kSendfile:
      return "files over TLS: kTLS sendfile";
    case KtlsMode::kNoKernel:
      return "files over TLS: user-space encryption (kernel has no kTLS)";
    case KtlsMode::kOff:
      return "files over TLS: user-space encryption (--no-ktls)";
    case KtlsMode::kTestDirect:
      return "files over TLS: user-space encryption (kernel has no kTLS; streams set up for it: "
             "WEFT_TEST_KTLS_SETUP)";
  }
  return {};
}

}  // namespace weft::tls
