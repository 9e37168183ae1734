#include "h2/session_memory.hpp"

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/sanitizers.hpp"

namespace weft::h2 {
namespace {

// Size classes of 64 B to 1 KiB, in steps of 1.5x or less, for what nghttp2 takes per stream;
// larger blocks (a session's own structures, its frame buffer) go to malloc directly, so that
// rounding up never adds to what an idle connection holds. Each block has a header in front
// that names its class (kDirect: from malloc, not cached), kept 16 bytes long so that the block
// stays aligned as malloc's are.
constexpr std::array<std::size_t, 9> kClassSizes = {64, 96, 128, 192, 256, 384, 512, 768, 1024};
constexpr std::size_t kClasses = kClassSizes.size();
constexpr std::size_t kDirect = kClasses;
constexpr std::size_t kHeader = 16;
// At most this many bytes of free blocks per class and thread: under 300 KiB a loop.
constexpr std::size_t kCacheBytesPerClass = std::size_t{32} * 1024;

constexpr std::size_t class_size(std::size_t c) { return kClassSizes[c]; }

std::size_t class_of(std::size_t size) {
  std::size_t c = 0;
  while (c < kClasses && kClassSizes[c] < size) ++c;
  return c;
}

struct FreeBlock {
  FreeBlock* next;
};

// This thread's cache. Trivial thread_locals outlive every destructor of the thread's exit, so a
// session freed late (by another thread_local's or a static's destructor) finds `state` kGone and
// uses malloc and free directly.
enum class State : unsigned char { kFresh, kLive, kGone };
thread_local State state = State::kFresh;
thread_local std::array<FreeBlock*, kClasses> heads{};
thread_local std::array<std::size_t, kClasses> counts{};

struct Releaser {
  ~Releaser() {
    state = State::kGone;
    for (FreeBlock*& head : heads) {
      while (head != nullptr) {
        FreeBlock* next = head->next;
        std::free(reinterpret_cast<char*>(head) - kHeader);
        head = next;
      }
    }
  }
};

// Whether this thread may cache; the first use arms the release at thread exit.
bool caching() {
  if (state == State::kLive) return true;
  if (state == State::kGone) return false;
  thread_local Releaser releaser;
  state = State::kLive;
  return true;
}

std::size_t& header(void* block) {
  return *reinterpret_cast<std::size_t*>(static_cast<char*>(block) - kHeader);
}

void* allocate(std::size_t size, void* /*user*/) {
  const std::size_t c = class_of(size);
  // A block in the list means this thread caches (the release at its exit empties the lists).
  if (c < kClasses && heads[c] != nullptr) {
    FreeBlock* block = heads[c];
    heads[c] = block->next;
    --counts[c];
    return block;
  }
  const std::size_t bytes = c < kClasses ? class_size(c) : size;
  char* raw = static_cast<char*>(std::malloc(kHeader + bytes));
  if (raw == nullptr) return nullptr;
  void* block = raw + kHeader;
  header(block) = c < kClasses ? c : kDirect;
  return block;
}

void release(void* block, void* /*user*/) {
  if (block == nullptr) return;
  const std::size_t c = header(block);
  if (c < kClasses && (counts[c] + 1) * class_size(c) <= kCacheBytesPerClass && caching()) {
    heads[c] = ::new (block) FreeBlock{heads[c]};
    ++counts[c];
    return;
  }
  std::free(static_cast<char*>(block) - kHeader);
}

void* allocate_zeroed(std::size_t count, std::size_t size, void* user) {
  if (size != 0 && count > static_cast<std::size_t>(-1) / size) return nullptr;
  void* block = allocate(count * size, user);
  if (block != nullptr) std::memset(block, 0, count * size);
  return block;
}

void* reallocate(void* block, std::size_t size, void* user) {
  if (block == nullptr) return allocate(size, user);
  const std::size_t c = header(block);
  if (c < kClasses && size <= class_size(c)) return block;
  if (c == kDirect) {
    char* raw = static_cast<char*>(std::realloc(static_cast<char*>(block) - kHeader, kHeader + size));
    return raw == nullptr ? nullptr : raw + kHeader;
  }
  void* grown = allocate(size, user);
  if (grown == nullptr) return nullptr;
  std::memcpy(grown, block, class_size(c));
  release(block, user);
  return grown;
}

}  // namespace

nghttp2_mem* caching_session_memory() noexcept {
  static nghttp2_mem memory{nullptr, &allocate, &release, &allocate_zeroed, &reallocate};
  return &memory;
}

nghttp2_mem* session_memory() noexcept {
  return core::kAddressSanitizer ? nullptr : caching_session_memory();
}

}  // namespace weft::h2
