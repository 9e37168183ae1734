#pragma once
/// \file
/// The fast path of a static file: the answer to a plain GET or HEAD (no precondition, no Range,
/// no content negotiation that matters) rendered once per cached file and reused for every such
/// request, with the bytes of a small file kept in memory so that one write sends head and body.
/// Internal, not public API. Loop threads.
///
/// The rendering is the slow path's own answer (file_response() for a request without any of
/// those fields), so the two can never disagree; only Date and Connection are added per request.
/// A FastResponse lives inside its FileEntry and goes with it: when the file changes the entry
/// is dropped (static_dir.hpp), and the next request makes a new entry and a new rendering. Its
/// head and in-memory body are one version: the bytes are read, then the file is checked to
/// still be the version the head describes, since a rendering of a file edited between the
/// open and the read would pair the old head with new bytes for as long as it is kept.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "files/open_file_cache.hpp"
#include "http/connection_host.hpp"
#include "http/parser.hpp"
#include "http/response_writer.hpp"

namespace weft::files {

class StaticDir;

struct FastResponse {
  http::PreparedResponse prepared;  ///< status 200, every header; body when in memory
  bool body_in_memory = false;      ///< else `file_part` is the body
  http::BodyPart file_part;
  bool has_variants = false;  ///< precompressed siblings exist: Accept-Encoding matters
};

/// Files up to this size are answered from memory.
inline constexpr std::uint64_t kFastBodyInMemoryMax = std::uint64_t{16} * 1024;

/// True when `head` asks for the plain representation only: no If-* field, no Range, and no
/// Accept-Encoding when `has_variants`.
[[nodiscard]] bool is_plain_request(const http::RequestHead& head, bool has_variants) noexcept;

/// The fast answer of the regular file `entry` found at `relative` in `dir`, built on first use;
/// null when the file does not qualify (modified within the current second, so its validators
/// are not yet stable, or unreadable).
[[nodiscard]] const FastResponse* fast_response(const StaticDir& dir, const std::string& relative,
                                                const FileEntry& entry);

}  // namespace weft::files
