#include "http/response_writer.hpp"

#include <array>
#include <charconv>
#include <cstddef>

#include "http/http_date.hpp"
#include "http/parser.hpp"
#include "weft/response.hpp"

namespace weft::http {

namespace {

using detail::iequals;

constexpr std::string_view kStatusLinePrefix = "HTTP/1.1 ";
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kFieldSeparator = ": ";
constexpr std::string_view kServerPrefix = "Server: ";
constexpr std::string_view kContentTypePrefix = "Content-Type: ";
constexpr std::string_view kContentLengthPrefix = "Content-Length: ";
constexpr std::string_view kTransferEncodingChunked = "Transfer-Encoding: chunked\r\n";
constexpr std::string_view kConnectionClose = "Connection: close\r\n";
constexpr std::string_view kConnectionKeepAlive = "Connection: keep-alive\r\n";
constexpr int kFallbackStatus = 500;

// Fields whose meaning is framing, which only the server decides. The length
// picks the one candidate, so most names cost one comparison of sizes.
[[nodiscard]] bool is_framing_field(std::string_view name) noexcept {
  switch (name.size()) {
    case 10:
      return iequals(name, "connection");
    case 14:
      return iequals(name, "content-length");
    case 17:
      return iequals(name, "transfer-encoding");
    default:
      return false;
  }
}

// Which of the fields the writer would add itself `name` replaces.
struct Overrides {
  bool date = false;
  bool server = false;
  bool content_type = false;
  void note(std::string_view name) noexcept {
    switch (name.size()) {
      case 4:
        date = date || iequals(name, "date");
        break;
      case 6:
        server = server || iequals(name, "server");
        break;
      case 12:
        content_type = content_type || iequals(name, "content-type");
        break;
      default:
        break;
    }
  }
};

}  // namespace

void append_head(std::string& out, int status, std::span<const std::pair<std::string, std::string>> headers,
                 std::uint64_t content_length, const HeadOptions& options) {
  if (status < 100 || status > 599) status = kFallbackStatus;
  const std::string_view reason = reason_phrase(status);

  // One pass over the handler's fields: which of ours they replace, and the exact size of the
  // head, so that `out` grows at most once.
  Overrides own;
  std::size_t size = kStatusLinePrefix.size() + 4 + reason.size() + kCrlf.size();
  for (const auto& [name, value] : headers) {
    if (is_framing_field(name)) continue;
    own.note(name);
    size += name.size() + kFieldSeparator.size() + value.size() + kCrlf.size();
  }
  const bool has_date = own.date;
  const bool has_server = own.server;
  const bool has_content_type = own.content_type;
  std::string_view date;
  if (!has_date) date = options.now ? date_line(*options.now) : date_line();
  const bool write_server = !has_server && !options.server_name.empty();
  const bool write_content_type =
      !has_content_type && content_length > 0 && !options.default_content_type.empty();
  const bool framed_body = status_has_content_length(status);
  const bool write_length = framed_body && options.framing == BodyFraming::kLength;
  const bool write_chunked = framed_body && options.framing == BodyFraming::kChunked;
  std::array<char, 20> length_digits{};  // 2^64-1 has 20 digits, so to_chars cannot fail
  const char* length_end =
      std::to_chars(length_digits.data(), length_digits.data() + length_digits.size(), content_length).ptr;
  const std::string_view length(length_digits.data(),
                                static_cast<std::size_t>(length_end - length_digits.data()));
  std::string_view connection;
  if (options.close) {
    connection = kConnectionClose;
  } else if (options.http10_keep_alive) {
    connection = kConnectionKeepAlive;
  }

  size += date.size() + options.extra_fields.size() + connection.size() + kCrlf.size();
  if (write_server) size += kServerPrefix.size() + options.server_name.size() + kCrlf.size();
  if (write_content_type)
    size += kContentTypePrefix.size() + options.default_content_type.size() + kCrlf.size();
  if (write_length) size += kContentLengthPrefix.size() + length.size() + kCrlf.size();
  if (write_chunked) size += kTransferEncodingChunked.size();
  out.reserve(out.size() + size);

  const std::array<char, 4> code{static_cast<char>('0' + status / 100),
                                 static_cast<char>('0' + status / 10 % 10),
                                 static_cast<char>('0' + status % 10), ' '};
  out += kStatusLinePrefix;
  out.append(code.data(), code.size());
  out += reason;
  out += kCrlf;
  out += date;
  if (write_server) {
    out += kServerPrefix;
    out += options.server_name;
    out += kCrlf;
  }
  for (const auto& [name, value] : headers) {
    if (is_framing_field(name)) continue;
    out += name;
    out += kFieldSeparator;
    out += value;
    out += kCrlf;
  }
  if (write_content_type) {
    out += kContentTypePrefix;
    out += options.default_content_type;
    out += kCrlf;
  }
  if (write_length) {
    out += kContentLengthPrefix;
    out += length;
    out += kCrlf;
  }
  if (write_chunked) out += kTransferEncodingChunked;
  out += options.extra_fields;
  out += connection;
  out += kCrlf;
}

PreparedResponse prepare_response(int status, std::span<const std::pair<std::string, std::string>> headers,
                                  std::string body, std::string_view server_name) {
  PreparedResponse prepared = prepare_head(status, headers, body.size(), server_name);
  prepared.body = std::move(body);
  return prepared;
}

PreparedResponse prepare_head(int status, std::span<const std::pair<std::string, std::string>> headers,
                              std::uint64_t content_length, std::string_view server_name) {
  HeadOptions options;
  options.server_name = server_name;
  options.now = 0;
  std::string head;
  append_head(head, status, headers, content_length, options);
  // head = status line, [our Date line], fields..., "\r\n" (no Connection line: neither option is set).
  PreparedResponse prepared;
  const std::size_t status_end = head.find(kCrlf) + kCrlf.size();
  prepared.status_line = head.substr(0, status_end);
  std::size_t fields_start = status_end;
  Overrides own;
  for (const auto& [name, value] : headers) own.note(name);
  prepared.own_date = own.date;
  if (!own.date) fields_start = head.find(kCrlf, status_end) + kCrlf.size();  // skip our Date line
  prepared.fields = head.substr(fields_start, head.size() - kCrlf.size() - fields_start);
  prepared.status = status < 100 || status > 599 ? kFallbackStatus : status;
  return prepared;
}

void append_prepared_head(std::string& out, const PreparedResponse& prepared, const HeadOptions& options) {
  const std::string_view date =
      prepared.own_date ? std::string_view() : (options.now ? date_line(*options.now) : date_line());
  std::string_view connection;
  if (options.close) {
    connection = kConnectionClose;
  } else if (options.http10_keep_alive) {
    connection = kConnectionKeepAlive;
  }
  out.reserve(out.size() + prepared.status_line.size() + date.size() + prepared.fields.size() +
              options.extra_fields.size() + connection.size() + kCrlf.size());
  out += prepared.status_line;
  out += date;
  out += prepared.fields;
  out += options.extra_fields;
  out += connection;
  out += kCrlf;
}

}  // namespace weft::http
