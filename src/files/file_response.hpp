#pragma once
/// \file
/// The answer to a GET or HEAD of one regular file of a static directory: precompressed variant
/// selection, validators and preconditions (RFC 9110 13.2.2), Range / If-Range (RFC 9110 14),
/// and the headers every static response carries. Internal, not public API. Loop threads.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "files/open_file_cache.hpp"
#include "http/connection_host.hpp"
#include "http/parser.hpp"

namespace weft::files {

class StaticDir;

/// The value of every field line named `name` joined with ", " (RFC 9110 5.3), or nullopt.
[[nodiscard]] std::optional<std::string> joined_field(const http::RequestHead& head, std::string_view name);

/// 200 (whole file), 206 (one range, or multipart/byteranges), 304, 412 or 416 for the regular
/// file `file` found at `relative` in `dir`. Headers: Content-Type (from `relative`), ETag,
/// Last-Modified, Accept-Ranges, Cache-Control (when configured), Vary and Content-Encoding
/// (when precompressed siblings exist), X-Content-Type-Options. The body is file parts of the
/// shared descriptor; the connection drops it for HEAD and 304.
[[nodiscard]] http::Route file_response(const StaticDir& dir, const http::RequestHead& head,
                                        const std::string& relative, std::shared_ptr<const FileEntry> file);

/// `status` with the whole of `file` as an HTML body and nosniff, no validators (ROOT/404.html).
[[nodiscard]] http::Route plain_file_response(int status, std::string_view content_type,
                                              const std::shared_ptr<const FileEntry>& file);

/// Sets X-Content-Type-Options: nosniff (every static response carries it).
void add_nosniff(Response& response);

}  // namespace weft::files
