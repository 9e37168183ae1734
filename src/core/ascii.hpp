#pragma once
// ASCII helpers that every layer may use (field names, methods and tokens are ASCII by the RFCs;
// locale-dependent <cctype> functions are not wanted for protocol bytes). Pure; any thread.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace weft::core {

/// ASCII case-insensitive equality (bytes >= 0x80 compare exactly).
[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Setting bit 0x20 maps 'A'-'Z' onto 'a'-'z'; the check that the lowered byte is a letter
    // keeps e.g. '@' (0x40) and '`' (0x60) apart.
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    const auto lx = static_cast<unsigned char>(x | 0x20U);
    if (lx != (y | 0x20U) || lx < 'a' || lx > 'z') return false;
  }
  return true;
}

/// `c` with 'A'-'Z' lowered; every other byte unchanged.
[[nodiscard]] constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Lowers 'A'-'Z' in the `n` bytes at `p`, every other byte unchanged: eight bytes per step (a
/// response's field names on the way to HTTP/2, where they must be lower case).
inline void lower_in_place(char* p, std::size_t n) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    // Per byte, on its low seven bits: +0x3F sets bit 7 from 'A' (0x41) up, +0x25 from past 'Z'
    // (0x5B) up; a letter has the first and not the second, and bit 7 clear in the byte itself.
    const std::uint64_t low7 = w & (0x7F * kOnes);
    const std::uint64_t upper = ((low7 + 0x3F * kOnes) ^ (low7 + 0x25 * kOnes)) & ~w & (0x80 * kOnes);
    w |= upper >> 2;  // 0x80 >> 2 = 0x20, the case bit
    std::memcpy(p, &w, 8);
  }
  for (; n > 0; ++p, --n) *p = to_lower(*p);
}

/// True for a tchar of RFC 9110 5.6.2 (the bytes of a token: a method, a field name).
[[nodiscard]] constexpr bool is_tchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace weft::core
