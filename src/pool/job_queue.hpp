#pragma once
// JobQueue: the ThreadPool's queue of waiting jobs. Multi-producer,
// multi-consumer, non-blocking; blocking and wake-ups live in ThreadPool.
//
// Fast path: a bounded ring of cache-line slots, each with a sequence number
// (Dmitry Vyukov's MPMC queue): a push or pop is one CAS on a shared index plus
// one release store on the slot, no mutex, no allocation (the Task lives in
// the slot). Sequence numbers encode the slot's state for position `pos`:
//   seq == 2*pos      the slot is free for the push of `pos`
//   seq == 2*pos + 1  the slot holds the job pushed at `pos`, ready to pop
// and a pop of `pos` frees the slot for `pos + capacity`. The doubled encoding
// keeps "free" and "full" distinct even for a ring of one slot, so the ring can
// hold exactly `max_queued` jobs.
//
// Slow path: when the ring is full and the queue allows more (unbounded, or a
// bound larger than the ring), jobs go to an overflow deque behind a mutex.
// While the overflow holds jobs, new pushes go there too, so a job in the
// overflow is never starved by a stream of later jobs taking the ring.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "weft/detail/task.hpp"

namespace weft::pool {

using detail::Task;

class JobQueue {
 public:
  /// Ring size used when max_queued is 0 (unbounded) or larger than this.
  static constexpr std::size_t kMaxRingSlots = 1024;

  /// `max_queued`: jobs waiting at most; 0 = unbounded.
  explicit JobQueue(std::size_t max_queued);

  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  /// Moves `task` into the queue and returns true, or returns false when the
  /// queue is full, leaving `task` untouched. Throws std::bad_alloc only when
  /// the overflow deque cannot grow.
  bool try_push(Task& task);

  /// Moves the oldest available job into `out` (which must be empty) and
  /// returns true, or returns false when no job is waiting.
  bool try_pop(Task& out) noexcept;

  /// Cheap read-only check for a polling consumer: false when a pop would
  /// probably succeed. Never writes shared state.
  [[nodiscard]] bool looks_empty() const noexcept;

  /// Jobs waiting (approximate while other threads push and pop).
  [[nodiscard]] std::size_t size() const noexcept;

  /// Jobs that can still be pushed before the queue is full (approximate);
  /// SIZE_MAX-like large value when unbounded.
  [[nodiscard]] std::size_t room() const noexcept;

 private:
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> seq;
    Task task;
  };

  [[nodiscard]] std::size_t index(std::uint64_t pos) const noexcept {
    return static_cast<std::size_t>(pos % capacity_);
  }
  bool ring_push(Task& task) noexcept;
  bool ring_pop(Task& out) noexcept;
  bool overflow_push(Task& task);
  bool overflow_pop(Task& out) noexcept;

  const std::size_t max_queued_;  // 0 = unbounded
  const std::size_t capacity_;    // ring slots
  const std::unique_ptr<Slot[]> slots_;

  alignas(64) std::atomic<std::uint64_t> head_{0};  // next position to push
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // next position to pop

  alignas(64) std::atomic<std::size_t> overflow_size_{0};
  std::mutex overflow_mutex_;
  std::deque<Task> overflow_;  // guarded by overflow_mutex_
};

}  // namespace weft::pool
