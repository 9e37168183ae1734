#include "pool/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

namespace weft::detail {
namespace {

std::string_view trim(std::string_view s) noexcept {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

template <class Int>
std::optional<Int> to_int(std::string_view s) noexcept {
  s = trim(s);
  Int value{};
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (s.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// floor(quota / period), at least 1; nullopt unless both are positive.
std::optional<unsigned> cpus_from_quota(std::int64_t quota, std::int64_t period) noexcept {
  if (quota <= 0 || period <= 0) return std::nullopt;
  const std::int64_t cpus = std::max<std::int64_t>(quota / period, 1);
  return static_cast<unsigned>(std::min<std::int64_t>(cpus, 1 << 20));
}

// The whole of a small file; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return text;
}

void keep_smaller(std::optional<unsigned>& best, std::optional<unsigned> limit) noexcept {
  if (limit && (!best || *limit < *best)) best = limit;
}

// `relative` is the cgroup path below the controller's mount `base`; calls
// `read_limit(dir)` for it and every ancestor up to `base`, keeping the smallest.
template <class ReadLimit>
void walk_up(const std::filesystem::path& base, std::string_view relative, std::optional<unsigned>& best,
             ReadLimit read_limit) {
  std::filesystem::path rel = std::filesystem::path(std::string(relative)).relative_path();
  for (;;) {
    keep_smaller(best, read_limit(base / rel));
    if (rel.empty()) return;
    rel = rel.parent_path();
  }
}

bool lists_cpu_controller(std::string_view controllers) noexcept {
  while (!controllers.empty()) {
    const auto comma = controllers.find(',');
    if (controllers.substr(0, comma) == "cpu") return true;
    if (comma == std::string_view::npos) return false;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

unsigned affinity_cpus() noexcept {
  // Start with the static set; a machine with more CPUs than CPU_SETSIZE needs a bigger one.
  for (std::size_t cpus = CPU_SETSIZE; cpus <= (std::size_t{1} << 16); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) return 1;
    const std::size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    const int rc = sched_getaffinity(0, size, set);
    const int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    const int error = errno;
    CPU_FREE(set);
    if (rc == 0) return static_cast<unsigned>(std::max(count, 1));
    if (error != EINVAL) return 1;
  }
  return 1;
}

std::optional<unsigned> cpus_from_cpu_max(std::string_view text) noexcept {
  text = trim(text);
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = to_int<std::int64_t>(text.substr(0, space));  // "max": nullopt
  const auto period = to_int<std::int64_t>(text.substr(space + 1));
  if (!quota || !period) return std::nullopt;
  return cpus_from_quota(*quota, *period);
}

std::optional<unsigned> cpus_from_cfs(std::string_view quota_us, std::string_view period_us) noexcept {
  const auto quota = to_int<std::int64_t>(quota_us);
  const auto period = to_int<std::int64_t>(period_us);
  if (!quota || !period) return std::nullopt;
  return cpus_from_quota(*quota, *period);
}

std::optional<unsigned> cgroup_cpu_limit(std::string_view proc_self_cgroup,
                                         const std::filesystem::path& root) {
  std::optional<unsigned> best;
  std::istringstream lines{std::string(proc_self_cgroup)};
  std::string line;
  while (std::getline(lines, line)) {
    // "hierarchy-ID:controller-list:cgroup-path"; v2 is "0::/path".
    const std::string_view view = line;
    const auto first = view.find(':');
    const auto second = first == std::string_view::npos ? first : view.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = view.substr(first + 1, second - first - 1);
    const std::string_view path = trim(view.substr(second + 1));
    if (view.substr(0, first) == "0" && controllers.empty()) {
      walk_up(root, path, best, [](const std::filesystem::path& dir) -> std::optional<unsigned> {
        const auto text = read_file(dir / "cpu.max");
        return text ? cpus_from_cpu_max(*text) : std::nullopt;
      });
    } else if (lists_cpu_controller(controllers)) {
      const auto read_cfs = [](const std::filesystem::path& dir) -> std::optional<unsigned> {
        const auto quota = read_file(dir / "cpu.cfs_quota_us");
        const auto period = quota ? read_file(dir / "cpu.cfs_period_us") : std::nullopt;
        return period ? cpus_from_cfs(*quota, *period) : std::nullopt;
      };
      // The mount is named after its controller list (cpu,cpuacct) and often
      // also reachable as plain "cpu"; reading both costs nothing when they are one.
      walk_up(root / std::string(controllers), path, best, read_cfs);
      if (controllers != "cpu") walk_up(root / "cpu", path, best, read_cfs);
    }
  }
  return best;
}

unsigned usable_cpus() noexcept {
  const unsigned affinity = affinity_cpus();
  try {
    const auto text = read_file("/proc/self/cgroup");
    if (!text) return affinity;
    const auto limit = cgroup_cpu_limit(*text, "/sys/fs/cgroup");
    return limit ? std::min(affinity, *limit) : affinity;
  } catch (...) {  // an allocation failure while reading: no limit is known
    return affinity;
  }
}

}  // namespace weft::detail
