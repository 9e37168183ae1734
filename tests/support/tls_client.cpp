#include "support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace weft::test {
namespace {

// OpenSSL's error queue of this thread, emptied, as one line.
std::string take_errors() {
  std::string out;
  char text[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

int version_number(const std::string& name) {
  if (name.empty()) return 0;
  if (name == "1.0") return TLS1_VERSION;
  if (name == "1.1") return TLS1_1_VERSION;
  if (name == "1.2") return TLS1_2_VERSION;
  if (name == "1.3") return TLS1_3_VERSION;
  throw std::invalid_argument("unknown TLS version " + name);
}

bool is_ip_literal(const std::string& name) {
  unsigned char address[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

TlsClient* owner(const SSL* ssl) { return static_cast<TlsClient*>(SSL_get_app_data(ssl)); }

// The alert's name as the RFCs spell it (OpenSSL's SSL_alert_desc_string_long knows only some:
// "unknown" for inappropriate_fallback or certificate_required).
std::string alert_name(int description) {
  switch (description) {
    case 0:
      return "close_notify";
    case 10:
      return "unexpected_message";
    case 20:
      return "bad_record_mac";
    case 22:
      return "record_overflow";
    case 40:
      return "handshake_failure";
    case 42:
      return "bad_certificate";
    case 43:
      return "unsupported_certificate";
    case 44:
      return "certificate_revoked";
    case 45:
      return "certificate_expired";
    case 46:
      return "certificate_unknown";
    case 47:
      return "illegal_parameter";
    case 48:
      return "unknown_ca";
    case 49:
      return "access_denied";
    case 50:
      return "decode_error";
    case 51:
      return "decrypt_error";
    case 70:
      return "protocol_version";
    case 71:
      return "insufficient_security";
    case 80:
      return "internal_error";
    case 86:
      return "inappropriate_fallback";
    case 90:
      return "user_canceled";
    case 100:
      return "no_renegotiation";
    case 109:
      return "missing_extension";
    case 110:
      return "unsupported_extension";
    case 112:
      return "unrecognized_name";
    case 115:
      return "unknown_psk_identity";
    case 116:
      return "certificate_required";
    case 120:
      return "no_application_protocol";
    default:
      return "alert " + std::to_string(description);
  }
}

void info_callback(const SSL* ssl, int where, int value) {
  // value: the alert's level in the high byte, its description in the low one.
  if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && owner(ssl) != nullptr) {
    owner(ssl)->on_alert_received(alert_name(value & 0xFF));
  }
}

int new_session_callback(SSL* ssl, SSL_SESSION* session) {
  if (owner(ssl) == nullptr) return 0;
  owner(ssl)->on_new_session(session);
  return 1;  // the reference is ours now
}

// A context with everything `options` asks for; throws std::runtime_error on a bad option (a
// mistake in the test, not in the server).
SSL_CTX* make_context(const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) throw std::runtime_error("SSL_CTX_new: " + take_errors());
  // Security level 0 first (the cipher list keeps only what the level allows) and again after it
  // (an "@SECLEVEL=" there would set it): the client offers everything OpenSSL has.
  SSL_CTX_set_security_level(ctx, 0);
  const auto fail = [ctx](const std::string& what) {
    SSL_CTX_free(ctx);
    throw std::runtime_error(what + ": " + take_errors());
  };
  if (!options.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, options.ciphers.c_str()) != 1) {
    fail("cipher list " + options.ciphers);
  }
  if (!options.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, options.ciphersuites.c_str()) != 1) {
    fail("TLS 1.3 suites " + options.ciphersuites);
  }
  SSL_CTX_set_security_level(ctx, 0);
  if (SSL_CTX_set_min_proto_version(ctx, version_number(options.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, version_number(options.max_version)) != 1) {
    fail("versions");
  }
  if (!options.groups.empty() && SSL_CTX_set1_groups_list(ctx, options.groups.c_str()) != 1) {
    fail("groups " + options.groups);
  }
  if (!options.sigalgs.empty() && SSL_CTX_set1_sigalgs_list(ctx, options.sigalgs.c_str()) != 1) {
    fail("signature algorithms " + options.sigalgs);
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const auto& protocol : options.alpn) {
      wire.push_back(static_cast<char>(protocol.size()));
      wire += protocol;
    }
    // SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      fail("ALPN");
    }
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail("client certificate " + options.cert_file);
    }
  }
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
      fail("CA " + options.ca_file);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  // A bare EOF reads as the end of the stream, as a close_notify does: the tests ask whether the
  // server closed, not how politely.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Sessions come to new_session_callback (TLS 1.3 tickets arrive after the handshake).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, new_session_callback);
  return ctx;
}

// The per-connection settings: SNI, the name to verify, the session, fallback SCSV.
void configure(SSL* ssl, const TlsOptions& options) {
  if (!options.sni.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(options.sni.c_str()));
  }
  const std::string& name = options.verify_name.empty() ? options.sni : options.verify_name;
  if (!options.ca_file.empty() && !name.empty()) {
    if (is_ip_literal(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
      SSL_set1_host(ssl, name.c_str());
    }
  }
  if (options.session) {
    // A copy: a connection freed without close_notify marks its session not resumable, and the
    // test may offer the same session on many connections.
    SSL_SESSION* copy = SSL_SESSION_dup(options.session.get());
    SSL_set_session(ssl, copy);
    SSL_SESSION_free(copy);
  }
  if (options.fallback_scsv) SSL_set_mode(ssl, SSL_MODE_SEND_FALLBACK_SCSV);
}

std::string group_name(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_X25519:
      return "X25519";
    case EVP_PKEY_X448:
      return "X448";
    default:
      break;
  }
  char name[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &length) != 1) return EVP_PKEY_get0_type_name(key);
  const std::string group(name, length);
  if (group == "prime256v1") return "P-256";
  if (group == "secp384r1") return "P-384";
  if (group == "secp521r1") return "P-521";
  return group;
}

std::string rfc2253(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return text;
}

std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> names;
  auto* general = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (general == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(general, i);
    if (entry->type == GEN_DNS) {
      const ASN1_STRING* dns = entry->d.dNSName;
      names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                           static_cast<std::size_t>(ASN1_STRING_length(dns))));
    } else if (entry->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = entry->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
      ::inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text);
      names.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(general);
  return names;
}

Fd connect_loopback(std::uint16_t port, milliseconds timeout) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) throw std::system_error(errno, std::generic_category(), "connect");
    pollfd pfd{fd.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) {
      throw std::system_error(ETIMEDOUT, std::generic_category(), "connect");
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) throw std::system_error(error, std::generic_category(), "connect");
  }
  return fd;
}

}  // namespace

TlsClient::TlsClient(std::uint16_t port, TlsOptions options) {
  const auto deadline = Clock::now() + options.timeout;
  Fd socket = connect_loopback(port, options.timeout);
  ctx_ = make_context(options);
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) throw std::runtime_error("SSL_new: " + take_errors());
  SSL_set_app_data(ssl_, this);
  SSL_set_info_callback(ssl_, info_callback);
  configure(ssl_, options);
  fd_ = std::move(socket);
  SSL_set_fd(ssl_, fd_.get());

  bool timed_out = false;
  const int rc = drive([this] { return SSL_connect(ssl_); }, deadline, &timed_out);
  handshake_.timed_out = timed_out;
  if (rc > 0) {
    handshake_.ok = true;
    describe_connection();
  } else {
    handshake_.error = timed_out ? "no answer within the deadline" : last_error_;
    if (!options.ca_file.empty() && SSL_get_verify_result(ssl_) != X509_V_OK) {
      handshake_.verify_result = SSL_get_verify_result(ssl_);
      handshake_.verify_error = X509_verify_cert_error_string(handshake_.verify_result);
    }
  }
  if (options.ca_file.empty()) handshake_.verify_result = -1;
}

TlsClient::~TlsClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

template <typename Step>
int TlsClient::drive(Step step, Clock::time_point deadline, bool* timed_out) {
  *timed_out = false;
  if (failed_) return -1;
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = step();
    if (rc > 0) return rc;
    const int error = SSL_get_error(ssl_, rc);
    short events = 0;
    if (error == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (error == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else if (error == SSL_ERROR_ZERO_RETURN) {
      last_error_ = "connection closed";
      return 0;
    } else {
      const int saved_errno = errno;
      last_error_ = take_errors();
      if (last_error_.empty()) {
        last_error_ = saved_errno != 0 ? std::strerror(saved_errno) : "connection closed";
      }
      failed_ = true;  // OpenSSL allows no further call on this connection but SSL_free
      return -1;
    }
    pollfd pfd{fd_.get(), events, 0};
    const int ready = ::poll(&pfd, 1, ms_left(deadline));
    if (ready == 0) {
      *timed_out = true;
      return -1;
    }
    if (ready < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
  }
}

void TlsClient::describe_connection() {
  handshake_.version = SSL_get_version(ssl_);
  handshake_.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
  const unsigned char* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  handshake_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  EVP_PKEY* key_share = nullptr;
  if (SSL_get_peer_tmp_key(ssl_, &key_share) == 1) {
    handshake_.group = group_name(key_share);
    EVP_PKEY_free(key_share);
  }
  if (X509* leaf = SSL_get1_peer_certificate(ssl_)) {
    handshake_.peer_subject = rfc2253(X509_get_subject_name(leaf));
    handshake_.peer_names = subject_alt_names(leaf);
    if (EVP_PKEY* key = X509_get0_pubkey(leaf)) {
      const int id = EVP_PKEY_get_base_id(key);
      handshake_.peer_key_type = id == EVP_PKEY_EC    ? "EC"
                                 : id == EVP_PKEY_RSA ? "RSA"
                                                      : EVP_PKEY_get0_type_name(key);
    }
    X509_free(leaf);
  }
  if (const STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_))
    handshake_.peer_chain_length = sk_X509_num(chain);
  handshake_.session_reused = SSL_session_reused(ssl_) == 1;
  handshake_.verify_result = SSL_get_verify_result(ssl_);
  if (handshake_.verify_result != X509_V_OK) {
    handshake_.verify_error = X509_verify_cert_error_string(handshake_.verify_result);
  }
}

void TlsClient::on_new_session(SSL_SESSION* session) { last_ticket_ = TlsSession(session, SSL_SESSION_free); }

TlsSession TlsClient::session() const {
  // A copy: OpenSSL marks a session not resumable when its connection is freed without a
  // close_notify, and the test may well drop the connection first.
  SSL_SESSION* source = last_ticket_ ? last_ticket_.get() : SSL_get0_session(ssl_);
  SSL_SESSION* copy = source == nullptr ? nullptr : SSL_SESSION_dup(source);
  return copy == nullptr ? TlsSession() : TlsSession(copy, SSL_SESSION_free);
}

bool TlsClient::send(std::string_view bytes) {
  if (!handshake_.ok) return false;
  while (!bytes.empty()) {
    std::size_t written = 0;
    bool timed_out = false;
    const int rc = drive([&] { return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written); },
                         Clock::now() + 5s, &timed_out);
    if (timed_out) throw std::system_error(ETIMEDOUT, std::generic_category(), "TLS send");
    if (rc <= 0) return false;
    bytes.remove_prefix(written);
  }
  return true;
}

bool TlsClient::fill(Clock::time_point deadline, bool* eof) {
  *eof = false;
  if (!handshake_.ok) {
    *eof = true;
    return false;
  }
  char chunk[16384];
  std::size_t got = 0;
  bool timed_out = false;
  const int rc = drive([&] { return SSL_read_ex(ssl_, chunk, sizeof chunk, &got); }, deadline, &timed_out);
  if (rc > 0) {
    buffer_.append(chunk, got);
    return true;
  }
  *eof = !timed_out;  // close_notify, EOF, reset or a fatal alert
  return false;
}

std::optional<HttpResponse> TlsClient::read_response(milliseconds timeout, bool head_request) {
  return read_response_from(
      buffer_, [this](Clock::time_point deadline, bool* eof) { return fill(deadline, eof); },
      Clock::now() + timeout, head_request);
}

std::optional<std::string> TlsClient::read_until_close(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (fill(deadline, &eof)) {
  }
  if (!eof) return std::nullopt;
  return std::exchange(buffer_, std::string());
}

bool TlsClient::closed_within(milliseconds timeout) {
  const bool nothing_pending = buffer_.empty();
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (fill(deadline, &eof)) {
  }
  return eof && nothing_pending;
}

void TlsClient::read_for(milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  bool eof = false;
  while (fill(deadline, &eof)) {
  }
}

TlsHandshake TlsClient::renegotiate(milliseconds timeout) {
  TlsHandshake result;
  handshake_.alert.clear();
  if (!handshake_.ok || failed_) {
    result.error = "no connection to renegotiate";
    return result;
  }
  if (SSL_renegotiate(ssl_) != 1) {
    result.error = take_errors();
    return result;
  }
  bool timed_out = false;
  const int rc = drive([this] { return SSL_do_handshake(ssl_); }, Clock::now() + timeout, &timed_out);
  result.timed_out = timed_out;
  result.alert = handshake_.alert;
  if (rc > 0 && SSL_renegotiate_pending(ssl_) == 0) {
    result.ok = true;
    result.version = SSL_get_version(ssl_);
  } else {
    result.error = timed_out ? "no answer within the deadline" : last_error_;
  }
  return result;
}

void TlsClient::close_notify() {
  if (!handshake_.ok || failed_) return;
  bool timed_out = false;
  // 0 (sent, the peer's not yet seen) is all we wait for: make it count as progress.
  drive([this] { return SSL_shutdown(ssl_) >= 0 ? 1 : -1; }, Clock::now() + 1s, &timed_out);
}

std::string client_hello_bytes(const TlsOptions& options) {
  SSL_CTX* ctx = make_context(options);
  SSL* ssl = SSL_new(ctx);
  configure(ssl, options);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);  // ssl owns both now
  SSL_connect(ssl);           // writes the ClientHello, then wants to read
  char* data = nullptr;
  const long length = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(length));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return hello;
}

std::optional<HttpResponse> tls_request(std::uint16_t port, const TlsOptions& options,
                                        std::string_view method, std::string_view target,
                                        const std::vector<std::string>& headers) {
  TlsClient client(port, options);
  if (!client.ok()) return std::nullopt;
  std::vector<std::string> fields = headers;
  fields.emplace_back("Connection: close");
  if (!client.send(make_request(method, target, fields))) return std::nullopt;
  return client.read_response(5s, method == "HEAD");
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4U]);
    hex.push_back(kHex[digest[i] & 0xFU]);
  }
  return hex;
}

}  // namespace weft::test
