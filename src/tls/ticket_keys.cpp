#include "tls/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace weft::tls {
namespace {

// SSL_CTX ex_data slot holding the TicketKeys of a context.
int ex_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

TicketKeys::TicketKeys(std::chrono::seconds lifetime) : lifetime_(lifetime) {
  aes_ = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  if (aes_ == nullptr) throw std::runtime_error("OpenSSL has no AES-256-CBC");
  current_ = fresh_key();
}

TicketKeys::~TicketKeys() {
  OPENSSL_cleanse(&current_, sizeof current_);
  OPENSSL_cleanse(&previous_, sizeof previous_);
  EVP_CIPHER_free(aes_);
}

TicketKeys::Key TicketKeys::fresh_key() {
  Key key;
  if (RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) != 1 ||
      RAND_bytes(key.aes.data(), static_cast<int>(key.aes.size())) != 1 ||
      RAND_bytes(key.hmac.data(), static_cast<int>(key.hmac.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed for a session ticket key");
  }
  key.born = std::chrono::steady_clock::now();
  return key;
}

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, ex_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeys::callback);
}

int TicketKeys::callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                         EVP_MAC_CTX* mac, int encrypt) {
  // Tickets belong to the context the handshake started on (OpenSSL's session_ctx), which the
  // SNI switch does not change; every context of a server carries the same keys anyway.
  auto* self = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
  if (self == nullptr) return -1;
  const int result = self->on_ticket(name, iv, cipher, mac, encrypt);
  // TLS 1.3 tickets are meant for one use (RFC 8446 C.4: reuse links the connections): a
  // resumed TLS 1.3 connection always gets a fresh ticket, as nginx does.
  if (result == 1 && encrypt == 0 && SSL_version(ssl) == TLS1_3_VERSION) return 2;
  return result;
}

int TicketKeys::on_ticket(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                          int encrypt) {
  Key key;
  int result = 1;
  {
    const std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - current_.born >= lifetime_) {
      try {
        Key next = fresh_key();
        previous_ = current_;
        has_previous_ = true;
        current_ = next;
      } catch (const std::exception&) {
        // Keep the old key rather than fail handshakes; the next ticket tries again.
      }
    }
    if (encrypt != 0 || std::equal(current_.name.begin(), current_.name.end(), name)) {
      key = current_;
    } else if (has_previous_ && now - previous_.born < 2 * lifetime_ &&
               std::equal(previous_.name.begin(), previous_.name.end(), name)) {
      key = previous_;
      result = 2;  // valid, but issue a fresh ticket under the current key
    } else {
      return 0;  // unknown or expired key: a full handshake
    }
  }
  if (encrypt != 0) {
    std::memcpy(name, key.name.data(), key.name.size());
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  const int ok = encrypt != 0 ? EVP_EncryptInit_ex(cipher, aes_, nullptr, key.aes.data(), iv)
                              : EVP_DecryptInit_ex(cipher, aes_, nullptr, key.aes.data(), iv);
  OPENSSL_cleanse(&key, sizeof key);
  return ok == 1 ? result : -1;
}

}  // namespace weft::tls
