// The CPUs a ThreadPool believes it may use: cgroup quota parsing on fake
// cgroup trees, and the affinity mask of the calling thread.
#include "pool/cpu_budget.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace {

namespace fs = std::filesystem;
using weft::detail::cgroup_cpu_limit;
using weft::detail::cpus_from_cfs;
using weft::detail::cpus_from_cpu_max;

TEST(CpuBudget, CpuMaxWithoutALimit) {
  EXPECT_EQ(cpus_from_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("max"), std::nullopt);
}

TEST(CpuBudget, CpuMaxQuotaIsWholeCpusAtLeastOne) {
  EXPECT_EQ(cpus_from_cpu_max("100000 100000\n"), 1u);
  EXPECT_EQ(cpus_from_cpu_max("150000 100000\n"), 1u);  // 1.5 CPUs: the half is throttled, not spare
  EXPECT_EQ(cpus_from_cpu_max("200000 100000"), 2u);
  EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1u);
  EXPECT_EQ(cpus_from_cpu_max("1600000 100000"), 16u);
}

TEST(CpuBudget, CpuMaxRejectsWhatIsNotAQuota) {
  EXPECT_EQ(cpus_from_cpu_max(""), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("x 100000"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000 0"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("-5 100000"), std::nullopt);
}

TEST(CpuBudget, CfsQuota) {
  EXPECT_EQ(cpus_from_cfs("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(cpus_from_cfs("250000\n", "100000\n"), 2u);
  EXPECT_EQ(cpus_from_cfs("20000", "100000"), 1u);
  EXPECT_EQ(cpus_from_cfs("", "100000"), std::nullopt);
}

// A fake /sys/fs/cgroup in a fresh directory, removed afterwards.
class FakeCgroups : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("weft-cgroup-test-" + std::to_string(::getpid()) + "-" +
                                         testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& relative, const std::string& text) const {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }

  fs::path root_;
};

TEST_F(FakeCgroups, NoFilesNoLimit) {
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root_), std::nullopt);
  EXPECT_EQ(cgroup_cpu_limit("", root_), std::nullopt);
}

TEST_F(FakeCgroups, V2TakesTheSmallestLimitOnThePathUp) {
  write("cpu.max", "max 100000\n");
  write("a/cpu.max", "300000 100000\n");
  write("a/b/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root_), 3u);
  write("a/b/cpu.max", "200000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/a/b\n", root_), 2u);
}

TEST_F(FakeCgroups, V2InsideAContainerFindsItsOwnLimitAtTheMount) {
  // The path names the host's cgroup; the container mounts only its own.
  write("cpu.max", "100000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/system.slice/docker-1234.scope\n", root_), 1u);
  EXPECT_EQ(cgroup_cpu_limit("0::/\n", root_), 1u);
}

TEST_F(FakeCgroups, V1CpuController) {
  write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n");
  write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_limit("5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n", root_), 1u);
  write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(cgroup_cpu_limit("4:cpu,cpuacct:/docker/abc\n", root_), std::nullopt);
  // Only the controllers' own lines count: a cpuset or memory path means nothing here.
  write("cpuset/x/cpu.cfs_quota_us", "100000\n");
  write("cpuset/x/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_limit("3:cpuset:/x\n", root_), std::nullopt);
}

TEST_F(FakeCgroups, V1ThroughThePlainCpuMount) {
  write("cpu/cpu.cfs_quota_us", "400000\n");
  write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_limit("2:cpuacct,cpu:/kubepods/pod1/c2\n", root_), 4u);
}

TEST(CpuBudget, AffinityCountsTheCallingThreadsMask) {
  cpu_set_t saved;
  CPU_ZERO(&saved);
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  const auto all = static_cast<unsigned>(CPU_COUNT(&saved));
  EXPECT_EQ(weft::detail::affinity_cpus(), all);
  EXPECT_LE(weft::detail::usable_cpus(), all);
  EXPECT_GE(weft::detail::usable_cpus(), 1u);
  std::size_t first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(weft::detail::affinity_cpus(), 1u);
  EXPECT_EQ(weft::detail::usable_cpus(), 1u);
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
}

}  // namespace
