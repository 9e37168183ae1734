#pragma once
// Endpoint: what a route leads to when application code answers, as a protocol sees it: how the
// request body is read, and how the exchange is started. The server implements it (handlers,
// listings); a protocol only starts it, so it never knows about routes or handlers.

#include <cstdint>

#include "weft/reply.hpp"
#include "weft/request.hpp"

namespace weft::exchange {

class Endpoint {
 public:
  /// The body is handed to the application as it arrives (BodyReader) instead of buffered.
  bool stream_body = false;
  /// Body bytes accepted (more -> 413); 0 = no limit (only for a streamed body).
  std::uint64_t max_body = 0;

  Endpoint() = default;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  virtual ~Endpoint() = default;

  /// Runs the application code for `request` (a pool worker); it answers through `reply`.
  /// Must not throw (an implementation catches and answers 500).
  virtual void start(Request request, Reply reply) const noexcept = 0;
};

}  // namespace weft::exchange
