#pragma once
// TlsStream: the TLS side of one connection (loop thread only). OpenSSL reads the socket itself
// (a BIO whose read is recv on the connection's descriptor), and writes into memory: every
// record it makes is appended to output that the connection sends when it chooses, so that
// several records leave in one send() and a full socket never turns into OpenSSL's
// "retry with the same arguments" state. Encrypted output waits in a per-thread buffer while a
// connection writes, and moves into the stream's own only when the socket refuses part of it,
// so an idle TLS connection holds no output buffer (and, with SSL_MODE_RELEASE_BUFFERS, no
// OpenSSL buffer either).
//
// The stream does not own the socket; the connection does, and outlives its stream.

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "tls/server_context.hpp"
#include "weft/tls_info.hpp"

namespace weft::tls {

class TlsStream {
 public:
  /// Throws std::bad_alloc when OpenSSL cannot make the SSL object.
  TlsStream(std::shared_ptr<const ServerContext> context, int fd);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  enum class Handshake : std::uint8_t {
    kDone,     ///< established: application data may flow (info() is set)
    kWaiting,  ///< needs more bytes from the client (or room in the socket)
    kFailed,   ///< refused or broken; any alert has been sent: close
    kNotTls,   ///< the client sent a cleartext HTTP request instead of a ClientHello
  };
  /// Continues the handshake with what the socket holds, and sends what it produced (but for
  /// the last flight after kDone, which waits for the caller's next send()).
  Handshake handshake();
  [[nodiscard]] bool established() const noexcept { return info_ != nullptr; }
  /// What the handshake negotiated (null before kDone). Shared by the connection's requests.
  [[nodiscard]] const std::shared_ptr<const TlsInfo>& info() const noexcept { return info_; }
  /// Why the handshake failed, for a debug line.
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }

  /// Decrypts into `buffer`: > 0 bytes; 0 end of the stream (close_notify or EOF); -1 nothing
  /// now (the socket is drained: wait for EPOLLIN); -2 a fatal error (close).
  long read(std::span<char> buffer);
  /// Decrypted or undecrypted bytes OpenSSL holds that the socket no longer shows.
  [[nodiscard]] bool buffered_input() const noexcept;
  /// After a read that returned bytes: OpenSSL holds nothing more and its last recv() was
  /// short, so the socket was empty then and edge-triggered epoll reports what comes next
  /// (the read that would only say EAGAIN can be skipped).
  [[nodiscard]] bool drained() const noexcept;

  /// Encrypts `bytes` into the output as records of at most 16 KiB; never blocks. False on a
  /// fatal error.
  bool write(std::string_view bytes);
  enum class Send : std::uint8_t { kDone, kBlocked, kError };
  /// Sends the encrypted output; `more`: more follows at once (MSG_MORE).
  Send send(bool more);
  /// Encrypted bytes not yet sent.
  [[nodiscard]] std::size_t unsent() const noexcept;
  /// Queues close_notify and sends what the socket takes (best effort, never blocks).
  void close_notify();
  /// Queues close_notify behind the output, for the caller's next send(); once only.
  void queue_close_notify();

  /// The connection went idle: its next response starts with a small record, which a client
  /// can decrypt as soon as it arrives (a full 16 KiB record needs ~12 segments first).
  void note_idle() noexcept { small_record_ = true; }
  /// The most plaintext the next write() should carry: one small record after idle, else no
  /// limit from TLS (write() cuts full 16 KiB records).
  [[nodiscard]] std::size_t next_write_size() noexcept {
    const bool small = small_record_;
    small_record_ = false;
    return small ? kSmallRecord : std::numeric_limits<std::size_t>::max();
  }
  static constexpr std::size_t kSmallRecord = 1300;  // one segment with TCP/IP and TLS overhead

 private:
  static int bio_write(BIO* bio, const char* data, int length);
  static int bio_read(BIO* bio, char* data, int length);
  static long bio_ctrl(BIO* bio, int cmd, long num, void* ptr);
  static BIO_METHOD* bio_method();
  void append_output(std::string_view bytes);
  /// After OpenSSL produced output outside write(): send it now, keep what the socket refuses.
  void settle();
  void make_info();

  std::shared_ptr<const ServerContext> context_;  // keeps the SSL_CTXs and callbacks alive
  SSL* ssl_ = nullptr;
  int fd_;
  bool small_record_ = true;
  bool socket_drained_ = false;  // the last recv() returned less than asked
  std::string own_out_;          // output the socket refused; usually empty (see the file comment)
  std::size_t own_sent_ = 0;
  std::shared_ptr<const TlsInfo> info_;
  std::string failure_;
};

/// True when the kernel offers TLS in the socket layer (kTLS: /proc/sys/net/ipv4/
/// tcp_available_ulp lists "tls"); weft's streams encrypt in user space either way.
[[nodiscard]] bool kernel_has_ktls();

}  // namespace weft::tls
