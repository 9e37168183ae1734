#include "files/open_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace weft::files {

int status_for_errno(int err) noexcept {
  switch (err) {
    case EACCES:
    case EPERM:
      return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return 503;
    default:
      return 404;
  }
}

OpenedFile open_regular_file(const std::string& path) {
  OpenedFile opened;
  auto fd = std::make_shared<net::UniqueFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!*fd) {
    opened.status = status_for_errno(errno);
    return opened;
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
    opened.status = status_for_errno(errno);
    return opened;
  }
  if (!S_ISREG(st.st_mode)) return opened;  // 404: only regular files are sent
  opened.status = 200;
  opened.size = static_cast<std::uint64_t>(st.st_size);
  opened.fd = std::move(fd);
  return opened;
}

}  // namespace weft::files
