#pragma once
/// \file
/// weft's process-wide diagnostic log: one line per event on stderr.
///
/// Thread-safe: any thread may log or change the level at any time. A line is
/// written with one write(2), so lines from different threads never interleave.
/// Logging below the current level costs one relaxed atomic load.

#include <optional>
#include <string_view>

namespace weft {

/// Severity of a log line; a line is written when its level <= log_level().
enum class LogLevel : int {
  error = 0,  ///< something failed and a request or job was lost or answered with an error
  warn = 1,   ///< something unusual that weft recovered from (e.g. a job threw)
  info = 2,   ///< start-up, shutdown, configuration
  debug = 3,  ///< per-job / per-request tracing ("worker 3 got a job"); off by default
};

/// Sets the process-wide level. Default: LogLevel::info.
void set_log_level(LogLevel level) noexcept;

/// The current process-wide level.
[[nodiscard]] LogLevel log_level() noexcept;

/// True when a line at `level` would be written.
[[nodiscard]] bool log_enabled(LogLevel level) noexcept;

/// Writes "weft: <level>: <message>\n" to stderr when `level` is enabled.
/// Never throws; a failed write is ignored (there is nowhere to report it).
void log(LogLevel level, std::string_view message) noexcept;

/// Parses "error", "warn", "info" or "debug"; std::nullopt for anything else.
[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;

}  // namespace weft
