#pragma once
// ByteBuffer: the bytes read from a connection and not yet consumed.
// Allocated on first use and released when emptied by release(), so an idle
// keep-alive connection holds no buffer. Loop thread only.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

namespace weft::net {

class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  ByteBuffer(ByteBuffer&& other) noexcept
      : storage_(std::move(other.storage_)),
        capacity_(std::exchange(other.capacity_, 0)),
        begin_(std::exchange(other.begin_, 0)),
        end_(std::exchange(other.end_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    storage_ = std::move(other.storage_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    return *this;
  }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer() = default;

  /// Bytes of memory held (0 when released).
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Unconsumed bytes.
  [[nodiscard]] std::string_view data() const noexcept { return {storage_.get() + begin_, end_ - begin_}; }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }

  /// Space to read at least `min_free` bytes into (or less if that would pass
  /// `max_total` bytes of unconsumed data; empty when the buffer is full).
  /// May move the unconsumed bytes to the front or to a larger block.
  [[nodiscard]] std::span<char> prepare(std::size_t min_free, std::size_t max_total) {
    if (capacity_ - end_ >= min_free) return tail();
    const std::size_t used = size();
    if (begin_ > 0 && capacity_ - used >= min_free) {  // compact
      std::memmove(storage_.get(), storage_.get() + begin_, used);
      begin_ = 0;
      end_ = used;
      return tail();
    }
    std::size_t cap = capacity_ == 0 ? min_free : capacity_ * 2;
    while (cap - used < min_free) cap *= 2;
    if (cap > max_total) cap = max_total > used ? max_total : used;
    if (cap <= capacity_ && begin_ == 0) return tail();
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    if (used > 0) std::memcpy(bigger.get(), storage_.get() + begin_, used);
    storage_ = std::move(bigger);
    capacity_ = cap;
    begin_ = 0;
    end_ = used;
    return tail();
  }

  /// Marks `n` bytes of the span from prepare() as filled.
  void commit(std::size_t n) noexcept { end_ += n; }

  /// Drops `n` bytes from the front.
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  /// Frees the memory when nothing is buffered.
  void release_if_empty() noexcept {
    if (empty()) {
      storage_.reset();
      capacity_ = begin_ = end_ = 0;
    }
  }

 private:
  [[nodiscard]] std::span<char> tail() noexcept { return {storage_.get() + end_, capacity_ - end_}; }

  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace weft::net
