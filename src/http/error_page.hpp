#pragma once
/// \file
/// The small HTML page weft sends as the body of an error response it makes itself (400 from the
/// parser, 404 without a not_found page, 405, 500 after a handler's exception, 503 when the pool
/// is full, ...). Internal, not public API.

#include <string>
#include <string_view>

namespace weft::http {

/// Content-Type of error_page's result.
inline constexpr std::string_view kErrorPageContentType = "text/html; charset=utf-8";

/// `text` with &, <, >, " and ' replaced by their character references, safe inside HTML element
/// content and quoted attribute values.
[[nodiscard]] std::string html_escape(std::string_view text);

/// The page for `status`:
///   <!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1>
///   <p>DETAIL</p></body></html>\n     (one line; no <p> when `detail` is empty)
/// The title is the status and its reason_phrase; `detail` (e.g. the parser's reason, which may
/// quote request bytes) is HTML-escaped. Allocates the result only; any thread.
[[nodiscard]] std::string error_page(int status, std::string_view detail = {});

}  // namespace weft::http
