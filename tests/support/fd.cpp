#include "support/fd.hpp"

#include <unistd.h>

namespace weft::test {

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace weft::test
