#pragma once
// TicketKeys: the keys that encrypt TLS session tickets (TLS 1.2 and 1.3), shared by every loop
// of a server so that a ticket issued on one loop resumes on another, and across certificate
// reloads. The current key encrypts; it is replaced after its lifetime, and the previous one
// still decrypts for one more lifetime (a client resumed with it gets a ticket under the
// current key). Keys live only in memory: a restart invalidates every ticket, as it should.

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace weft::tls {

class TicketKeys {
 public:
  explicit TicketKeys(std::chrono::seconds lifetime);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  /// Makes `ctx` encrypt and decrypt its tickets with these keys (which must outlive it).
  void install(SSL_CTX* ctx);

 private:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes{};
    std::array<unsigned char, 32> hmac{};
    std::chrono::steady_clock::time_point born;
  };
  static int callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt);
  int on_ticket(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                int encrypt);
  static Key fresh_key();

  const std::chrono::seconds lifetime_;
  // Fetched once: an implicit fetch per ticket is a measurable part of a handshake in OpenSSL 3.
  EVP_CIPHER* aes_ = nullptr;
  std::mutex mutex_;  // a few ns per handshake; handshakes are ~100 µs
  Key current_;
  Key previous_;
  bool has_previous_ = false;
};

}  // namespace weft::tls
