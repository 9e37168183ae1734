#pragma once
/// \file
/// Content types guessed from a file name's extension, for weft::Response::file. Internal, not
/// public API. A small fixed table of the types a web site serves; anything else is
/// application/octet-stream (RFC 9110 8.3: what a recipient would assume anyway).

#include <string_view>

namespace weft::detail {

/// The type for an unknown or missing extension.
inline constexpr std::string_view kOctetStream = "application/octet-stream";

/// The Content-Type for the file `path` from its extension, compared ASCII case-insensitively:
/// "a/index.HTML" -> "text/html; charset=utf-8"; "a.tar.gz", "Makefile", "a.d/file" ->
/// kOctetStream. Text types carry "; charset=utf-8". Static storage; any thread.
[[nodiscard]] std::string_view mime_type_for(std::string_view path) noexcept;

}  // namespace weft::detail
