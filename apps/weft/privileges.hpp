#pragma once
// weft --user NAME[:GROUP]: started as root to bind a port below 1024 and read root-only keys,
// weft gives root up before it serves a single request (main.cpp: after Server::listen(), before
// Server::start()). Done as nginx's worker does (initgroups, setgid, setuid), then checked:
// a drop that did not take, or that root could undo, is refused rather than served through.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <variant>

namespace weft::app {

/// The user and group to become.
struct Identity {
  std::string user;   ///< the name (or the number as given when it has no passwd entry)
  std::string group;  ///< likewise
  uid_t uid = 0;
  gid_t gid = 0;
  bool named = false;  ///< the user has a passwd entry: supplementary groups come from the group database
};

/// Resolves "NAME[:GROUP]" (names, or numeric ids) through the user and group databases; GROUP
/// defaults to the user's primary group. The error is the line to print.
[[nodiscard]] std::variant<Identity, std::string> resolve_identity(std::string_view spec);

/// Empty when this process may become `who` (it runs as root, or already is `who`); otherwise
/// the line to print.
[[nodiscard]] std::string check_can_become(const Identity& who);

/// Makes `who` the owner of the file at `path` (the access log weft opened as root), so that the
/// process, once `who`, can open it again: a binary upgrade's new process starts as `who`.
/// Nothing to do when `who` owns it already or this process is not root (nginx does the same for
/// its logs). Empty on success, otherwise the line to print (a warning: serving goes on).
[[nodiscard]] std::string hand_over_file(const std::string& path, const Identity& who);

/// Sets the supplementary groups, the group and the user (real, effective and saved), then
/// checks the result: every id is `who`'s, the groups are the ones set, no capability is left,
/// and neither root's uid nor its gid can be taken back. Empty on success, otherwise the line
/// to print (the process must then exit: it may be half changed). Nothing to do when the
/// process already is `who` and is not root.
[[nodiscard]] std::string become(const Identity& who);

}  // namespace weft::app
