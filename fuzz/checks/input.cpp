#include "input.hpp"

#include <algorithm>
#include <cstring>

#include "core/sanitizers.hpp"
#if defined(WEFT_ADDRESS_SANITIZER)
#include <sanitizer/asan_interface.h>
#endif

namespace weft::fuzz {
namespace {

constexpr std::size_t kHeaderBytes = 3;
constexpr std::size_t kMaxRandomPieces = 16;

// splitmix64: a tiny deterministic generator; the same input always gives the same cuts.
std::uint64_t next(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

}  // namespace

Input Input::from(Bytes bytes) noexcept {
  Input in;
  if (bytes.size() < kHeaderBytes) {
    in.data = {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    return in;
  }
  in.flags = bytes[0];
  in.seed = static_cast<std::uint16_t>(bytes[1] | (bytes[2] << 8U));
  in.data = {reinterpret_cast<const char*>(bytes.data()) + kHeaderBytes, bytes.size() - kHeaderBytes};
  return in;
}

std::vector<std::size_t> Input::cuts() const {
  const std::size_t size = data.size();
  std::vector<std::size_t> cuts;
  if (size == 0) return cuts;
  switch (split_mode()) {
    case SplitMode::kEveryByte:
      for (std::size_t i = 1; i <= size; ++i) cuts.push_back(i);
      return cuts;
    case SplitMode::kTwoPieces:
      if (const std::size_t cut = seed % size; cut > 0) cuts.push_back(cut);
      cuts.push_back(size);
      return cuts;
    case SplitMode::kRandom:
    case SplitMode::kRandomMoving:
      break;
  }
  std::uint64_t state = seed;
  const std::size_t pieces = 1 + next(state) % kMaxRandomPieces;
  for (std::size_t i = 1; i < pieces; ++i) cuts.push_back(1 + next(state) % size);
  cuts.push_back(size);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

ExactCopy::ExactCopy(std::string_view bytes)
    : data_(std::make_unique<char[]>(bytes.size())),  // NOLINT(modernize-avoid-c-arrays)
      size_(bytes.size()) {
  if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
}

#if defined(WEFT_ADDRESS_SANITIZER)
Poison::Poison(const char* data, std::size_t size) noexcept : data_(data), size_(size) {
  ASAN_POISON_MEMORY_REGION(data_, size_);
}
Poison::~Poison() { ASAN_UNPOISON_MEMORY_REGION(data_, size_); }
#else
Poison::Poison(const char* data, std::size_t size) noexcept : data_(data), size_(size) {}
Poison::~Poison() = default;
#endif

}  // namespace weft::fuzz
