#pragma once
/// \file
/// weft::Response: what a handler returns.
///
/// A value type: status, header fields, and a body that is either bytes in
/// memory or a file. The server adds Date, Content-Length, Connection and
/// Server itself (a handler's own Content-Length, Transfer-Encoding or
/// Connection fields are ignored: framing is the server's job). For a HEAD
/// request the body is not sent. Later body kinds (streaming) will be added as
/// new factory functions without changing these.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft {

class Response {
 public:
  /// A 200 response with no body.
  Response() = default;
  /// `status` (100-599) with no body.
  explicit Response(int status) : status_(status) {}

  /// `body` as "text/plain; charset=utf-8".
  static Response text(int status, std::string body);
  /// `body` as "text/html; charset=utf-8".
  static Response html(int status, std::string body);
  /// `body` with the given Content-Type.
  static Response bytes(int status, std::string body, std::string_view content_type);
  /// The file at `path` (opened when the response is sent; missing -> 404, unreadable -> 403),
  /// with `content_type` or, if empty, one guessed from the extension.
  static Response file(std::string path, std::string_view content_type = {});
  /// A redirect to `location` (301, 302, 303, 307 or 308).
  static Response redirect(int status, std::string_view location);

  [[nodiscard]] int status() const noexcept { return status_; }
  Response& set_status(int status) noexcept {
    status_ = status;
    return *this;
  }

  /// Adds a field line (kept in order; several with the same name are allowed).
  /// Throws std::invalid_argument when the name is not a token or the value holds CR, LF or NUL
  /// (response splitting is refused, not escaped).
  Response& add_header(std::string_view name, std::string_view value);
  /// Replaces every field named `name` (case-insensitive) with one line; same checks.
  Response& set_header(std::string_view name, std::string_view value);
  /// The first value of field `name` (case-insensitive), or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
    return headers_;
  }

  /// The in-memory body (empty for a file response).
  [[nodiscard]] const std::string& body() const noexcept { return body_; }
  Response& set_body(std::string body) {
    body_ = std::move(body);
    file_path_.clear();
    return *this;
  }
  /// The file to send as the body, or empty.
  [[nodiscard]] const std::string& file_path() const noexcept { return file_path_; }

 private:
  int status_ = 200;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  std::string file_path_;
};

/// The standard reason phrase of `status` ("Not Found"), or "Unknown".
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

}  // namespace weft
