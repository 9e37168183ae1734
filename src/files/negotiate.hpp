#pragma once
/// \file
/// Proactive negotiation for static files (RFC 9110 12): which precompressed variant to send for
/// an Accept-Encoding field, and whether a directory listing is wanted as JSON for an Accept
/// field. Internal, not public API. Pure: no I/O, no allocation, no lock; any thread.

#include <cstdint>
#include <optional>
#include <string_view>

namespace weft::files {

/// A content coding weft can serve from a precompressed sibling file.
enum class Coding : std::uint8_t {
  kIdentity,  ///< the file itself
  kBrotli,    ///< "br", from f.br
  kZstd,      ///< "zstd", from f.zst
  kGzip,      ///< "gzip" (alias "x-gzip"), from f.gz
};

/// The Content-Encoding token of `c` ("br", "zstd", "gzip"; "" for identity). Static storage.
[[nodiscard]] std::string_view coding_token(Coding c) noexcept;
/// The file-name suffix of `c`'s variant (".br", ".zst", ".gz"; "" for identity). Static storage.
[[nodiscard]] std::string_view coding_suffix(Coding c) noexcept;
/// Bit of `c` in an availability mask (0 for identity, which is always available).
[[nodiscard]] constexpr std::uint8_t coding_bit(Coding c) noexcept {
  return static_cast<std::uint8_t>(c == Coding::kIdentity ? 0U : 1U << static_cast<unsigned>(c));
}

/// The variant to send: among the codings in `available` (a mask of coding_bit) that
/// `accept_encoding` gives a q above 0 (by name, or through "*"), the one with the highest q,
/// ties broken br > zstd > gzip; kIdentity when none (or no field: a client that sends no
/// Accept-Encoding gets the plain file, as from nginx's gzip_static). "q=0" refuses a coding
/// even when "*" would allow it; an element with an invalid q is ignored. Names are
/// case-insensitive.
[[nodiscard]] Coding choose_coding(std::optional<std::string_view> accept_encoding,
                                   std::uint8_t available) noexcept;

/// True when `accept` prefers "application/json" to "text/html": json has a q above 0 and either
/// a higher q than html, or the same q and comes first. Wildcards count for neither, so
/// browsers ("text/html,...,*/*;q=0.8") and curl ("*/*") get HTML.
[[nodiscard]] bool prefers_json(std::string_view accept) noexcept;

}  // namespace weft::files
