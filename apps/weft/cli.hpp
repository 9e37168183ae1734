#pragma once
// The weft command line (weft --help, README): argv -> weft::Config plus the
// options that belong to the program rather than to the library.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

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
  /// --config FILE (or --check-config FILE, with check_only): the TOML file (config_file.hpp).
  std::string config_file;
  bool check_only = false;
  /// The long names (without "--") of the flags on the command line, "ROOT" for the directory.
  std::vector<std::string> given;
};

/// A command-line flag as a configuration-file key (its long name).
struct FlagKey {
  enum class Kind : std::uint8_t {
    kFlag,   ///< on/off: a boolean in the file
    kValue,  ///< one value: a string or a number
    kList,   ///< may repeat (--tls-cert): a string or an array of strings
  };
  std::string name;
  Kind kind = Kind::kValue;
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

/// The same for `args` (args[0] is the program's name), silently: a usage error's message (without
/// the "weft: " prefix) goes to `error`. --help and --version still print. `cross_checks` false
/// checks each value alone, not whether the flags go together (--hsts without --tls-cert).
[[nodiscard]] std::variant<Options, Exit> parse_arguments(const std::vector<std::string>& args,
                                                          bool stdout_is_terminal, std::string& error,
                                                          bool cross_checks = true);

/// Every flag that has a configuration-file key: all but --help, --version, --config and
/// --check-config.
[[nodiscard]] std::vector<FlagKey> flag_keys();

}  // namespace weft::app
