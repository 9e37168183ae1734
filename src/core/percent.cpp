#include "core/percent.hpp"

#include <algorithm>
#include <cstddef>

namespace weft::core {

namespace {

// The value of hex digit `c`, or -1.
[[nodiscard]] constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte escaped by raw[i..i+2] (raw[i] == '%'), or -1 when it is not a complete escape.
[[nodiscard]] int escaped_byte(std::string_view raw, std::size_t i) noexcept {
  if (raw.size() - i < 3) return -1;
  const int hi = hex_value(raw[i + 1]);
  const int lo = hex_value(raw[i + 2]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

}  // namespace

bool needs_decoding(std::string_view raw) noexcept {
  return std::ranges::any_of(raw, [](char c) { return c == '%' || c == '\0'; });
}

std::optional<std::string> decode_path(std::string_view raw) {
  // Most paths hold no escape at all: one scan, one copy.
  if (!needs_decoding(raw)) return std::string(raw);

  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\0') return std::nullopt;
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    const int byte = escaped_byte(raw, i);
    if (byte <= 0) return std::nullopt;  // malformed (-1) or %00 (0)
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return out;
}

std::string decode_query_component(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    const int byte = c == '%' ? escaped_byte(raw, i) : -1;
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(c == '+' ? ' ' : c);
    }
  }
  return out;
}

}  // namespace weft::core
