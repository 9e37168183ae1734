#pragma once
// How a fuzz input is read: byte 0 holds flags, bytes 1-2 a seed for the split points, the rest is
// the data (an HTTP stream, a chunked body...). Inputs shorter than 3 bytes are all data.
// Flags (bit: meaning):
//   0-1  split mode: 0 random pieces, 1 one byte at a time, 2 random pieces each in a new
//        allocation (the buffer moves), 3 two pieces cut at seed % size
//   2    small limits (every bound within reach of a short input)
//   3-7  free for the check (fuzz_connection: host behaviour)

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "checks.hpp"

namespace weft::fuzz {

enum class SplitMode : std::uint8_t { kRandom, kEveryByte, kRandomMoving, kTwoPieces };

struct Input {
  std::uint8_t flags = 0;
  std::uint16_t seed = 0;
  std::string_view data;

  [[nodiscard]] static Input from(Bytes bytes) noexcept;
  [[nodiscard]] SplitMode split_mode() const noexcept { return static_cast<SplitMode>(flags & 3U); }
  [[nodiscard]] bool small_limits() const noexcept { return (flags & 4U) != 0; }
  [[nodiscard]] bool flag(unsigned bit) const noexcept { return ((flags >> bit) & 1U) != 0; }
  /// Ascending cut offsets in (0, data.size()], the last one data.size() (empty for empty data).
  [[nodiscard]] std::vector<std::size_t> cuts() const;
};

/// A heap copy of `bytes` in an allocation of exactly their size, so that AddressSanitizer
/// reports any read past the end.
class ExactCopy {
 public:
  explicit ExactCopy(std::string_view bytes);
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }
  [[nodiscard]] char* data() noexcept { return data_.get(); }

 private:
  std::unique_ptr<char[]> data_;  // NOLINT(modernize-avoid-c-arrays): an exact-size allocation
  std::size_t size_;
};

/// Marks [data, data + size) unreadable for AddressSanitizer while in scope (no-op without
/// ASan): the tail of a buffer the code under test must not look at yet.
class Poison {
 public:
  Poison(const char* data, std::size_t size) noexcept;
  ~Poison();
  Poison(const Poison&) = delete;
  Poison& operator=(const Poison&) = delete;

 private:
  const char* data_;
  std::size_t size_;
};

}  // namespace weft::fuzz
