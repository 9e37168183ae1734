#pragma once
// TimerList: deadlines that all share one duration, kept in an intrusive
// list ordered by deadline (h2o's timeout lists). Arming appends at the tail
// with now + duration, so the list stays sorted and every operation is O(1);
// expiring pops from the head. One list per kind of timeout per loop.
// Loop thread only.

#include <chrono>
#include <cstddef>

namespace weft::net {

using Clock = std::chrono::steady_clock;

class TimerList;

/// Embedded in the object that owns the timer. Must be disarmed (or the list
/// gone) before it is destroyed; TimerNode's destructor disarms it.
class TimerNode {
 public:
  TimerNode() = default;
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;
  ~TimerNode() { disarm(); }

  [[nodiscard]] bool armed() const noexcept { return list_ != nullptr; }
  [[nodiscard]] Clock::time_point deadline() const noexcept { return deadline_; }
  inline void disarm() noexcept;

 private:
  friend class TimerList;
  TimerList* list_ = nullptr;
  TimerNode* prev_ = nullptr;
  TimerNode* next_ = nullptr;
  Clock::time_point deadline_{};
};

class TimerList {
 public:
  explicit TimerList(Clock::duration duration) noexcept : duration_(duration) {}
  TimerList(const TimerList&) = delete;
  TimerList& operator=(const TimerList&) = delete;
  ~TimerList() {
    while (head_ != nullptr) head_->disarm();
  }

  /// (Re)arms `node` to fire at now + duration (moving it from any other list).
  void arm(TimerNode& node, Clock::time_point now) noexcept {
    node.disarm();
    node.deadline_ = now + duration_;
    node.list_ = this;
    node.prev_ = tail_;
    node.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &node;
    tail_ = &node;
    ++size_;
  }

  /// Nodes armed in this list.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The earliest deadline, or Clock::time_point::max() when empty.
  [[nodiscard]] Clock::time_point next_deadline() const noexcept {
    return head_ != nullptr ? head_->deadline_ : Clock::time_point::max();
  }

  /// Disarms and returns the first node whose deadline is <= now, or nullptr.
  [[nodiscard]] TimerNode* pop_expired(Clock::time_point now) noexcept {
    if (head_ == nullptr || head_->deadline_ > now) return nullptr;
    TimerNode* node = head_;
    node->disarm();
    return node;
  }

 private:
  friend class TimerNode;
  void unlink(TimerNode& node) noexcept {
    (node.prev_ != nullptr ? node.prev_->next_ : head_) = node.next_;
    (node.next_ != nullptr ? node.next_->prev_ : tail_) = node.prev_;
    node.prev_ = node.next_ = nullptr;
    node.list_ = nullptr;
    --size_;
  }

  Clock::duration duration_;
  TimerNode* head_ = nullptr;
  TimerNode* tail_ = nullptr;
  std::size_t size_ = 0;
};

inline void TimerNode::disarm() noexcept {
  if (list_ != nullptr) list_->unlink(*this);
}

}  // namespace weft::net
