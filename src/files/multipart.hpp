#pragma once
/// \file
/// The body of a multipart/byteranges response (RFC 9110 14.6) as response body parts: small
/// byte parts (boundary and part headers) alternating with ranges of one shared file, so the
/// file data still goes out with sendfile. Internal, not public API. Any thread.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "files/range.hpp"
#include "http/connection_host.hpp"
#include "net/unique_fd.hpp"

namespace weft::files {

/// A fresh boundary: "weft-" and 24 random hex digits (a per-thread generator seeded from the
/// system), so that no file content can be expected to hold it.
[[nodiscard]] std::string make_boundary();

/// The Content-Type of the whole response for `boundary`.
[[nodiscard]] std::string multipart_content_type(std::string_view boundary);

/// The parts: for each range, "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n"
/// then that range of `file`; then "\r\n--B--\r\n". The leading CRLF before the first boundary
/// is allowed by RFC 9110 14.6 and keeps every part the same shape.
[[nodiscard]] std::vector<http::BodyPart> multipart_body(const std::shared_ptr<const net::UniqueFd>& file,
                                                         std::span<const ByteRange> ranges,
                                                         std::uint64_t size, std::string_view content_type,
                                                         std::string_view boundary);

}  // namespace weft::files
