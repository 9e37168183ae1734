#pragma once
// StaticDir: the files under one directory, served at one URL prefix.
//
// Safety (DESIGN.md; issue 4 builds the rest on it): the path arrives
// percent-decoded once (NUL already refused); dot segments are normalised and
// a ".." above the root is a 400; hidden segments (".name") are 404, except
// "/.well-known/" (RFC 8615); the file
// is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to
// a descriptor of the root, so no symlink or race can lead outside it (404).
// lookup() is const and thread-safe: every loop calls it concurrently.

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "net/unique_fd.hpp"

namespace weft::files {

class StaticDir {
 public:
  /// `prefix`: URL path it is mounted at ("/" or "/assets"); `directory`: the
  /// root. Throws std::invalid_argument when the directory cannot be opened
  /// (message names it and says why).
  StaticDir(std::string prefix, const std::string& directory);

  /// The prefix without a trailing slash ("" for "/").
  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }

  /// True when `path` lies under the prefix (on a segment boundary).
  [[nodiscard]] bool covers(std::string_view path) const noexcept;

  struct Lookup {
    int status = 404;      ///< 200 (file open), 301 (add a slash), 400, 403 or 404
    net::UniqueFd file;    ///< 200: the open regular file
    struct stat info {};   ///< 200: its fstat
    std::string location;  ///< 301: where to
  };

  /// Resolves decoded `path` (covered by the prefix) to an open file.
  [[nodiscard]] Lookup lookup(std::string_view path) const;

 private:
  std::string prefix_;  // without a trailing slash; "" for "/"
  net::UniqueFd root_;
};

}  // namespace weft::files
