#pragma once
// BodyPart: a piece of a response body, bytes or a file range. Produced by static files and by
// handlers' file responses, written by the protocols (with sendfile where they can).

#include <cstdint>
#include <memory>
#include <string>

#include "net/unique_fd.hpp"

namespace weft::exchange {

/// Bytes, or `length` bytes of `file` from `offset`. A file may be shared (an open-file cache,
/// the parts of a multipart/byteranges body).
struct BodyPart {
  std::string bytes;
  std::shared_ptr<const net::UniqueFd> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  ///< file parts only
  [[nodiscard]] std::uint64_t size() const noexcept { return file ? length : bytes.size(); }
};

}  // namespace weft::exchange
