#pragma once
/// \file
/// Content types guessed from a file name's extension, for static directories and
/// weft::Response::file. Internal, not public API. A fixed table of the types web sites serve
/// (documents, scripts, styles, data, images, fonts, audio, video, archives, office formats);
/// anything else is application/octet-stream (RFC 9110 8.3: what a recipient would assume
/// anyway). Every text/* type carries "; charset=utf-8"; JSON and XML types do not (RFC 8259
/// defines no charset; XML declares its own).

#include <span>
#include <string_view>

namespace weft::core {

/// The type for an unknown or missing extension.
inline constexpr std::string_view kOctetStream = "application/octet-stream";

/// The Content-Type for the file `path` from its last extension, compared ASCII
/// case-insensitively: "a/index.HTML" -> "text/html; charset=utf-8", "a.tar.gz" ->
/// "application/gzip"; "Makefile", "a.d/file", "trailing." -> kOctetStream. Static storage; no
/// allocation; any thread.
[[nodiscard]] std::string_view mime_type_for(std::string_view path) noexcept;

/// The table itself, sorted by extension (lower case), for tests.
struct MimeEntry {
  std::string_view extension;
  std::string_view type;
};
[[nodiscard]] std::span<const MimeEntry> mime_table() noexcept;

}  // namespace weft::core
