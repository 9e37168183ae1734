#include "files/mime.hpp"

#include <array>
#include <cstddef>
#include <utility>

#include "http/parser.hpp"

namespace weft::detail {

namespace {

// Types as registered with IANA, except .ico, whose registered image/vnd.microsoft.icon fewer
// browsers know than image/x-icon (what nginx and Apache send). JavaScript is text/javascript
// (RFC 9239).
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"avif", "image/avif"},
}};

}  // namespace

std::string_view mime_type_for(std::string_view path) noexcept {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return kOctetStream;
  const std::string_view extension = name.substr(dot + 1);
  for (const auto& [known, type] : kTypes) {
    if (http::detail::iequals(extension, known)) return type;
  }
  return kOctetStream;
}

}  // namespace weft::detail
