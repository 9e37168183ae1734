#pragma once
// Opening a file to send it, and the one mapping from an open's errno to the status to answer.
// Used for static files and for handlers' Response::file. Any thread.

#include <cstdint>
#include <memory>
#include <string>

#include "net/unique_fd.hpp"

namespace weft::files {

/// The status for a failed open or stat: 403 (EACCES, EPERM), 503 (EMFILE, ENFILE, ENOMEM: out of
/// descriptors or memory is transient, not a missing file), else 404 (ENOENT, ENOTDIR, ELOOP,
/// EXDEV when a path escapes its root, ENAMETOOLONG, ...).
[[nodiscard]] int status_for_errno(int err) noexcept;

struct OpenedFile {
  int status = 404;  ///< 200 when `fd` is an open regular file
  std::shared_ptr<const net::UniqueFd> fd;
  std::uint64_t size = 0;
};

/// Opens `path` read-only and checks that it is a regular file (a directory or device is 404).
[[nodiscard]] OpenedFile open_regular_file(const std::string& path);

}  // namespace weft::files
