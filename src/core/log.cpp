#include "weft/log.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>

namespace weft {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};

constexpr std::array<std::string_view, 4> kNames{"error", "warn", "info", "debug"};

}  // namespace

void set_log_level(LogLevel level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel log_level() noexcept { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view message) noexcept {
  if (!log_enabled(level)) return;
  // Build the whole line first so that one write(2) emits it: lines from
  // concurrent threads then never interleave. Long messages are truncated.
  std::array<char, 1024> line{};
  std::size_t n = 0;
  auto append = [&](std::string_view part) {
    const std::size_t room = line.size() - 1 - n;  // keep one byte for '\n'
    const std::size_t len = part.size() < room ? part.size() : room;
    std::memcpy(line.data() + n, part.data(), len);
    n += len;
  };
  append("weft: ");
  append(kNames[static_cast<std::size_t>(level)]);
  append(": ");
  append(message);
  line[n++] = '\n';
  const char* p = line.data();
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (text == kNames[i]) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

}  // namespace weft
