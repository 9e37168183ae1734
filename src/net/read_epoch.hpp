#pragma once
// The read epoch of this thread: how many times a connection on it read bytes from a client.
// Event-loop threads advance it; other threads leave it at 0.
//
// Why: a check whose answer only has to be newer than the request it serves ("has a file
// changed since this request arrived?") can be made once per read rather than once per request:
// pipelined requests that came in one read arrived together, so one look taken after that read
// is as fresh for each of them.

#include <cstdint>

namespace weft::net {

/// Advanced by a connection after each read that returned bytes (loop thread).
inline thread_local std::uint64_t read_epoch = 0;

}  // namespace weft::net
