#pragma once
/// \file
/// Opening a path strictly below a directory descriptor: openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux >= 5.6), else a per-component walk with
/// openat(O_NOFOLLOW) that follows symlinks itself and refuses any that leave the root.
/// Internal, not public API. Thread-safe (no shared state); blocking file-system calls only.

#include <fcntl.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "net/unique_fd.hpp"

namespace weft::files {

/// How symlinks met during resolution are treated.
enum class Symlinks : std::uint8_t {
  kBeneath,         ///< followed while they stay under the root; absolute or escaping -> EXDEV
  kFollowAnywhere,  ///< followed wherever they lead (--follow-symlinks-outside)
};

/// An open descriptor, or the errno that explains why there is none.
struct Opened {
  net::UniqueFd fd;
  int error = 0;  ///< 0 when fd is valid; ENOENT, ENOTDIR, EXDEV (escapes), ELOOP, EACCES, ...
  /// The resolution went through a symlink (or may have: kFollowAnywhere without openat2), so
  /// what the path names can change outside the directories along the path itself.
  bool via_symlink = false;
};

/// Flags every static open uses: read-only, close-on-exec, never a controlling terminal, and
/// non-blocking so that a FIFO left in the tree cannot block a loop.
inline constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

/// openat2(root, relative, kOpenFlags, resolve) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS
/// (kBeneath) or RESOLVE_NO_MAGICLINKS only (kFollowAnywhere). ENOSYS where the kernel lacks it.
/// `relative` as NormalizedPath::relative ("." for the root itself). Tried first with
/// RESOLVE_NO_SYMLINKS, so that `via_symlink` is known; a path with a symlink costs a second call.
[[nodiscard]] Opened open_beneath_openat2(int root, const std::string& relative, Symlinks symlinks);

/// The fallback: walks `relative` one component at a time from `root` with
/// openat(O_PATH | O_NOFOLLOW), keeping a stack of directory descriptors. A symlink is read
/// (readlinkat) and its target's components are walked in its place: an absolute target, or a
/// ".." with nothing left on the stack, is EXDEV under kBeneath; more than 40 links is ELOOP.
/// ".." is never passed to the kernel, so renaming a directory during the walk cannot lift it
/// above the root. The last component is opened with kOpenFlags | O_NOFOLLOW and must be the
/// same inode the walk found (else ENOENT: it changed under us). Under kFollowAnywhere, a
/// plain openat(root, relative), always reported `via_symlink` (it cannot tell).
[[nodiscard]] Opened open_beneath_by_components(int root, std::string_view relative, Symlinks symlinks);

/// True when openat2 works for `root` (probes with "."); false on ENOSYS, or EPERM from a seccomp
/// filter that does not know the system call.
[[nodiscard]] bool openat2_available(int root);

}  // namespace weft::files
