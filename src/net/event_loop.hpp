#pragma once
// EventLoop: one epoll instance, an eventfd wake-up, and a queue of tasks
// posted from other threads (the completion queue of DESIGN.md: a pool worker
// hands a finished response back to the connection's loop through it).
// Everything but post() and wake() is loop-thread only.

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "net/timer_list.hpp"
#include "net/unique_fd.hpp"
#include "pool/job_queue.hpp"
#include "weft/detail/task.hpp"

namespace weft::net {

class EventLoop {
 public:
  /// Receives the epoll events of one descriptor.
  class Watcher {
   public:
    virtual void on_io(std::uint32_t events) = 0;

   protected:
    ~Watcher() = default;
  };

  /// Throws std::system_error when epoll or eventfd cannot be created.
  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop() = default;

  /// Registers `fd` for `events`, delivered to `watcher`. Returns false on failure (errno set).
  [[nodiscard]] bool add(int fd, std::uint32_t events, Watcher* watcher) noexcept;
  /// Changes the events of a registered `fd`.
  [[nodiscard]] bool modify(int fd, std::uint32_t events, Watcher* watcher) noexcept;
  /// Unregisters `fd` (before it is closed, or to pause it).
  void remove(int fd) noexcept;

  /// Queues `task` to run on the loop thread at its next iteration. Any thread.
  void post(detail::Task task);

  /// Waits for events until `deadline` at the latest (or forever for
  /// time_point::max()), then dispatches them and runs posted tasks.
  void poll(Clock::time_point deadline);

  /// The time sampled after the last wait returned (cheap "now" for timers).
  [[nodiscard]] Clock::time_point now() const noexcept { return now_; }

 private:
  void run_posted();

  UniqueFd epoll_;
  UniqueFd wake_fd_;
  Clock::time_point now_ = Clock::now();

  // Posted tasks: the pool's lock-free queue (unbounded), so a worker handing
  // back a response never waits for the loop and the loop never takes a lock.
  pool::JobQueue posted_{0};
  std::atomic<bool> wake_pending_{false};  // an eventfd write is outstanding
  std::vector<epoll_event> events_;
};

}  // namespace weft::net
