#include "demo_streams.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "weft/event_stream.hpp"

namespace weft::app {
namespace {

constexpr long long kDefaultEvents = 10;
constexpr long long kMaxEvents = 1'000'000;
constexpr long long kDefaultIntervalMs = 1000;
constexpr long long kMaxIntervalMs = 60'000;

// Query parameter `name` as a whole number in [low, high]; `fallback` when absent; nullopt if bad.
std::optional<long long> number_param(const Request& request, std::string_view name, long long fallback,
                                      long long low, long long high) {
  const auto text = request.query_param(name);
  if (!text) return fallback;
  long long value = 0;
  const char* last = text->data() + text->size();
  const auto [end, ec] = std::from_chars(text->data(), last, value);
  if (text->empty() || ec != std::errc{} || end != last || value < low || value > high) return std::nullopt;
  return value;
}

// One /events stream: sends event `next` when its timer fires, waits for room when the client
// reads slowly, stops when the client goes away.
struct Ticker : std::enable_shared_from_this<Ticker> {
  Ticker(EventStream s, TimerQueue& t, long long n, std::chrono::milliseconds ms)
      : events(std::move(s)), timers(t), count(n), interval(ms) {}

  void schedule() {
    timers.after(interval, [self = shared_from_this()] { self->tick(); });
  }
  void tick() {
    if (events.cancelled()) return;
    const std::string data = std::to_string(next);
    const bool room = events.send(data);
    if (next++ == count) {
      events.end();
      return;
    }
    if (room) {
      schedule();
    } else {
      events.on_ready([self = shared_from_this()] { self->schedule(); });
    }
  }

  EventStream events;
  TimerQueue& timers;
  long long next = 1;
  long long count;
  std::chrono::milliseconds interval;
};

// SHA-256 of an upload, fed chunk by chunk (OpenSSL's libcrypto).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
  }
  void update(std::string_view bytes) {
    bytes_ += bytes.size();
    EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
  }
  [[nodiscard]] std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size);
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
      out += kHex[digest[i] >> 4U];
      out += kHex[digest[i] & 0xfU];
    }
    return out;
  }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::uint64_t bytes_ = 0;
};

void upload(const Request& request, Reply reply) {
  auto sha = std::make_shared<Sha256>();
  request.body_reader().read(
      [sha](std::string_view chunk) { sha->update(chunk); },
      [sha, reply](BodyEnd end) mutable {
        // The server answers a too-large or badly framed body itself.
        if (end != BodyEnd::complete) return;
        reply.send(Response::bytes(
            200, R"({"bytes": )" + std::to_string(sha->bytes()) + R"(, "sha256": ")" + sha->hex() + "\"}\n",
            "application/json"));
      });
}

}  // namespace

void add_demo_streams(Server& server, TimerQueue& timers) {
  server.get("/events", [&timers](const Request& request, Reply reply) {
    const auto n = number_param(request, "n", kDefaultEvents, 1, kMaxEvents);
    const auto ms = number_param(request, "ms", kDefaultIntervalMs, 0, kMaxIntervalMs);
    if (!n || !ms) {
      reply.send(Response::text(400, "n must be a whole number from 1 to " + std::to_string(kMaxEvents) +
                                         ", ms from 0 to " + std::to_string(kMaxIntervalMs) + "\n"));
      return;
    }
    auto ticker =
        std::make_shared<Ticker>(EventStream::start(reply), timers, *n, std::chrono::milliseconds(*ms));
    ticker->schedule();
  });
  const RouteOptions streamed{.stream_body = true, .max_body = 0};
  server.put(
      "/upload", [](const Request& request, Reply reply) { upload(request, std::move(reply)); }, streamed);
  server.post(
      "/upload", [](const Request& request, Reply reply) { upload(request, std::move(reply)); }, streamed);
}

}  // namespace weft::app
