#pragma once
// The built-in site's streaming routes, so anyone can try them with curl:
//
//   GET /events?n=N&ms=M    Server-Sent Events: N events "data: I" (I = 1..N), one every M ms,
//                           then the stream ends (defaults n=10, ms=1000; 1 <= n <= 1,000,000,
//                           0 <= ms <= 60,000; a bad value -> 400). Driven by one TimerQueue:
//                           thousands of open streams hold no thread.
//   PUT|POST /upload        consumes a body of any size as it arrives and answers
//                           {"bytes": N, "sha256": "<hex>"} (application/json). Memory stays
//                           flat whatever the size.

#include "weft/server.hpp"
#include "weft/timer_queue.hpp"

namespace weft::app {

/// Registers /events and /upload on `server`. `timers` must outlive `server`.
void add_demo_streams(Server& server, TimerQueue& timers);

}  // namespace weft::app
