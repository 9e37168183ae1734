#include "pool/job_queue.hpp"

#include <limits>
#include <utility>

namespace weft::pool {
namespace {

std::size_t ring_slots_for(std::size_t max_queued) {
  return (max_queued == 0 || max_queued > JobQueue::kMaxRingSlots) ? JobQueue::kMaxRingSlots : max_queued;
}

}  // namespace

JobQueue::JobQueue(std::size_t max_queued)
    : max_queued_(max_queued),
      capacity_(ring_slots_for(max_queued)),
      slots_(std::make_unique<Slot[]>(capacity_)) {
  for (std::size_t i = 0; i < capacity_; ++i) slots_[i].seq.store(2 * i, std::memory_order_relaxed);
}

bool JobQueue::try_push(Task& task) {
  // While the overflow holds jobs, later jobs queue behind them (see header).
  if (overflow_size_.load(std::memory_order_acquire) == 0 && ring_push(task)) return true;
  if (capacity_ == max_queued_) return false;  // bounded by the ring alone
  return overflow_push(task);
}

bool JobQueue::try_pop(Task& out) noexcept {
  if (ring_pop(out)) return true;
  return overflow_size_.load(std::memory_order_acquire) != 0 && overflow_pop(out);
}

bool JobQueue::ring_push(Task& task) noexcept {
  std::uint64_t pos = head_.load(std::memory_order_relaxed);
  Slot* slot = nullptr;
  for (;;) {
    slot = &slots_[index(pos)];
    const std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
    const auto diff = static_cast<std::int64_t>(seq - 2 * pos);
    if (diff == 0) {
      if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (diff < 0) {
      return false;  // the slot still holds the job of pos - capacity: full
    } else {
      pos = head_.load(std::memory_order_relaxed);  // another producer took pos
    }
  }
  slot->task = std::move(task);
  slot->seq.store(2 * pos + 1, std::memory_order_release);
  return true;
}

bool JobQueue::ring_pop(Task& out) noexcept {
  std::uint64_t pos = tail_.load(std::memory_order_relaxed);
  Slot* slot = nullptr;
  for (;;) {
    slot = &slots_[index(pos)];
    const std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
    const auto diff = static_cast<std::int64_t>(seq - (2 * pos + 1));
    if (diff == 0) {
      if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (diff < 0) {
      return false;  // not yet filled: empty
    } else {
      pos = tail_.load(std::memory_order_relaxed);  // another consumer took pos
    }
  }
  out = std::move(slot->task);
  slot->seq.store(2 * (pos + capacity_), std::memory_order_release);
  return true;
}

bool JobQueue::overflow_push(Task& task) {
  std::lock_guard lock(overflow_mutex_);
  if (max_queued_ != 0 && overflow_.size() >= max_queued_ - capacity_) return false;
  overflow_.push_back(std::move(task));
  overflow_size_.store(overflow_.size(), std::memory_order_release);
  return true;
}

bool JobQueue::overflow_pop(Task& out) noexcept {
  std::lock_guard lock(overflow_mutex_);
  if (overflow_.empty()) return false;
  out = std::move(overflow_.front());
  overflow_.pop_front();
  overflow_size_.store(overflow_.size(), std::memory_order_release);
  return true;
}

bool JobQueue::looks_empty() const noexcept {
  const std::uint64_t pos = tail_.load(std::memory_order_relaxed);
  const std::uint64_t seq = slots_[index(pos)].seq.load(std::memory_order_relaxed);
  return seq != 2 * pos + 1 && overflow_size_.load(std::memory_order_relaxed) == 0;
}

std::size_t JobQueue::size() const noexcept {
  // Read tail first: head can only grow meanwhile, so head >= tail here.
  const std::uint64_t tail = tail_.load(std::memory_order_acquire);
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  const std::size_t in_ring = head > tail ? static_cast<std::size_t>(head - tail) : 0;
  return in_ring + overflow_size_.load(std::memory_order_acquire);
}

std::size_t JobQueue::room() const noexcept {
  if (max_queued_ == 0) return std::numeric_limits<std::size_t>::max();
  const std::size_t used = size();
  return used >= max_queued_ ? 0 : max_queued_ - used;
}

}  // namespace weft::pool
