#include "net/event_loop.hpp"

#include <sys/eventfd.h>

#include <cerrno>
#include <system_error>

namespace weft::net {
namespace {

constexpr int kMaxEventsPerWait = 256;

// Marks the eventfd's epoll entry; no Watcher has this address.
constexpr std::uint64_t kWakeTag = 1;

}  // namespace

EventLoop::EventLoop()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      events_(kMaxEventsPerWait) {
  if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  if (!wake_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(eventfd)");
  }
}

bool EventLoop::add(int fd, std::uint32_t events, Watcher* watcher) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = watcher;
  return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, std::uint32_t events, Watcher* watcher) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = watcher;
  return ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) noexcept { (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(detail::Task task) {
  // Unbounded: try_push only fails when memory runs out, and then throws.
  (void)posted_.try_push(task);
  // One eventfd write per batch. The exchange pairs with the loop's exchange
  // back to false (read-modify-writes on one atomic are totally ordered): the
  // loop either sees this task in the drain that follows its exchange, or this
  // exchange reads false and writes the eventfd, waking the loop again.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_.get(), &one, sizeof one);
  }
}

void EventLoop::poll(Clock::time_point deadline) {
  int timeout_ms = -1;
  if (deadline != Clock::time_point::max()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    timeout_ms = left.count() <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left.count(), 60'000));
  }
  const int n = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), timeout_ms);
  now_ = Clock::now();
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events_[static_cast<std::size_t>(i)];
    if (ev.data.u64 == kWakeTag) {
      woken = true;
      continue;
    }
    static_cast<Watcher*>(ev.data.ptr)->on_io(ev.events);
  }
  if (woken) {
    std::uint64_t count = 0;
    (void)!::read(wake_fd_.get(), &count, sizeof count);
    (void)wake_pending_.exchange(false, std::memory_order_acq_rel);
  }
  run_posted();
}

void EventLoop::run_posted() {
  // Only what is queued now: a task that posts another leaves it for the
  // next iteration (it has woken the loop), so the loop cannot be starved.
  std::size_t budget = posted_.size();
  detail::Task task;
  while (budget-- > 0 && posted_.try_pop(task)) {
    task();
    task.reset();
  }
}

}  // namespace weft::net
