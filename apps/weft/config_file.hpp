#pragma once
// The weft configuration file (README, "Config file"): TOML whose top-level keys are the long
// command-line flags (plus `root` for ROOT), with [[listen]] tables (more listeners) and
// [[site]] tables (virtual hosts). The file is turned into command-line arguments, so a key is
// checked exactly as its flag is, and flags given on the command line override it.

#include <string>
#include <variant>
#include <vector>

#include "cli.hpp"
#include "weft/virtual_hosts.hpp"

namespace weft::app {

/// What the file and the command line together ask for.
struct Plan {
  /// The file's keys, then the command line over them. With [[listen]] tables, config.bind,
  /// config.port and config.tls.certificates are the first one's (unless given as flags).
  Options options;
  /// "FILE:LINE:COL" of each [[listen]] table (the first included), for messages.
  std::vector<std::string> listener_where;
  /// The [[listen]] tables after the first, each with the file's TLS settings (tls-min,
  /// tls-client-ca, tls-client-optional) and its own certificates.
  std::vector<ListenerConfig> listeners;
  /// The virtual hosts: the [[site]] tables, or one site of `root` without them. Empty: no
  /// root at all (the built-in site).
  std::vector<SiteConfig> sites;
  /// "FILE:LINE:COL" of each [[site]] table (or the file's name for the site of `root`).
  std::vector<std::string> site_where;
};

/// Reads `path`, then parses `command_line` (the program's arguments after its name, as given)
/// over it; `cli` is that command line parsed alone. Returns the plan, or the errors, one line
/// each: "FILE:LINE:COL: message" (or "FILE: message" where the file has no place for it). Checks
/// types, unknown keys, every value as its flag checks it, that roots are readable directories
/// and that no two listeners use one port; the library checks the rest (certificates, host
/// names, header fields, redirects) when the plan is applied.
[[nodiscard]] std::variant<Plan, std::vector<std::string>> load_config(
    const std::string& path, const std::vector<std::string>& command_line, const Options& cli,
    bool stdout_is_terminal);

/// Empty when `root` is a directory weft can serve; otherwise why not ("ROOT '/x' does not
/// exist"), naming it `what`.
[[nodiscard]] std::string check_root(const std::string& root, const std::string& what = "ROOT");

}  // namespace weft::app
