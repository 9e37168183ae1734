#pragma once
// The memory functions nghttp2 sessions allocate with: small blocks come from a cache of this
// thread's freed ones, so that the few blocks nghttp2 takes and gives back for every stream (its
// stream, its HEADERS item, the field array it copies, decoded field buffers) skip malloc's slow
// paths when many streams open and close together. src/h2 only.

#include <nghttp2/nghttp2.h>

namespace weft::h2 {

/// The allocator to give nghttp2_session_server_new3; nullptr (nghttp2's own malloc) under
/// AddressSanitizer, which must see every block freed. Blocks may be freed on any thread: each
/// thread caches what it frees, bounded per size, and releases the cache when it exits.
[[nodiscard]] nghttp2_mem* session_memory() noexcept;
/// The caching allocator itself, whatever the build: what session_memory() gives outside
/// AddressSanitizer, for its tests.
[[nodiscard]] nghttp2_mem* caching_session_memory() noexcept;

}  // namespace weft::h2
