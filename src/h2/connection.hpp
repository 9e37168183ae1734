#pragma once
// h2::Connection: one client socket speaking HTTP/2 (RFC 9113), loop thread only.
//
// nghttp2 owns the protocol arithmetic: framing, HPACK, stream states, flow control and most of
// the RFC's MUSTs (pseudo-headers, connection-specific fields, content-length against DATA). It
// never touches the socket: bytes read are fed to nghttp2_session_mem_recv, bytes it produces
// (nghttp2_session_mem_send) go to the same OutputQueue (and TlsStream) HTTP/1.1 writes with;
// nghttp2 never copies a DATA payload (NGHTTP2_DATA_FLAG_NO_COPY: the frame header is queued,
// then the body's bytes or file range, which a cleartext socket sends with sendfile).
//
// Every stream is an exchange, routed by the same ConnectionHost as HTTP/1.1: its head is
// rendered as an HTTP/1.1 head and read by the same RequestParser, so validation and limits
// (431, 414, 400...) are HTTP/1.1's, answered on the stream while the connection lives on. A
// response head is rendered by the HTTP/1.1 writer and its field lines become the HEADERS
// frame (lower-cased, connection-specific fields dropped), so both protocols answer the same
// fields. Exchange news arrives per connection; the streams with an exchange are looked at.
//
// Request bodies: a buffered route collects the body; a streamed one pushes DATA into its
// exchange. The window is given back (nghttp2_session_consume; automatic WINDOW_UPDATE is off)
// only for bytes the exchange took, so a slow consumer stalls its own stream, never the others.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/connection_host.hpp"
#include "http/hosted_connection.hpp"
#include "http/output_queue.hpp"
#include "net/byte_buffer.hpp"
#include "net/event_loop.hpp"
#include "net/unique_fd.hpp"
#include "tls/tls_stream.hpp"

struct nghttp2_session;

namespace weft::h2 {

class Connection final : public http::HostedConnection {
 public:
  /// Takes over the socket (and TLS stream, and bytes already read) of `handover`.
  Connection(http::ConnectionHost& host, http::Handover&& handover);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  /// Sends the server's SETTINGS, registers with the loop, and processes the bytes handed over.
  /// False when the connection closed (then the host has been told).
  bool start();

  void on_io(std::uint32_t events) override;
  void on_resume() override;
  void on_timeout(http::TimerKind kind) override;
  void on_exchange_news() override;
  void on_mode_change() override;
  void close() override;
  [[nodiscard]] bool is_closed() const noexcept override { return closed_; }
  [[nodiscard]] bool is_idle() const noexcept override;

  struct Stream;      // one request and its answer (stream.hpp)
  struct DataSource;  // nghttp2's view of the answers' bodies (stream.hpp, responses.cpp)
  struct Callbacks;   // what nghttp2 reports it received (session.cpp)

 private:
  void drive();
  /// Reads what the socket has and feeds it to nghttp2; false when the connection closed.
  bool read_input();
  bool feed(const char* data, std::size_t size);
  /// Moves nghttp2's output into the queue and writes it, until blocked or done.
  void write_output();
  void after_io(bool progress);
  void arm(http::TimerKind kind);
  /// The session is over and its output written: half-close, then drop what the client still
  /// sends until it closes too (or the linger timer fires), so that a frame of its crossing our
  /// close (a WINDOW_UPDATE for the last DATA) does not reset the connection before it has read
  /// the answers.
  void close_lingering();
  void drain_lingering();

  // Stream events (from the nghttp2 callbacks).
  using StreamMap = std::map<std::int32_t, std::unique_ptr<Stream>>;
  Stream* begin_stream(std::int32_t id);
  /// This loop thread's closed streams kept for reuse (requests.cpp).
  static std::vector<StreamMap::node_type>& spare_streams();
  int on_field(Stream& s, std::string_view name, std::string_view value);
  void on_request_head(Stream& s);
  void on_request_data(Stream& s, std::string_view data);
  void on_request_end(Stream& s);
  void on_stream_close(std::int32_t id);

  void dispatch(Stream& s);
  bool start_exchange(Stream& s, Request request);
  void pull_exchange(Stream& s);
  void respond(Stream& s, const Response& response, std::vector<http::BodyPart> body);
  void respond_prepared(Stream& s, const http::PreparedResponse& prepared, std::vector<http::BodyPart>& more);
  void respond_error(Stream& s, int status, std::string_view why);
  void respond_stream_head(Stream& s, const Response& head);
  /// Submits the HEADERS of `s` from the HTTP/1.1 head text in `s.head` (kept by the stream until
  /// it closes); `data`: a body (DATA frames) follows.
  void submit_head(Stream& s, bool data);
  void log_access(const Stream& s, int status, std::uint64_t bytes);
  /// Gives `n` bytes of stream `s`'s window back to the client.
  void consume(Stream& s, std::size_t n);
  void finish_exchange(Stream& s, bool completed);

  http::ConnectionHost& host_;
  net::UniqueFd fd_;
  std::unique_ptr<tls::TlsStream> tls_;
  std::string handed_input_;
  nghttp2_session* session_ = nullptr;
  StreamMap streams_;
  http::OutputQueue out_;
  http::TimerKind timer_{};
  bool closed_ = false;
  bool readable_ = true;
  bool writable_ = true;
  bool peer_eof_ = false;
  bool resume_queued_ = false;
  bool goaway_sent_ = false;
  bool in_callbacks_ = false;  // inside nghttp2 (mem_recv/mem_send): no re-entry
  bool drain_notice_ = false;  // draining: the shutdown notice went out, the final GOAWAY waits
  bool lingering_ = false;     // half-closed after the last frame: input is dropped
  // Our final GOAWAY named this stream as the last one taken: later ones are not started.
  std::int32_t last_stream_taken_ = 0x7FFFFFFF;
  // Requests completed by the bytes being fed: dispatched once nghttp2 has read them all, so a
  // stream reset in the same bytes (rapid reset) never reaches the pool.
  std::vector<std::int32_t> ready_;
  std::uint32_t requests_ = 0;
  // Abuse nghttp2 does not count itself: streams the client resets (CVE-2023-44487, rapid
  // reset) and empty DATA frames (CVE-2019-9518). Token buckets: a burst, refilled per second.
  struct Bucket {
    double tokens;
    double burst;
    double per_second;
    net::Clock::time_point last;
    /// Takes one token; false when none is left.
    bool take(net::Clock::time_point now) noexcept;
  };
  // Stream ids the client skipped (closed without being opened, RFC 9113 5.1.1): a HEADERS on
  // one of them is a connection error, which nghttp2 (remembering only open streams) ignores.
  // A few ranges are kept; a client that skips more is rare and is checked on the latest ones.
  std::int32_t highest_stream_ = 0;
  std::vector<std::pair<std::int32_t, std::int32_t>> skipped_;
  /// A HEADERS frame header for stream `id` arrived: false when the id went down to one never opened.
  bool check_stream_id(std::int32_t id);
  Bucket resets_;
  Bucket empty_frames_;
  /// The client misbehaves: GOAWAY ENHANCE_YOUR_CALM, then close once it is written.
  void calm_down(const char* why);
};

}  // namespace weft::h2
