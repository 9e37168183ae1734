// tls_crypto_floor: the public-key crypto of one TLS 1.3 full handshake (an X25519 key pair and
// shared secret, an ECDSA P-256 signature) with the cheapest use of OpenSSL's EVP API: contexts
// made once, no name lookups in the loop. bench/tls_instructions runs it under callgrind to
// split a handshake's instructions into this floor and OpenSSL's per-handshake overhead.
//
//   tls_crypto_floor x25519|ecdsa N     (N operations; prints nothing useful)
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

EVP_PKEY* generate(const char* type, const char* group) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) != 1 ||
      (group != nullptr && EVP_PKEY_CTX_set_group_name(ctx, group) != 1) || EVP_PKEY_keygen(ctx, &key) != 1) {
    std::fprintf(stderr, "tls_crypto_floor: cannot make a %s key\n", type);
    std::exit(1);
  }
  EVP_PKEY_CTX_free(ctx);
  return key;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tls_crypto_floor x25519|ecdsa N\n");
    return 2;
  }
  const std::string_view what = argv[1];
  const long n = std::strtol(argv[2], nullptr, 10);
  EVP_PKEY_CTX* keygen = EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr);
  EVP_PKEY* peer = generate("X25519", nullptr);
  EVP_PKEY* ec = generate("EC", "P-256");
  EVP_PKEY_CTX* sign = EVP_PKEY_CTX_new_from_pkey(nullptr, ec, nullptr);
  if (keygen == nullptr || EVP_PKEY_keygen_init(keygen) != 1 || sign == nullptr ||
      EVP_PKEY_sign_init(sign) != 1)
    return 1;
  std::array<unsigned char, 32> digest{1, 2, 3};
  std::array<unsigned char, 80> signature{};
  std::array<unsigned char, 32> secret{};
  unsigned sum = 0;
  for (long i = 0; i < n; ++i) {
    if (what == "x25519") {
      // What a server does per handshake: a fresh key pair, then the secret with the client's share.
      EVP_PKEY* key = nullptr;
      if (EVP_PKEY_keygen(keygen, &key) != 1) return 1;
      EVP_PKEY_CTX* derive = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
      std::size_t length = secret.size();
      if (derive == nullptr || EVP_PKEY_derive_init(derive) != 1 ||
          EVP_PKEY_derive_set_peer(derive, peer) != 1 || EVP_PKEY_derive(derive, secret.data(), &length) != 1)
        return 1;
      EVP_PKEY_CTX_free(derive);
      EVP_PKEY_free(key);
    } else {
      std::size_t length = signature.size();
      if (EVP_PKEY_sign(sign, signature.data(), &length, digest.data(), digest.size()) != 1) return 1;
    }
    sum += static_cast<unsigned>(secret[0]) + static_cast<unsigned>(signature[0]);
  }
  std::printf("%u\n", sum);
  EVP_PKEY_CTX_free(sign);
  EVP_PKEY_CTX_free(keygen);
  EVP_PKEY_free(ec);
  EVP_PKEY_free(peer);
  return 0;
}
