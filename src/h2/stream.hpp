#pragma once
// What the source files of h2::Connection share (src/h2 only): a stream's state, and the nghttp2
// data source through which its answer's DATA frames leave.

#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "h2/connection.hpp"

namespace weft::h2 {

// Stream bytes are taken from an exchange while less than this waits in the stream.
inline constexpr std::uint64_t kStreamTakeBelow = std::uint64_t{64} * 1024;

struct Connection::Stream {
  std::int32_t id = 0;
  // The request head as it arrives.
  std::string method, path, authority;
  std::string fields;   // "name: value\r\n" lines
  std::string cookies;  // Cookie fields joined with "; " (RFC 9113 8.2.3)
  std::size_t field_bytes = 0;
  bool too_large = false;  // the head passed the size limit: 431
  bool body_done = false;  // END_STREAM received
  bool discard = false;    // answered already: DATA is dropped
  bool head_request = false;
  bool host_differs = false;  // a host field names another authority than :authority
  // A request for a handler.
  const exchange::Endpoint* endpoint = nullptr;
  Request request;
  std::vector<std::pair<std::string, std::string>> params;
  std::string body;
  std::uint64_t max_body = 0;  // 0: no limit
  std::uint64_t body_received = 0;
  bool stream_body = false;
  std::size_t unconsumed = 0;  // DATA bytes whose window is held back (the consumer is behind)
  std::shared_ptr<exchange::Exchange> exchange;
  // The answer.
  bool answered = false;   // HEADERS submitted
  bool streaming = false;  // a streamed answer whose end has not come
  // Body bytes not yet framed, from out[out_head] on: a vector, which (unlike a deque) costs
  // no allocation until a body comes, and keeps its capacity across a streamed answer.
  std::vector<http::BodyPart> out;
  std::size_t out_head = 0;
  std::uint64_t out_bytes = 0;
  bool out_end = false;   // `out` holds the rest of the body
  bool deferred = false;  // the data source said NGHTTP2_ERR_DEFERRED
  int status = 0;
  std::uint64_t sent = 0;
  bool logged = false;
  net::Clock::time_point started{};  // the head was complete (the loop's clock), for the metrics
  std::string referer, user_agent;   // for the access log, when it wants them
  std::string head;                  // the answer's head, which its HEADERS frame points into

  // Back to a new stream's state as it closes, before it waits among the loop's spares: what it
  // held (files, a buffered body, the request) is released now; the storage of the buffers every
  // request fills (the fields, the answer's head, the body queue) is kept when it is small, so
  // that the next stream does not allocate them again.
  void recycle() {
    constexpr std::size_t kKeepBytes = 1024;
    constexpr std::size_t kKeepParts = 8;
    std::string kept_fields = fields.capacity() <= kKeepBytes ? std::move(fields) : std::string();
    std::string kept_head = head.capacity() <= kKeepBytes ? std::move(head) : std::string();
    std::vector<http::BodyPart> kept_out =
        out.capacity() <= kKeepParts ? std::move(out) : std::vector<http::BodyPart>();
    kept_fields.clear();
    kept_head.clear();
    kept_out.clear();  // closes the files it referred to
    // Ended and begun again in place: cheaper than assigning a new stream member by member.
    std::destroy_at(this);
    std::construct_at(this);
    fields = std::move(kept_fields);
    head = std::move(kept_head);
    out = std::move(kept_out);
  }
};

// nghttp2 asks how much of a stream's answer it may frame (read_data), then has each DATA frame
// written (send_data): the bytes stay in the stream's body parts until they join the output.
struct Connection::DataSource {
  static Connection& self(void* user_data) { return *static_cast<Connection*>(user_data); }
  static Stream* stream(Connection& c, std::int32_t id) {
    const auto it = c.streams_.find(id);
    return it == c.streams_.end() ? nullptr : it->second.get();
  }
  static ssize_t read_data(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* data_flags, nghttp2_data_source* source,
                           void* user_data);
  static int send_data(nghttp2_session* session, nghttp2_frame* frame, const std::uint8_t* framehd,
                       std::size_t length, nghttp2_data_source* source, void* user_data);
};

}  // namespace weft::h2
