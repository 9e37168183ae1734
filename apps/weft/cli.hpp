#pragma once
// The weft command line (weft --help, README): argv -> weft::Config plus the
// options that belong to the program rather than to the library.

#include <string>
#include <variant>

#include "weft/config.hpp"
#include "weft/log.hpp"
#include "weft/static_options.hpp"

namespace weft::app {

/// Exit codes of the weft program (documented in --help).
inline constexpr int kExitOk =
    0;  ///< served and stopped normally (signal, --exit-after), or --help/--version
inline constexpr int kExitRuntime = 1;  ///< could not start or failed while running (e.g. address in use)
inline constexpr int kExitUsage = 2;    ///< the command line is wrong (unknown flag, bad value, missing ROOT)
/// Forced stop (a second SIGINT/SIGTERM during the drain): 128 + the signal number, the
/// shell's convention for "ended by a signal" (130 for SIGINT, 143 for SIGTERM).
inline constexpr int kExitSignalBase = 128;

/// What the command line asks for when the server is to run.
struct Options {
  Config config;
  /// Directory to serve; empty = the built-in site.
  std::string root;
  /// How ROOT is served (--no-listing, --hidden, --follow-symlinks-outside, --cache-control, --spa).
  StaticOptions static_options;
  LogLevel log_level = LogLevel::info;
  /// --user NAME[:GROUP]: who to become once the listeners are bound; empty = stay as started.
  std::string user;
};

/// The command line asked for no server: --help, --version, or a usage error.
/// The text has already been written (help/version to stdout, one error line to stderr).
struct Exit {
  int code = kExitOk;
};

/// Parses argv. `stdout_is_terminal` picks the --access-log default ('-' on a terminal,
/// off otherwise). Never throws for a bad command line: that is an Exit{kExitUsage}.
[[nodiscard]] std::variant<Options, Exit> parse_command_line(int argc, const char* const* argv,
                                                             bool stdout_is_terminal);

}  // namespace weft::app
