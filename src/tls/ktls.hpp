#pragma once
// Kernel TLS (kTLS) for files over HTTPS: whether a listener's streams are set up for it, and
// the start-up line that says which path files take.
//
// With kTLS the kernel encrypts what is written to the socket, so a file leaves by
// SSL_sendfile (sendfile(2)) instead of pread + SSL_write. OpenSSL 3.0 hands the keys to the
// kernel only through its own socket BIO (at the key change: BIO_set_ktls on the write BIO),
// so a stream set up for kTLS writes through that BIO (TlsStream's "direct" mode) instead of
// weft's memory BIO; whether the kernel then took the keys is known per connection after the
// handshake (BIO_get_ktls_send), since it depends on the cipher.

#include <cstdint>
#include <string_view>

#include "weft/tls_config.hpp"

namespace weft::tls {

enum class KtlsMode : std::uint8_t {
  kSendfile,    ///< the kernel offers kTLS: streams are set up for it, files go by SSL_sendfile
  kNoKernel,    ///< the kernel has no TLS ULP: memory BIO, files through SSL_write
  kOff,         ///< TlsConfig::ktls is off (--no-ktls): memory BIO, files through SSL_write
  kTestDirect,  ///< no TLS ULP, but WEFT_TEST_KTLS_SETUP=1 asks for the kTLS set-up anyway (tests):
                ///< OpenSSL writes user-space records through its socket BIO, files through SSL_write
};

/// The environment variable that forces the kTLS stream set-up where the kernel lacks the ULP,
/// so that the direct write path runs (and is tested) on such kernels too. Value "1".
inline constexpr std::string_view kTestKtlsSetupVariable = "WEFT_TEST_KTLS_SETUP";

/// True when the kernel offers TLS in the socket layer (/proc/sys/net/ipv4/tcp_available_ulp
/// lists "tls"; a tls module that is built but not loaded yet is not seen).
[[nodiscard]] bool kernel_has_ktls();

/// What a listener with `config` does (reads the kernel's ULP list and the environment).
[[nodiscard]] KtlsMode ktls_mode(const TlsConfig& config);

/// Whether streams of `mode` write through OpenSSL's socket BIO with SSL_OP_ENABLE_KTLS.
[[nodiscard]] constexpr bool writes_direct(KtlsMode mode) noexcept {
  return mode == KtlsMode::kSendfile || mode == KtlsMode::kTestDirect;
}

/// The start-up line: "files over TLS: kTLS sendfile", or "files over TLS: user-space
/// encryption (why)".
[[nodiscard]] std::string_view describe(KtlsMode mode) noexcept;

}  // namespace weft::tls
