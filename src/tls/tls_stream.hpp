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
// Direct mode (a listener set up for kTLS: ktls.hpp): OpenSSL writes through its own socket
// BIO instead, because only that BIO can hand the keys to the kernel. Once the kernel holds them
// (kernel_sends()), OpenSSL writes plaintext and the kernel makes the records, and send_file()
// sends a file range with SSL_sendfile; where it does not (no TLS ULP, a cipher the kernel
// lacks), OpenSSL writes its own records there. Either way a full socket leaves OpenSSL in its
// "retry with the same arguments" state, and with kTLS the retry writes from the very buffer
// first given (whatever SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER says). So write() copies the
// plaintext into the stream's own buffer and hands OpenSSL only that one, never moved or
// changed while OpenSSL holds part of it; send() resumes; close_notify waits behind it. The
// caller sees the same contract in both modes: write() takes everything and never blocks,
// send() reports kBlocked until unsent() is 0.
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
  /// Whether the client has gone (close_notify, EOF or a broken connection) rather than sent
  /// more, for a connection that reads nothing now; what it sent stays for the next read().
  [[nodiscard]] bool peer_gone();
  /// Decrypted or undecrypted bytes OpenSSL holds that the socket no longer shows.
  [[nodiscard]] bool buffered_input() const noexcept;
  /// After a read that returned bytes: OpenSSL holds nothing more and its last recv() was
  /// short, so the socket was empty then and edge-triggered epoll reports what comes next
  /// (the read that would only say EAGAIN can be skipped).
  [[nodiscard]] bool drained() const noexcept;

  /// Encrypts `bytes` into the output as records of at most 16 KiB (direct mode: writes them
  /// through OpenSSL now, keeping what the socket refuses); never blocks. False on a fatal
  /// error.
  bool write(std::string_view bytes);
  enum class Send : std::uint8_t { kDone, kBlocked, kError };
  /// Sends the output; `more`: more follows at once (MSG_MORE; memory mode only).
  Send send(bool more);
  /// Bytes not yet sent: encrypted (memory mode), or plaintext OpenSSL has not taken and a
  /// close_notify that waits (direct mode).
  [[nodiscard]] std::size_t unsent() const noexcept;
  /// Writes go through OpenSSL's socket BIO (the listener is set up for kTLS), not memory.
  [[nodiscard]] bool direct() const noexcept { return direct_; }
  /// The kernel encrypts this connection's output (kTLS took the keys in the handshake), so
  /// files may leave by send_file().
  [[nodiscard]] bool kernel_sends() const noexcept { return kernel_sends_; }
  /// With kernel_sends() and unsent() == 0: sends up to `size` bytes of `file` from `offset`
  /// with SSL_sendfile. > 0 bytes sent; 0 the file ended early; kFileBlocked the socket is
  /// full (wait for EPOLLOUT); kFileBusy the kernel asks to try later (no EPOLLOUT will come:
  /// next loop turn); kFileError a fatal error.
  long send_file(int file, std::uint64_t offset, std::size_t size);
  static constexpr long kFileBlocked = -1;
  static constexpr long kFileBusy = -2;
  static constexpr long kFileError = -3;
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
  /// Direct mode: hands the waiting plaintext to OpenSSL, then a wanted close_notify.
  Send pump();

  std::shared_ptr<const ServerContext> context_;  // keeps the SSL_CTXs and callbacks alive
  SSL* ssl_ = nullptr;
  int fd_;
  bool small_record_ = true;
  bool socket_drained_ = false;  // the last recv() returned less than asked
  std::string own_out_;          // output the socket refused; usually empty (see the file comment)
  std::size_t own_sent_ = 0;
  // Direct mode (see the file comment).
  bool direct_ = false;
  bool kernel_sends_ = false;
  bool shutdown_wanted_ = false;  // close_notify goes once the plaintext is out
  std::string plain_;             // given to SSL_write from plain_taken_; frozen while OpenSSL holds part
  std::size_t plain_taken_ = 0;
  std::string plain_next_;  // written after plain_
  std::shared_ptr<const TlsInfo> info_;
  std::string failure_;
};

}  // namespace weft::tls
