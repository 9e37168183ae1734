#pragma once
/// \file
/// weft::detail::Task: a move-only `void()` callable with inline storage.
///
/// g++ 12 has no std::move_only_function, and std::function rejects move-only
/// callables (a std::promise, a unique_ptr). Task stores a callable of up to
/// kInlineSize bytes inside itself (no allocation per job: a pool slot is one
/// cache line), and larger or over-aligned callables on the heap.
/// Not thread-safe: one owner at a time, as with any value type.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace weft::detail {

class Task {
 public:
  /// Bytes a callable may occupy and still be stored without allocating.
  static constexpr std::size_t kInlineSize = 40;  // with the ops pointer: 48 bytes, so a queue slot is 64

  // storage_ is raw bytes, read only once ops_ says a callable lives there.
  // cppcheck-suppress uninitMemberVar
  Task() noexcept = default;

  /// Wraps `f`. Allocates (and may throw std::bad_alloc) only when F is larger
  /// than kInlineSize, over-aligned, or not nothrow-move-constructible.
  // Implicit like std::function (google-explicit-constructor); the requires-clause keeps Task
  // itself out, which clang-tidy 14 does not see (bugprone-forwarding-reference-overload).
  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, Task> && std::is_invocable_v<std::decay_t<F>&>)
      Task(F&& f) {  // NOLINT(google-explicit-constructor,bugprone-forwarding-reference-overload)
    using Fn = std::decay_t<F>;
    if constexpr (fits_inline<Fn>()) {
      ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      *reinterpret_cast<Fn**>(storage_) = new Fn(std::forward<F>(f));
      ops_ = &kHeapOps<Fn>;
    }
  }

  Task(Task&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) {
      ops_->relocate(other.storage_, storage_);
      other.ops_ = nullptr;
    }
  }

  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) {
        ops_->relocate(other.storage_, storage_);
        other.ops_ = nullptr;
      }
    }
    return *this;
  }

  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  /// True when a callable is held.
  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Calls the held callable; precondition: `*this` holds one. Exceptions propagate.
  void operator()() { ops_->invoke(storage_); }

  /// Destroys the held callable, if any.
  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*invoke)(void* storage);
    void (*relocate)(void* from, void* to) noexcept;  // move-construct into `to`, destroy `from`
    void (*destroy)(void* storage) noexcept;
  };

  template <class Fn>
  static constexpr bool fits_inline() {
    // Constant per instantiation, which is the point: misc-redundant-expression sees a tautology.
    // NOLINTNEXTLINE(misc-redundant-expression)
    return sizeof(Fn) <= kInlineSize && alignof(Fn) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<Fn>;
  }

  template <class Fn>
  static constexpr Ops kInlineOps{
      [](void* s) { (*std::launder(static_cast<Fn*>(s)))(); },
      [](void* from, void* to) noexcept {
        Fn* src = std::launder(static_cast<Fn*>(from));
        ::new (to) Fn(std::move(*src));
        src->~Fn();
      },
      [](void* s) noexcept { std::launder(static_cast<Fn*>(s))->~Fn(); },
  };

  template <class Fn>
  static constexpr Ops kHeapOps{
      [](void* s) { (**static_cast<Fn**>(s))(); },
      [](void* from, void* to) noexcept { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
      [](void* s) noexcept { delete *static_cast<Fn**>(s); },
  };

  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace weft::detail
