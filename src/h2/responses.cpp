// h2::Connection's answers: a response head rendered by the HTTP/1.1 writer becomes the HEADERS
// frame (lower-cased, connection-specific fields dropped), its body the DATA frames, streamed
// answers pulled from their exchanges; and the access log line.
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "core/ascii.hpp"
#include "h2/connection.hpp"
#include "h2/stream.hpp"
#include "http/error_page.hpp"
#include "http/response_writer.hpp"

namespace weft::h2 {
namespace {

bool has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

bool connection_specific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade" || lower_name == "proxy-connection";
}

}  // namespace

ssize_t Connection::DataSource::read_data(nghttp2_session* /*session*/, std::int32_t stream_id,
                                          std::uint8_t* /*buf*/, std::size_t length,
                                          std::uint32_t* data_flags, nghttp2_data_source* /*source*/,
                                          void* user_data) {
  Connection& c = self(user_data);
  Stream* s = stream(c, stream_id);
  if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (s->out_bytes == 0 && !s->out_end) {
    s->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length, s->out_bytes));
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == s->out_bytes && s->out_end) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Writes one DATA frame: its header, then `length` bytes of the stream's body parts, which
// stay where they are (a file range goes out by sendfile on a cleartext socket).
int Connection::DataSource::send_data(nghttp2_session* /*session*/, nghttp2_frame* frame,
                                      const std::uint8_t* framehd, std::size_t length,
                                      nghttp2_data_source* /*source*/, void* user_data) {
  Connection& c = self(user_data);
  Stream* s = stream(c, frame->hd.stream_id);
  if (s == nullptr) return NGHTTP2_ERR_CALLBACK_FAILURE;
  http::OutputSpares& spares = c.host_.output_spares();
  c.out_.push(spares, std::string_view(reinterpret_cast<const char*>(framehd), 9));
  std::size_t left = length;
  while (left > 0 && s->out_head < s->out.size()) {
    http::BodyPart& part = s->out[s->out_head];
    const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(left, part.size()));
    if (part.file) {
      // A file range stays a file range: sendfile on a cleartext socket (one per frame, beside
      // a send of its 9-byte header), read into the record buffer over TLS. Reading it in behind
      // the header instead, so that a turn's frames leave in one send, cost more on a quiet
      // machine: the copy in and out of user space outweighs the system calls it saves
      // (bench/README.md, "HTTP/2 rows": 1 MiB h2c, 1.3x the CPU in 7 rounds of 7).
      c.out_.push_file(spares, part.file, part.offset, k);
      part.offset += k;
      part.length -= k;
    } else {
      c.out_.push(spares, std::string_view(part.bytes).substr(0, k));
      part.bytes.erase(0, k);
    }
    if (part.size() == 0 && ++s->out_head == s->out.size()) {
      s->out.clear();
      s->out_head = 0;
    }
    left -= k;
  }
  s->out_bytes -= length;
  s->sent += length;
  return 0;
}

void Connection::pull_exchange(Stream& s) {
  if (!s.exchange) return;
  const std::size_t room =
      s.out_bytes < kStreamTakeBelow ? static_cast<std::size_t>(kStreamTakeBelow - s.out_bytes) : 0;
  exchange::Exchange::Outgoing got = s.exchange->take(room);
  if (got.response && !s.answered) {
    if (got.stream_start) {
      respond_stream_head(s, *got.response);
      if (!s.streaming) {  // HEAD or a bodiless status: the head is the whole answer
        s.exchange->cancel();
        finish_exchange(s, true);
        return;
      }
    } else {
      respond(s, *got.response, std::move(got.parts));
      finish_exchange(s, true);
      return;
    }
  }
  if (!s.streaming) return;
  if (!got.bytes.empty()) {
    s.out_bytes += got.bytes.size();
    s.out.push_back(http::BodyPart{std::move(got.bytes), nullptr, 0, 0});
  }
  if (got.abandoned) {
    // The producer went away mid-body: the client must not take it for a whole one.
    s.streaming = false;
    (void)nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
    finish_exchange(s, false);
    return;
  }
  if (got.end) {
    s.out_end = true;
    s.streaming = false;
  }
  if (s.deferred && (s.out_bytes > 0 || s.out_end)) {
    s.deferred = false;
    (void)nghttp2_session_resume_data(session_, s.id);
  }
  if (got.end) finish_exchange(s, true);
}

void Connection::finish_exchange(Stream& s, bool completed) {
  if (!s.exchange) return;
  if (s.stream_body && !s.body_done) {
    // Answered before the upload ended: the rest is dropped (its window still given back).
    s.exchange->end_body(BodyEnd::aborted);
    s.discard = true;
    if (s.unconsumed > 0) {
      consume(s, s.unconsumed);
      s.unconsumed = 0;
    }
  }
  s.exchange->detach(completed);
  s.exchange.reset();
}

void Connection::respond(Stream& s, const Response& response, std::vector<http::BodyPart> body) {
  int status = response.status();
  const Response* chosen = &response;
  Response fallback;
  if (body.empty() && !response.file_path().empty()) {
    status = host_.open_file_body(response, body);
    if (status != 200) {
      fallback =
          Response::html(status, http::error_page(status, status == 403   ? "forbidden"
                                                          : status == 404 ? "no such file"
                                                                          : "the file cannot be opened now"));
      chosen = &fallback;
    }
  }
  std::uint64_t length = 0;
  if (body.empty()) {
    length = chosen->body().size();
  } else {
    for (const http::BodyPart& part : body) length += part.size();
  }
  const bool bodiless = has_no_body(status);
  http::HeadOptions options;
  options.server_name = host_.config().server_name;
  if (tls_) options.extra_fields = host_.https_fields();
  s.head.clear();
  http::append_head(s.head, status, chosen->headers(), bodiless ? 0 : length, options);
  const bool send_body = !bodiless && !s.head_request && length > 0;
  s.status = status;
  if (send_body) {
    if (body.empty()) {
      s.out.push_back(http::BodyPart{chosen->body(), nullptr, 0, 0});
    } else {
      for (http::BodyPart& part : body) s.out.push_back(std::move(part));
    }
    s.out_bytes = length;
    s.out_end = true;
  }
  s.logged = true;
  log_access(s, status, send_body ? length : 0);
  submit_head(s, send_body);
}

void Connection::respond_prepared(Stream& s, const http::PreparedResponse& prepared,
                                  std::vector<http::BodyPart>& more) {
  http::HeadOptions options;
  if (tls_) options.extra_fields = host_.https_fields();
  s.head.clear();
  http::append_prepared_head(s.head, prepared, options);
  const bool send_body = !has_no_body(prepared.status) && !s.head_request;
  std::uint64_t length = 0;
  if (send_body) {
    if (!prepared.body.empty()) s.out.push_back(http::BodyPart{prepared.body, nullptr, 0, 0});
    length = prepared.body.size();
    for (http::BodyPart& part : more) {
      length += part.size();
      s.out.push_back(std::move(part));
    }
    s.out_bytes = length;
    s.out_end = true;
  }
  s.status = prepared.status;
  s.logged = true;
  log_access(s, prepared.status, length);
  submit_head(s, send_body && length > 0);
}

void Connection::respond_error(Stream& s, int status, std::string_view why) {
  s.discard = true;
  respond(s, Response::html(status, http::error_page(status, why)), {});
}

void Connection::respond_stream_head(Stream& s, const Response& head) {
  s.status = head.status();
  const bool silent = has_no_body(s.status) || s.head_request;
  http::HeadOptions options;
  options.server_name = host_.config().server_name;
  if (tls_) options.extra_fields = host_.https_fields();
  options.framing =
      silent && has_no_body(s.status) ? http::BodyFraming::kLength : http::BodyFraming::kChunked;
  s.head.clear();
  http::append_head(s.head, s.status, head.headers(), 0, options);
  s.streaming = !silent;
  if (silent) {
    s.logged = true;
    log_access(s, s.status, 0);
  }
  submit_head(s, !silent);
}

void Connection::submit_head(Stream& s, bool data) {
  s.answered = true;
  // The HTTP/1.1 head's field lines, minus framing and connection fields, lower-cased in place.
  // The stream keeps the text and nghttp2 points into it (NO_COPY): the stream outlives its
  // HEADERS frame, which is encoded before the stream can close, or dropped unread when the
  // client resets it first.
  std::string& text = s.head;
  // One per loop thread, reused: no allocation per answer (nghttp2 copies the array).
  static thread_local std::vector<nghttp2_nv> nva;
  nva.clear();
  const std::string status = std::to_string(s.status);
  static constexpr std::string_view kStatus = ":status";
  nva.push_back(nghttp2_nv{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(kStatus.data())),
                           const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(status.data())),
                           kStatus.size(), status.size(), NGHTTP2_NV_FLAG_NONE});
  // One pass over the lines: the status line first, then "Name: value" up to the empty line.
  char* line = text.data();
  char* const end = line + text.size();
  char* eol = static_cast<char*>(std::memchr(line, '\n', static_cast<std::size_t>(end - line)));
  while (eol != nullptr && (line = eol + 1) < end) {
    eol = static_cast<char*>(std::memchr(line, '\n', static_cast<std::size_t>(end - line)));
    if (eol == nullptr) break;
    char* const stop = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
    if (stop == line) break;  // the empty line ends the head
    char* const colon = static_cast<char*>(std::memchr(line, ':', static_cast<std::size_t>(stop - line)));
    if (colon == nullptr) continue;
    core::lower_in_place(line, static_cast<std::size_t>(colon - line));
    char* value = colon + 1;
    while (value < stop && (*value == ' ' || *value == '\t')) ++value;
    const std::string_view name(line, static_cast<std::size_t>(colon - line));
    if (connection_specific(name)) continue;
    nva.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(line), reinterpret_cast<std::uint8_t*>(value),
                             name.size(), static_cast<std::size_t>(stop - value),
                             NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE});
  }
  nghttp2_data_provider provider{};
  provider.source.ptr = &s;
  provider.read_callback = &DataSource::read_data;
  if (nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), data ? &provider : nullptr) != 0) {
    (void)nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
  }
}

void Connection::log_access(const Stream& s, int status, std::uint64_t bytes) {
  const std::string_view method = s.method.empty() ? std::string_view("-") : std::string_view(s.method);
  const std::string_view target = s.path.empty() ? std::string_view("-") : std::string_view(s.path);
  host_.access(
      *this, http::AccessRecord{method, target, 0, status, bytes, s.referer, s.user_agent, tls_ != nullptr, 2,
                                s.started, http::Protocol::kH2, tls_ ? tls_->info().get() : nullptr});
}

}  // namespace weft::h2
