#pragma once
// The invariants each fuzz target checks, as plain functions: the libFuzzer targets
// (fuzz/targets/) call them on every generated input and abort on a failure; the corpus replay
// test (tests/fuzz/) calls them on every file of fuzz/corpus/ in the normal ctest run. One source
// of truth for "what a correct weft does with these bytes".
//
// Every check takes the raw fuzz input; its first bytes steer the run (see input.hpp). A check
// returns std::nullopt when every invariant held, else a one-line description of the first one
// that broke. A sanitizer report (out-of-bounds read, leak, UB) fails the run on its own.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace weft::fuzz {

using Failure = std::optional<std::string>;
using Bytes = std::span<const std::uint8_t>;

/// RequestParser: same result fed whole and in pieces (same buffer growing, or a new buffer per
/// call), no read past the bytes given, results latched, and an accepted head obeys the strict
/// rules of issue 3 (checked against an independent reference reading, reference_head.hpp):
/// never both Content-Length and chunked, header count within the limit, consumed <= size.
[[nodiscard]] Failure check_parser(Bytes input);

/// ChunkedDecoder: same body, end and error whole, in pieces and in place; the end is exact (the
/// reference reading of reference_chunked.hpp ends at the same byte); the body never exceeds
/// max_body; results latched.
[[nodiscard]] Failure check_chunked(Bytes input);

/// Connection: one client stream (pipelined requests, bodies) written in pieces through a
/// socketpair to a real Connection on a real EventLoop with a test host: no response bytes after a
/// response with "Connection: close", every response well framed and matching what the connection
/// logged, the connection closes after the client's EOF, no descriptor leaked, and the same
/// responses whatever the split.
[[nodiscard]] Failure check_connection(Bytes input);

// HTTP/2: the preface, then the input's bytes into a real h2::Connection (fuzz/checks/h2_check.cpp).
[[nodiscard]] Failure check_h2(Bytes input);

/// files::normalize_path: the result is inside the root (checked against
/// std::filesystem::path::lexically_normal and an independent segment stack), has no "." or ".."
/// segment, no empty segment, no NUL, or the request is rejected (400, or 404 for hidden names);
/// normalising a result again changes nothing; percent_encode_path round-trips.
/// Defined when the static-file code exists (WEFT_FUZZ_FILES).
[[nodiscard]] Failure check_path(Bytes input);

/// files::parse_range and files::multipart_body: ranges inside the file, not overlapping, not
/// closer than kCoalesceGap, at most kMaxRangeParts, covering every satisfiable range-spec, in
/// request order; the outcome agrees with an independent reading of the RFC 9110 grammar; the
/// multipart body's parts and lengths add up. Defined with WEFT_FUZZ_FILES.
[[nodiscard]] Failure check_range(Bytes input);

}  // namespace weft::fuzz
