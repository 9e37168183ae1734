// h2::Connection's requests: a stream's fields as they arrive, its head checked and routed as
// HTTP/1.1's (the same RequestParser, limits and statuses), its body, and its dispatch to the
// handler's exchange.
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/ascii.hpp"
#include "core/percent.hpp"
#include "core/sanitizers.hpp"
#include "h2/connection.hpp"
#include "h2/stream.hpp"
#include "http/error_page.hpp"
#include "http/parser.hpp"
#include "weft/log.hpp"

namespace weft::h2 {
namespace {

// A header block this far past the head limit is not worth decoding on: the stream is reset
// (an HPACK bomb decodes small input into huge field lists).
constexpr std::size_t kHeaderResetFactor = 4;

// Whether two authorities name the same host and port once normalised as RFC 3986 6.2 asks: the
// host case-insensitively, and a port that is empty or the scheme's default the same as none.
bool same_authority(std::string_view a, std::string_view b, std::string_view default_port) {
  const auto normal = [default_port](std::string_view v) {
    const std::size_t colon = v.rfind(':');
    // A colon inside an IPv6 literal ("[::1]") is not a port's.
    if (colon == std::string_view::npos || v.find(']', colon) != std::string_view::npos) return v;
    const std::string_view port = v.substr(colon + 1);
    return port.empty() || port == default_port ? v.substr(0, colon) : v;
  };
  return core::iequals(normal(a), normal(b));
}

}  // namespace

namespace {

// Closed streams of this loop's connections, map node and stream together, for the next streams
// to open: with many streams in flight a stream's allocations (the node, the stream, its field
// and head buffers) cost more than all the rest of weft's work on a small answer. Bounded, so an
// idle loop holds little; none under AddressSanitizer, which must see a stale stream pointer as
// freed memory.
constexpr std::size_t kSpareStreams = core::kAddressSanitizer ? 0 : 128;

}  // namespace

std::vector<Connection::StreamMap::node_type>& Connection::spare_streams() {
  static thread_local std::vector<StreamMap::node_type> spares;
  return spares;
}

Connection::Stream* Connection::begin_stream(std::int32_t id) {
  std::vector<StreamMap::node_type>& spares = spare_streams();
  StreamMap::iterator it;
  if (spares.empty()) {
    it = streams_.emplace(id, std::make_unique<Stream>()).first;
  } else {
    StreamMap::node_type node = std::move(spares.back());
    spares.pop_back();
    node.key() = id;
    it = streams_.insert(std::move(node)).position;
  }
  it->second->id = id;
  return it->second.get();
}

int Connection::on_field(Stream& s, std::string_view name, std::string_view value) {
  // nghttp2 has checked the names (lower case, no connection-specific ones) and the values, and
  // the pseudo-header rules. The size is ours: past the HTTP/1.1 head limit it is a 431.
  s.field_bytes += name.size() + value.size() + 4;
  const std::size_t limit = host_.config().max_request_line + host_.config().max_header_bytes;
  if (s.field_bytes > limit) {
    s.too_large = true;
    return s.field_bytes > limit * kHeaderResetFactor ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
  }
  if (!name.empty() && name.front() == ':') {
    if (name == ":method") {
      s.method = value;
    } else if (name == ":path") {
      s.path = value;
    } else if (name == ":authority") {
      s.authority = value;
    }
    return 0;
  }
  if (name == "cookie") {
    if (!s.cookies.empty()) s.cookies += "; ";
    s.cookies += value;
    return 0;
  }
  if (name == "host" && !s.authority.empty()) {
    // The same authority twice is fine; another one makes the request malformed (RFC 9113 8.3.1).
    if (!same_authority(value, s.authority, tls_ ? "443" : "80")) s.host_differs = true;
    return 0;
  }
  s.fields.append(name).append(": ").append(value).append("\r\n");
  return 0;
}

void Connection::on_request_head(Stream& s) {
  ++requests_;
  s.started = host_.loop().now();
  if (!goaway_sent_ && (drain_notice_ || requests_ >= host_.config().max_requests_per_connection)) {
    // The last stream this connection takes (the request limit, as HTTP/1.1's Connection:
    // close and nginx's keepalive_requests; or the first one after the drain's notice).
    drain_notice_ = false;
    last_stream_taken_ = s.id;
    (void)nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_NO_ERROR, nullptr, 0);
    goaway_sent_ = true;
  }
  s.head_request = s.method == "HEAD";
  if (s.too_large) {
    respond_error(s, 431, "the request header fields are too large");
    return;
  }
  if (s.host_differs) {
    respond_error(s, 400, "the host field differs from :authority");
    return;
  }
  // The head as HTTP/1.1 would carry it, read by HTTP/1.1's parser: the same checks and limits.
  // One buffer per loop thread: the parsed head points into it only until this function returns.
  static thread_local std::string text;
  text.clear();
  text.reserve(s.method.size() + s.path.size() + s.authority.size() + s.fields.size() + s.cookies.size() +
               48);
  text.append(s.method)
      .append(" ")
      .append(s.method == "CONNECT" ? s.authority : s.path)
      .append(" HTTP/1.1\r\n");
  if (!s.authority.empty()) text.append("Host: ").append(s.authority).append("\r\n");
  text.append(s.fields);
  if (!s.cookies.empty()) text.append("cookie: ").append(s.cookies).append("\r\n");
  text.append("\r\n");
  s.fields.clear();
  s.cookies.clear();
  std::unique_ptr<http::RequestParser> parser = host_.take_parser();
  const http::ParseResult result = parser->parse(text);
  if (result.status != http::ParseStatus::kComplete) {
    const int status = result.status == http::ParseStatus::kError ? http::status_code(result.error) : 400;
    const std::string_view why =
        result.status == http::ParseStatus::kError ? http::reason(result.error) : "incomplete request head";
    host_.give_parser(std::move(parser));
    respond_error(s, status, why);
    return;
  }
  const http::RequestHead& head = *result.head;
  const bool continue_expected = head.expect_continue && !s.body_done;
  if (host_.logs_client_fields()) {
    s.referer = head.find("Referer").value_or(std::string_view{});
    s.user_agent = head.find("User-Agent").value_or(std::string_view{});
  }
  std::string decoded;
  std::string_view path = head.path;
  if (core::needs_decoding(path)) {
    std::optional<std::string> d = core::decode_path(path);
    if (!d) {
      host_.give_parser(std::move(parser));
      respond_error(s, 400, "bad percent-encoding in the path");
      return;
    }
    decoded = std::move(*d);
    path = decoded;
  }
  http::Route route = host_.route(head, path);
  const std::optional<std::uint64_t> declared = head.body_length();
  const std::uint64_t body_limit =
      route.kind == http::Route::Kind::kHandle ? route.endpoint->max_body : host_.config().max_body;
  if (declared && body_limit != 0 && *declared > body_limit) {
    host_.give_parser(std::move(parser));
    respond_error(s, 413, "the request body is too large");
    return;
  }
  if (route.kind == http::Route::Kind::kRespond) {
    host_.give_parser(std::move(parser));
    s.discard = true;
    if (route.prepared != nullptr) {
      respond_prepared(s, *route.prepared, route.body);
    } else {
      respond(s, route.fixed != nullptr ? *route.fixed : route.response, std::move(route.body));
    }
    return;
  }
  Request::Parts parts;
  parts.method = head.method_token;
  parts.target = head.target;
  parts.path_decoded = path;
  parts.query = head.query;
  parts.host = head.host;
  const std::string peer = this->peer();
  parts.peer = peer;
  parts.version_minor = 0;
  parts.version_major = 2;
  parts.headers.reserve(head.header_count);
  for (const http::Header& h : head.headers()) parts.headers.push_back({h.name, h.value});
  s.request = Request::from_parts(parts);
  host_.give_parser(std::move(parser));
  if (tls_) s.request.set_tls(tls_->info());
  s.endpoint = route.endpoint;
  s.max_body = route.endpoint->max_body;
  s.params = std::move(route.params);
  if (route.endpoint->stream_body) {
    s.stream_body = true;
    Request request = std::move(s.request);
    s.request = Request();
    request.set_params(std::move(route.params));
    (void)start_exchange(s, std::move(request));
  }
  if (continue_expected && !s.answered) {
    // The body will be read: an interim 100 HEADERS asks for it (RFC 9113 8.1, RFC 9110 10.1.1).
    // Routes answered above never read it: their final status is the answer.
    static constexpr std::string_view kStatus = ":status";
    static constexpr std::string_view kContinue = "100";
    nghttp2_nv nv{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(kStatus.data())),
                  const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(kContinue.data())),
                  kStatus.size(), kContinue.size(), NGHTTP2_NV_FLAG_NONE};
    (void)nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, &nv, 1, nullptr);
  }
}

void Connection::on_request_data(Stream& s, std::string_view data) {
  s.body_received += data.size();
  if (s.discard || (s.endpoint == nullptr && !s.exchange)) {
    consume(s, data.size());
    return;
  }
  if (s.max_body != 0 && s.body_received > s.max_body) {
    consume(s, data.size());
    if (s.stream_body) {
      if (s.exchange) s.exchange->end_body(BodyEnd::too_large);
      s.discard = true;
    } else {
      respond_error(s, 413, "the request body is too large");
    }
    return;
  }
  if (s.stream_body) {
    if (!s.exchange) {
      consume(s, data.size());
      return;
    }
    // The exchange copies the bytes; while its consumer is behind, the stream's window is held.
    const bool room = s.exchange->push_body(data);
    if (room && s.unconsumed == 0) {
      consume(s, data.size());
    } else {
      s.unconsumed += data.size();
    }
    return;
  }
  s.body.append(data);
  consume(s, data.size());
}

void Connection::on_request_end(Stream& s) {
  s.body_done = true;
  if (s.discard) return;
  if (s.stream_body) {
    if (s.exchange) s.exchange->end_body(BodyEnd::complete);
    return;
  }
  if (s.endpoint != nullptr && !s.exchange && !s.answered) ready_.push_back(s.id);
}

void Connection::on_stream_close(std::int32_t id) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = *it->second;
  if (s.exchange) {
    // Reset by the client (or cut by us) before its answer ended: the handler is cancelled.
    s.exchange->detach(false);
    s.exchange.reset();
  }
  if (s.answered && !s.logged) log_access(s, s.status, s.sent);
  std::vector<StreamMap::node_type>& spares = spare_streams();
  if (spares.size() < kSpareStreams) {
    s.recycle();
    spares.push_back(streams_.extract(it));
  } else {
    streams_.erase(it);
  }
}

void Connection::consume(Stream& s, std::size_t n) {
  if (n > 0) (void)nghttp2_session_consume(session_, s.id, n);
}

void Connection::dispatch(Stream& s) {
  Request request;
  if (s.body.empty()) {
    request = std::move(s.request);
  } else {
    Request::Parts parts;
    const Request& head = s.request;
    parts.method = head.method();
    parts.target = head.target();
    parts.path_decoded = head.path();
    parts.query = head.query();
    parts.host = head.host();
    parts.peer = head.peer();
    parts.version_minor = 0;
    parts.version_major = 2;
    parts.body = s.body;
    parts.headers.reserve(head.headers().size());
    for (const Request::Header& h : head.headers()) parts.headers.push_back(h);
    request = Request::from_parts(parts);
    if (tls_) request.set_tls(tls_->info());
  }
  request.set_params(std::move(s.params));
  s.request = Request();
  s.body = std::string();
  (void)start_exchange(s, std::move(request));
}

bool Connection::start_exchange(Stream& s, Request request) {
  auto ex = std::make_shared<exchange::Exchange>();
  ex->attach(host_, id());
  if (s.stream_body) request.set_body_source(ex);
  s.exchange = ex;
  const Reply reply(std::move(ex));
  if (!host_.dispatch(*s.endpoint, std::move(request), reply)) {
    s.exchange->detach(false);
    s.exchange.reset();
    s.discard = true;
    Response busy = Response::html(503, http::error_page(503, "the server is busy; retry shortly"));
    busy.set_header("Retry-After", std::to_string(host_.config().retry_after_seconds));
    respond(s, busy, {});
    return false;
  }
  if (s.stream_body && s.body_done) s.exchange->end_body(BodyEnd::complete);
  return true;
}

}  // namespace weft::h2
