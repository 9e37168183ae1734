#include "tls/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <new>
#include <string>

#include "core/ascii.hpp"
#include "tls/ktls.hpp"

namespace weft::tls {
namespace {

// The encrypted output of the stream that is writing on this thread (see the header comment).
struct ThreadOutput {
  std::string bytes;
  std::size_t sent = 0;
  const TlsStream* owner = nullptr;
};
thread_local ThreadOutput t_output;

// Kept between writes for the next connection; a burst larger than this gives its memory back.
constexpr std::size_t kKeepThreadOutput = std::size_t{512} * 1024;

// SSL_get_error() needs the thread's error queue empty before the call it explains. It nearly
// always is: ERR_clear_error() on an empty queue still resets all of its 16 slots (~400
// instructions, a few per request), looking costs a tenth of that.
void clear_errors() noexcept {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace

BIO_METHOD* TlsStream::bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weft socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, &TlsStream::bio_write);
    BIO_meth_set_read(m, &TlsStream::bio_read);
    BIO_meth_set_ctrl(m, &TlsStream::bio_ctrl);
    return m;
  }();
  return method;
}

TlsStream::TlsStream(std::shared_ptr<const ServerContext> context, int fd)
    : context_(std::move(context)), fd_(fd) {
  BIO_METHOD* method = bio_method();
  ssl_ = method != nullptr ? context_->new_ssl() : nullptr;
  BIO* bio = ssl_ != nullptr ? BIO_new(method) : nullptr;
  direct_ = writes_direct(context_->ktls_mode());
  // BIO_new_socket also attaches the kernel's TLS layer to the socket where there is one (it
  // does nothing until OpenSSL hands it keys), which OpenSSL's later key change needs.
  BIO* out = bio != nullptr && direct_ ? BIO_new_socket(fd, BIO_NOCLOSE) : bio;
  if (out == nullptr) {
    BIO_free(bio);
    SSL_free(ssl_);
    ERR_clear_error();
    throw std::bad_alloc();
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, out);  // one BIO both ways, or two: SSL_free frees each once
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() {
  if (t_output.owner == this) {
    t_output.bytes.clear();
    t_output.sent = 0;
    t_output.owner = nullptr;
  }
  SSL_free(ssl_);
}

int TlsStream::bio_write(BIO* bio, const char* data, int length) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  self->append_output(std::string_view(data, static_cast<std::size_t>(length)));
  return length;
}

int TlsStream::bio_read(BIO* bio, char* data, int length) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(self->fd_, data, static_cast<std::size_t>(length), 0);
  self->socket_drained_ = n >= 0 && n < length;
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
  return -1;
}

long TlsStream::bio_ctrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  // Writes are always complete (they go to memory), so a flush has nothing to do; nothing else
  // (kTLS, datagrams, pending counts) applies to this BIO.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

void TlsStream::append_output(std::string_view bytes) {
  const bool mine = t_output.owner == this;
  if (own_sent_ < own_out_.size() || (!mine && t_output.owner != nullptr)) {
    own_out_.append(bytes);  // behind refused bytes (order), or another stream holds the thread's buffer
    return;
  }
  t_output.owner = this;
  t_output.bytes.append(bytes);
}

std::size_t TlsStream::unsent() const noexcept {
  if (direct_) return plain_.size() - plain_taken_ + plain_next_.size() + (shutdown_wanted_ ? 1 : 0);
  std::size_t n = own_out_.size() - own_sent_;
  if (t_output.owner == this) n += t_output.bytes.size() - t_output.sent;
  return n;
}

TlsStream::Send TlsStream::send(bool more) {
  if (direct_) return pump();
  Send result = Send::kDone;
  for (;;) {
    std::array<iovec, 2> iov{};
    std::size_t count = 0;
    if (own_sent_ < own_out_.size())
      iov[count++] = {own_out_.data() + own_sent_, own_out_.size() - own_sent_};
    const bool mine = t_output.owner == this;
    if (mine && t_output.sent < t_output.bytes.size())
      iov[count++] = {t_output.bytes.data() + t_output.sent, t_output.bytes.size() - t_output.sent};
    if (count == 0) break;
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (n > 0) {
      auto left = static_cast<std::size_t>(n);
      const std::size_t from_own = std::min(left, own_out_.size() - own_sent_);
      own_sent_ += from_own;
      left -= from_own;
      if (mine) t_output.sent += left;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    result = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Send::kBlocked : Send::kError;
    break;
  }
  // What the socket refused moves into the stream's own buffer: the thread's serves the next
  // connection as soon as this call returns.
  if (t_output.owner == this) {
    if (result == Send::kBlocked && t_output.sent < t_output.bytes.size())
      own_out_.append(t_output.bytes, t_output.sent);
    t_output.bytes.clear();
    if (t_output.bytes.capacity() > kKeepThreadOutput) std::string().swap(t_output.bytes);
    t_output.sent = 0;
    t_output.owner = nullptr;
  }
  if (own_sent_ == own_out_.size() && own_sent_ != 0) {
    std::string().swap(own_out_);  // give the memory back: the socket is keeping up again
    own_sent_ = 0;
  }
  return result;
}

void TlsStream::settle() {
  // Direct mode: OpenSSL wrote what it made itself; the plaintext waits for the caller's send().
  if (!direct_ && unsent() > 0) (void)send(false);
}

TlsStream::Send TlsStream::pump() {
  for (;;) {
    if (plain_taken_ == plain_.size()) {
      if (plain_next_.empty()) break;
      plain_.swap(plain_next_);  // nothing of plain_ is in OpenSSL's hands now
      plain_next_.clear();
      plain_taken_ = 0;
    }
    clear_errors();
    std::size_t written = 0;
    const int r = SSL_write_ex(ssl_, plain_.data() + plain_taken_, plain_.size() - plain_taken_, &written);
    if (r == 1) {
      plain_taken_ += written;  // one record at a time (SSL_MODE_ENABLE_PARTIAL_WRITE)
      continue;
    }
    if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_WRITE) return Send::kBlocked;
    ERR_clear_error();
    return Send::kError;
  }
  // All taken: an idle connection keeps no buffer.
  std::string().swap(plain_);
  std::string().swap(plain_next_);
  plain_taken_ = 0;
  if (shutdown_wanted_) {
    clear_errors();
    const int r = SSL_shutdown(ssl_);
    if (r < 0 && SSL_get_error(ssl_, r) == SSL_ERROR_WANT_WRITE) return Send::kBlocked;  // call again
    shutdown_wanted_ = false;
    clear_errors();
  }
  return Send::kDone;
}

TlsStream::Handshake TlsStream::handshake() {
  if (unsent() > 0) {
    const Send s = send(false);
    if (s == Send::kError) {
      failure_ = "the client went away during the handshake";
      return Handshake::kFailed;
    }
    if (s == Send::kBlocked) return Handshake::kWaiting;
  }
  clear_errors();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    // When the client's request came with its Finished (OpenSSL holds it already), the session
    // ticket waits for the answer and both leave in one send. Otherwise it goes now: a client
    // that reads the ticket only until it has something to send would miss it (as
    // `openssl s_client -sess_out </dev/null` does, and testssl.sh with it).
    if (SSL_has_pending(ssl_) != 1) settle();
    make_info();
    kernel_sends_ = direct_ && BIO_get_ktls_send(SSL_get_wbio(ssl_));
    return Handshake::kDone;
  }
  const int error = SSL_get_error(ssl_, r);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    settle();
    return Handshake::kWaiting;
  }
  if (error == SSL_ERROR_SSL) {
    // OpenSSL recognises a cleartext HTTP request (or proxy CONNECT) in place of a record
    // and sends no alert for it: the client should hear why in its own language.
    const int reason = ERR_GET_REASON(ERR_peek_last_error());
    if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
      ERR_clear_error();
      return Handshake::kNotTls;
    }
  }
  failure_ = error == SSL_ERROR_SYSCALL ? "the client went away during the handshake"
                                        : openssl_reason("handshake failed");
  settle();  // the alert that says why, if OpenSSL made one
  return Handshake::kFailed;
}

void TlsStream::make_info() {
  auto info = std::make_shared<TlsInfo>();
  info->version = SSL_get_version(ssl_);
  info->cipher = SSL_get_cipher_name(ssl_);
  if (const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name); name != nullptr) {
    info->server_name = name;
    for (char& c : info->server_name) c = core::to_lower(c);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  if (alpn != nullptr) info->alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  info->resumed = SSL_session_reused(ssl_) == 1;
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK) {
    BIO* text = BIO_new(BIO_s_mem());
    if (text != nullptr) {
      if (X509_NAME_print_ex(text, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
        char* data = nullptr;
        const long length = BIO_get_mem_data(text, &data);
        if (data != nullptr && length > 0)
          info->client_subject.assign(data, static_cast<std::size_t>(length));
      }
      BIO_free(text);
    }
  }
  info_ = std::move(info);
}

long TlsStream::read(std::span<char> buffer) {
  clear_errors();
  std::size_t got = 0;
  const int r = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &got);
  if (r == 1) {
    settle();  // reading may answer (a KeyUpdate), rarely
    return static_cast<long>(got);
  }
  socket_drained_ = false;
  const int error = SSL_get_error(ssl_, r);
  settle();
  switch (error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    default:
      ERR_clear_error();
      return -2;
  }
}

bool TlsStream::peer_gone() {
  char byte = 0;
  std::size_t got = 0;
  clear_errors();
  const int r = SSL_peek_ex(ssl_, &byte, 1, &got);
  if (r == 1) return false;
  const int error = SSL_get_error(ssl_, r);
  clear_errors();
  settle();
  return error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE;
}

bool TlsStream::buffered_input() const noexcept { return SSL_has_pending(ssl_) == 1; }

bool TlsStream::drained() const noexcept { return socket_drained_ && SSL_has_pending(ssl_) != 1; }

bool TlsStream::write(std::string_view bytes) {
  if (direct_) {
    if (bytes.empty()) return true;
    if (plain_taken_ == plain_.size() && plain_next_.empty()) {
      plain_.assign(bytes);
      plain_taken_ = 0;
    } else {
      plain_next_.append(bytes);  // plain_ stays where OpenSSL may be writing from
    }
    return pump() != Send::kError;
  }
  while (!bytes.empty()) {
    std::size_t written = 0;
    if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(written);
  }
  return true;
}

void TlsStream::queue_close_notify() {
  if (!established() || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return;
  if (direct_) {
    shutdown_wanted_ = true;  // behind the plaintext: OpenSSL would send it at once
    return;
  }
  clear_errors();
  (void)SSL_shutdown(ssl_);
  clear_errors();
}

void TlsStream::close_notify() {
  queue_close_notify();
  if (direct_) {
    (void)pump();
  } else {
    settle();
  }
}

long TlsStream::send_file(int file, std::uint64_t offset, std::size_t size) {
  for (;;) {
    clear_errors();
    errno = 0;
    const ossl_ssize_t n = SSL_sendfile(ssl_, file, static_cast<off_t>(offset), size, 0);
    if (n >= 0) return static_cast<long>(n);
    const int saved = errno;
    const int error = SSL_get_error(ssl_, static_cast<int>(n));
    ERR_clear_error();
    if (error == SSL_ERROR_WANT_WRITE) {
      if (saved == EINTR) continue;
      return saved == EBUSY ? kFileBusy : kFileBlocked;
    }
    return kFileError;
  }
}

}  // namespace weft::tls
