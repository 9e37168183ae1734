#pragma once
// What a ThreadPool's workers decided so far, for tests that check the
// spinning and wake-up rules by counting instead of timing. Not public API.

#include <cstdint>

#include "weft/thread_pool.hpp"

namespace weft::detail {

struct ThreadPoolCounters {
  std::uint64_t spins = 0;             ///< spins started
  std::uint64_t spin_hits = 0;         ///< ... that found a job without being descheduled
  std::uint64_t spin_misses = 0;       ///< ... whose window passed without a job
  std::uint64_t spin_preemptions = 0;  ///< ... during which the spinner lost its core
  std::uint64_t spins_capped = 0;      ///< spins not started: as many spinners as the CPUs allow
  std::uint64_t spins_backed_off = 0;  ///< spins not started: the SpinPolicy said no
  std::uint64_t parks = 0;             ///< times a worker registered to sleep
  std::uint64_t wakeups = 0;           ///< sleeping workers woken to run a job (not at shutdown)
  std::uint32_t spinner_cap = 0;       ///< workers that may spin at once now
  std::uint32_t peak_spinners = 0;     ///< most workers ever spinning at once
  std::uint32_t parked = 0;            ///< workers registered to sleep now
};

struct ThreadPoolProbe {
  /// A snapshot; exact once the pool is quiet (no job running or queued, every worker asleep).
  static ThreadPoolCounters counters(const ThreadPool& pool) noexcept;
};

}  // namespace weft::detail
