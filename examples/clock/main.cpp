// A Server-Sent Events clock: one thread of the program (not a handler) pushes the time to every
// open stream. Shows weft::EventStream used from outside the server: a broadcast list, the
// client going away (on_cancel), a slow client (send() says wait; on_ready says go on) and a
// clean shutdown that ends every stream.
//   clock [PORT] [INTERVAL_MS]      (defaults 8080 and 1000; PORT 0 = any free port)
//   GET /          a page that shows the ticks (the browser's EventSource)
//   GET /clock     text/event-stream: "event: tick", "id: <tick>", "data: <UTC time>" each
//                  interval; ?n=N ends the stream after N ticks
//   GET /stats     "streams N\n": streams open now
// Prints "listening on port N" once it accepts connections; SIGINT or SIGTERM ends every stream,
// drains and exits 0.
#include <weft/event_stream.hpp>
#include <weft/server.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// "2026-11-30T15:32:14.123Z"
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms));
  return text;
}

// The streams that get the ticks, and the thread that sends them.
class Clock {
 public:
  explicit Clock(std::chrono::milliseconds interval) : interval_(interval), thread_([this] { run(); }) {}
  ~Clock() { stop(); }
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  // A new listener (any thread; here a handler). `limit` ticks, then the stream ends (0: never).
  void add(weft::EventStream events, std::uint64_t limit) {
    auto listener = std::make_shared<Listener>(Listener{std::move(events), limit});
    std::uint64_t id = 0;
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) {
        listener->events.end();
        return;
      }
      id = next_id_++;
      listeners_.emplace(id, listener);
    }
    // The client went away: forget it. Registered outside the lock: it runs at once on this
    // thread when the stream is already cancelled.
    listener->events.on_cancel([this, id] { remove(id); });
  }

  [[nodiscard]] std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return listeners_.size();
  }

  // Ends every stream (they go out complete) and stops the thread.
  void stop() {
    std::map<std::uint64_t, std::shared_ptr<Listener>> ending;
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
      ending.swap(listeners_);
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& [id, listener] : ending) listener->events.end();
  }

 private:
  struct Listener {
    weft::EventStream events;
    std::uint64_t left;  // ticks still to send; 0 = no limit
    // False while the client reads more slowly than the clock ticks: ticks are skipped for it
    // until its buffer has room again (a clock has no use for old ticks).
    std::shared_ptr<std::atomic<bool>> ready = std::make_shared<std::atomic<bool>>(true);
  };

  void remove(std::uint64_t id) {
    const std::lock_guard lock(mutex_);
    listeners_.erase(id);
  }

  void run() {
    auto next = std::chrono::steady_clock::now() + interval_;
    for (std::uint64_t tick = 1;; ++tick) {
      std::vector<std::pair<std::uint64_t, std::shared_ptr<Listener>>> now;
      {
        std::unique_lock lock(mutex_);
        if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
        now.assign(listeners_.begin(), listeners_.end());
      }
      next += interval_;
      // Sent outside the lock: send() never blocks, but an on_cancel may be waiting for it.
      const std::string id = std::to_string(tick);
      const std::string time = utc_now();
      for (auto& [key, listener] : now) {
        if (!listener->ready->load()) continue;
        if (!listener->events.send({.data = time, .event = "tick", .id = id})) {
          if (listener->events.cancelled()) continue;  // on_cancel removes it
          listener->ready->store(false);
          listener->events.on_ready([ready = listener->ready] { ready->store(true); });
        }
        if (listener->left != 0 && --listener->left == 0) {
          listener->events.end();
          remove(key);
        }
      }
    }
  }

  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Listener>> listeners_;
  std::thread thread_;
};

constexpr const char* kPage = R"(<!doctype html>
<meta charset="utf-8"><title>weft clock</title>
<h1 id="time">…</h1><p>tick <span id="tick">-</span></p>
<script>
const clock = new EventSource("/clock");
clock.addEventListener("tick", (e) => {
  document.getElementById("time").textContent = e.data;
  document.getElementById("tick").textContent = e.lastEventId;
});
</script>
)";

}  // namespace

int main(int argc, char** argv) {
  // Signals go to one thread that stops the clock and the server. Block them before any thread
  // starts (the clock's included): a thread inherits the mask it is created with.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  weft::Config config;
  config.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  config.loops = 1;
  config.threads = 2;
  const auto interval = std::chrono::milliseconds(argc > 2 ? std::atol(argv[2]) : 1000);
  if (interval.count() <= 0) {
    std::fprintf(stderr, "clock: INTERVAL_MS must be positive\n");
    return 2;
  }
  weft::Server server(config);
  Clock clock(interval);

  server.fixed("/", weft::Response::html(200, kPage));
  server.get("/clock", [&clock](weft::Request request, weft::Reply reply) {
    const std::uint64_t limit = std::strtoull(request.query_param("n").value_or("0").c_str(), nullptr, 10);
    clock.add(weft::EventStream::start(reply), limit);
  });
  server.get("/stats", [&clock](const weft::Request&) {
    return weft::Response::text(200, "streams " + std::to_string(clock.size()) + "\n");
  });

  server.start();
  std::printf("listening on port %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  std::thread([&server, &clock, signals] {
    int signo = 0;
    sigwait(&signals, &signo);
    clock.stop();  // every stream ends, so the drain does not wait for them
    server.stop();
  }).detach();
  server.wait();
  return 0;
}
