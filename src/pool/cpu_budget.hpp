#pragma once
// How many CPUs the calling thread's process can really run on at once, for
// the ThreadPool's decision whether an idle worker may spin: the CPUs of the
// thread's affinity mask (taskset, cpusets), capped by the cgroup's CPU quota
// (docker --cpus, Kubernetes limits). A quota of q CPU-seconds per second
// counts as floor(q) CPUs, at least 1: a spinner that uses the fraction above
// that makes the kernel throttle the whole cgroup later, every thread of it.
//
// cgroup v2: cpu.max ("max 100000" or "<quota> <period>") of the process's
// cgroup and of each ancestor up to the mount point; the smallest limit wins.
// cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us of the cpu controller's
// cgroup and ancestors. Inside a container the process's path often does not
// exist under the mount (the container sees only its own subtree), so the walk
// up also reaches the container's own limit at the mount point.
//
// Reading costs a system call and a few small file reads: the pool reads it
// when it starts and then at most once a second.

#include <filesystem>
#include <optional>
#include <string_view>

namespace weft::detail {

/// CPUs in the calling thread's affinity mask; 1 when it cannot be read.
unsigned affinity_cpus() noexcept;

/// The CPUs a cgroup v2 cpu.max allows ("150000 100000" -> 1, "200000 100000"
/// -> 2, "50000 100000" -> 1); nullopt for "max ..." (no limit) or text that
/// is not a quota.
std::optional<unsigned> cpus_from_cpu_max(std::string_view text) noexcept;

/// The same for cgroup v1's cpu.cfs_quota_us ("-1": no limit) and cpu.cfs_period_us.
std::optional<unsigned> cpus_from_cfs(std::string_view quota_us, std::string_view period_us) noexcept;

/// The smallest CPU limit of the cgroups that `proc_self_cgroup` (the text of
/// /proc/self/cgroup) names, with the cgroup file systems mounted under `root`
/// (normally /sys/fs/cgroup: v2 at the root itself, v1 controllers in
/// subdirectories such as cpu or cpu,cpuacct); nullopt when there is none.
/// Files that do not exist or cannot be read mean "no limit".
std::optional<unsigned> cgroup_cpu_limit(std::string_view proc_self_cgroup,
                                         const std::filesystem::path& root);

/// min(affinity_cpus(), the limit of this process's cgroups), at least 1.
unsigned usable_cpus() noexcept;

}  // namespace weft::detail
