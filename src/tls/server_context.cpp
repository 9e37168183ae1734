#include "tls/server_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "core/ascii.hpp"

namespace weft::tls {
namespace {

constexpr const char* kTls12Suites =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256";
constexpr unsigned char kSessionIdContext[] = "weft";

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

[[noreturn]] void fail(const std::string& where, const std::string& why) {
  ERR_clear_error();
  throw std::invalid_argument(where + ": " + why);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read: " + std::generic_category().message(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  return text.str();
}

// Never prompt on the terminal for a passphrase: an encrypted key is an error.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = core::to_lower(c);
  return out;
}

// The DNS names of `cert`: its subjectAltName DNS entries, else its common name.
std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back(lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                             static_cast<std::size_t>(ASN1_STRING_length(dns)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    std::array<char, 256> cn{};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                            static_cast<int>(cn.size()));
    if (n > 0) names.push_back(lower(std::string_view(cn.data(), static_cast<std::size_t>(n))));
  }
  return names;
}

}  // namespace

std::string openssl_reason(std::string_view fallback) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return std::string(fallback);
  const char* reason = ERR_reason_error_string(code);
  if (reason != nullptr) return reason;
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

ServerContext::ServerContext(const TlsConfig& config, std::shared_ptr<TicketKeys> keys,
                             const std::vector<std::string>& alpn)
    : keys_(std::move(keys)), ktls_mode_(tls::ktls_mode(config)) {
  for (const std::string& protocol : alpn) {
    alpn_wire_.push_back(static_cast<char>(protocol.size()));
    alpn_wire_ += protocol;
  }
  if (config.certificates.empty()) throw std::invalid_argument("tls: no certificate");
  if (config.min_version != "1.2" && config.min_version != "1.3")
    throw std::invalid_argument("tls.min_version: '" + config.min_version + "' is not 1.2 or 1.3");
  try {
    for (std::size_t i = 0; i < config.certificates.size(); ++i) {
      const TlsCertificate& pair = config.certificates[i];
      const std::string n = std::to_string(i + 1);
      const std::string cert_where = pair.cert_pem.empty() ? pair.cert_file : "certificate " + n;
      const std::string key_where = pair.key_pem.empty() ? pair.key_file : "key " + n;
      if (cert_where.empty()) fail("certificate " + n, "no certificate file or PEM given");
      if (key_where.empty()) fail("certificate " + n, "no key file or PEM given");
      const std::string cert_text = pair.cert_pem.empty() ? read_file(pair.cert_file) : pair.cert_pem;
      const std::string key_text = pair.key_pem.empty() ? read_file(pair.key_file) : pair.key_pem;

      Entry entry;
      entry.ctx = make_ctx(config);
      entries_.push_back(entry);
      SSL_CTX* ctx = entry.ctx;

      std::unique_ptr<BIO, BioFree> cert_bio(
          BIO_new_mem_buf(cert_text.data(), static_cast<int>(cert_text.size())));
      std::unique_ptr<X509, X509Free> leaf(
          PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, no_passphrase, nullptr));
      if (!leaf) fail(cert_where, "no PEM certificate: " + openssl_reason());
      if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) fail(cert_where, openssl_reason());
      for (;;) {
        X509* more = PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr);
        if (more == nullptr) break;
        if (SSL_CTX_add0_chain_cert(ctx, more) != 1) {
          X509_free(more);
          fail(cert_where, openssl_reason());
        }
      }
      // The loop above ends on "no start line" (or on a broken PEM block after the leaf).
      const unsigned long last = ERR_peek_last_error();
      if (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE) fail(cert_where, openssl_reason());
      ERR_clear_error();

      std::unique_ptr<BIO, BioFree> key_bio(
          BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
      std::unique_ptr<EVP_PKEY, PkeyFree> key(
          PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
      if (!key)
        fail(key_where, "no usable PEM private key (encrypted keys are not supported): " + openssl_reason());
      if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) fail(key_where, openssl_reason());
      if (SSL_CTX_check_private_key(ctx) != 1) fail(key_where, "does not match " + cert_where);
      entries_.back().names = dns_names(leaf.get());
    }
  } catch (...) {
    for (const Entry& e : entries_) SSL_CTX_free(e.ctx);
    throw;
  }
}

ServerContext::~ServerContext() {
  for (const Entry& e : entries_) SSL_CTX_free(e.ctx);
}

SSL_CTX* ServerContext::make_ctx(const TlsConfig& config) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) fail("tls", openssl_reason());
  // Freed by the caller's catch once it is in entries_; until then, here.
  struct Guard {
    SSL_CTX* ctx;
    bool armed = true;
    ~Guard() {
      if (armed) SSL_CTX_free(ctx);
    }
  } guard{ctx};
  const int min = config.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Suites) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    fail("tls", openssl_reason());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // OpenSSL offers the keys to the kernel at each key change, through the write BIO (a socket
  // BIO for these streams: tls_stream.hpp).
  if (writes_direct(ktls_mode_)) SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
  // Tickets are the only resumption: no server-side cache to share (and lock) between loops.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  // The chain is the one configured: without this OpenSSL tries to build it from the trust
  // store on every handshake, a measurable cost for nothing.
  // RELEASE_BUFFERS: an idle connection holds no 16 KiB read or write buffer.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  // Read what the socket holds in one recv() instead of a record header, then its body.
  SSL_CTX_set_read_ahead(ctx, 1);
  // (The macro SSL_CTX_set_tlsext_servername_callback hides this C-style cast.)
  SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(&ServerContext::on_servername));
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  SSL_CTX_set_alpn_select_cb(ctx, &ServerContext::on_alpn, this);
  keys_->install(ctx);
  if (!config.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config.client_ca_file.c_str(), nullptr) != 1)
      fail(config.client_ca_file, openssl_reason());
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names == nullptr) fail(config.client_ca_file, "no CA certificate: " + openssl_reason());
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(
        ctx, SSL_VERIFY_PEER | (config.client_cert_optional ? 0 : SSL_VERIFY_FAIL_IF_NO_PEER_CERT), nullptr);
  }
  guard.armed = false;
  return ctx;
}

SSL* ServerContext::new_ssl() const { return SSL_new(entries_.front().ctx); }

std::vector<std::vector<std::string>> ServerContext::names() const {
  std::vector<std::vector<std::string>> all;
  all.reserve(entries_.size());
  for (const Entry& e : entries_) all.push_back(e.names);
  return all;
}

SSL_CTX* ServerContext::choose(std::string_view name) const {
  for (const Entry& e : entries_) {
    for (const std::string& n : e.names) {
      if (n == name) return e.ctx;
    }
  }
  // "*.example.com" covers exactly one label in front of example.com (RFC 6125 6.4.3).
  const std::size_t dot = name.find('.');
  if (dot != std::string_view::npos && dot > 0) {
    const std::string_view parent = name.substr(dot);
    for (const Entry& e : entries_) {
      for (const std::string& n : e.names) {
        if (n.size() == parent.size() + 1 && n[0] == '*' && std::string_view(n).substr(1) == parent)
          return e.ctx;
      }
    }
  }
  return entries_.front().ctx;
}

int ServerContext::on_servername(SSL* ssl, int* /*alert*/, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  const auto* self = static_cast<const ServerContext*>(arg);
  std::string lowered = lower(name);
  SSL_CTX* chosen = self->choose(lowered);
  if (chosen != SSL_get_SSL_CTX(ssl) && SSL_set_SSL_CTX(ssl, chosen) == nullptr)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;
}

int ServerContext::on_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                           const unsigned char* in, unsigned int in_len, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  // Our preference wins: walk our list, and take the first protocol the client offered too.
  const std::string_view ours = self->alpn_wire_;
  for (std::size_t i = 0; i < ours.size(); i += std::size_t{1} + static_cast<unsigned char>(ours[i])) {
    const std::string_view want = ours.substr(i + 1, static_cast<unsigned char>(ours[i]));
    for (unsigned int j = 0; j < in_len; j += 1U + in[j]) {
      const unsigned int len = in[j];
      if (j + 1 + len > in_len) break;
      if (std::string_view(reinterpret_cast<const char*>(in + j + 1), len) == want) {
        *out = in + j + 1;
        *out_len = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  // No protocol in common: RFC 7301 3.2 asks for the fatal no_application_protocol alert,
  // which OpenSSL sends for this answer.
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace weft::tls
