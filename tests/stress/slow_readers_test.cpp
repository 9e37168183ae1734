// Slow readers: 200 clients ask for a 4 MiB file and never read. The server's memory must stay
// bounded (no per-client copy of the file), other clients must be served meanwhile, and the
// write-idle timer (--write-timeout) must close the stalled connections.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "support/clean_exit.hpp"
#include "support/stress.hpp"

namespace weft::stress {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kReaders = 200;
constexpr std::size_t kFileSize = std::size_t{4} << 20;
constexpr auto kWriteTimeout = 2s;
constexpr int kClientRcvbuf = 4096;

// A directory with big.bin (4 MiB of random bytes) and small.txt; removed on destruction.
class Site {
 public:
  Site() : dir_(fs::temp_directory_path() / ("weft-slow-readers-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    std::mt19937_64 random(42);
    std::string big(kFileSize, '\0');
    for (char& c : big) c = static_cast<char>(random());
    std::ofstream(dir_ / "big.bin", std::ios::binary) << big;
    std::ofstream(dir_ / "small.txt") << "small\n";
  }
  ~Site() { fs::remove_all(dir_); }
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;
  [[nodiscard]] std::string path() const { return dir_.string(); }

 private:
  fs::path dir_;
};

// Pages of memory the kernel holds for TCP sockets, system-wide (/proc/net/sockstat "TCP: ... mem N").
long tcp_kernel_pages() {
  std::ifstream sockstat("/proc/net/sockstat");
  std::string word;
  while (sockstat >> word) {
    if (word == "mem") {
      long pages = 0;
      sockstat >> pages;
      return pages;
    }
  }
  return 0;
}

bool established(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == TCP_ESTABLISHED;
}

TEST(SlowReaders, MemoryStaysBoundedOthersAreServedAndTheWriteTimerClosesThem) {
  ASSERT_GE(raise_fd_limit(kReaders + 256), kReaders + 64);
  const Site site;
  test::WeftServer server(
      {site.path(), "--write-timeout", "2", "--keepalive-timeout", "30", "--log-level", "error"});
  const pid_t pid = server.process().pid();
  ASSERT_EQ(timed_get(server.port(), "/small.txt").status, 200);
  const long rss_before = rss_kib(pid);
  const std::size_t fds_before = open_fds(pid);

  std::vector<Fd> readers = open_connections(server.port(), kReaders, kClientRcvbuf);
  ASSERT_EQ(readers.size(), kReaders);
  const auto requested = Clock::now();
  for (const Fd& fd : readers) ASSERT_TRUE(send_all(fd.get(), "GET /big.bin HTTP/1.1\r\nHost: slow\r\n\r\n"));

  // While they stall: sample the server's memory, and serve others.
  long rss_peak = rss_before;
  const long tcp_pages_before = tcp_kernel_pages();
  long tcp_pages_peak = tcp_pages_before;
  std::vector<double> latencies;
  int not_ok = 0;
  while (Clock::now() - requested < kWriteTimeout - 300ms) {
    rss_peak = std::max(rss_peak, rss_kib(pid));
    tcp_pages_peak = std::max(tcp_pages_peak, tcp_kernel_pages());
    const Timed t = timed_get(server.port(), "/small.txt");
    if (t.status != 200) ++not_ok;
    latencies.push_back(t.ms);
    std::this_thread::sleep_for(20ms);
  }
  // The write timer closes every stalled connection (with a reset: the unsent data is dropped).
  const bool all_closed = wait_for(
      [&] {
        rss_peak = std::max(rss_peak, rss_kib(pid));
        return std::none_of(readers.begin(), readers.end(),
                            [](const Fd& fd) { return established(fd.get()); });
      },
      kWriteTimeout + 3s);
  const double closed_after = std::chrono::duration<double>(Clock::now() - requested).count();
  EXPECT_TRUE(all_closed) << "stalled readers still connected " << closed_after << " s after their request";
  // The open-file cache (StaticOptions::open_file_cache_entries) keeps big.bin open for the
  // next request: one descriptor more than before, whatever the number of readers.
  const bool fds_back = wait_for([&] { return open_fds(pid) <= fds_before + 1; }, 2s);
  EXPECT_TRUE(fds_back) << open_fds(pid) << " descriptors open in weft, " << fds_before << " before:\n"
                        << describe_fds(pid);

  const long growth_kib = rss_peak - rss_before;
  EXPECT_LT(growth_kib, 64 * 1024) << "RSS grew by " << growth_kib << " KiB for " << kReaders
                                   << " stalled readers";
  EXPECT_EQ(not_ok, 0);
  // The first request can wait behind the loop's initial burst of 200 sendfile() calls (which
  // copy ~750 MiB into socket buffers: ~150 ms on an idle machine, 700 ms seen on a loaded one).
  EXPECT_LT(percentile(latencies, 100), 2000.0);
  report("slow readers, RSS", "before " + std::to_string(rss_before / 1024) + " MiB, peak " +
                                  std::to_string(rss_peak / 1024) + " MiB (+" +
                                  std::to_string(growth_kib / 1024) + " MiB) with " +
                                  std::to_string(kReaders) + " readers stalled on a 4 MiB file");
  report("slow readers, kernel TCP memory",
         "+" + std::to_string((tcp_pages_peak - tcp_pages_before) * sysconf(_SC_PAGESIZE) / (1 << 20)) +
             " MiB at the peak (system-wide socket buffers, not in weft's RSS)");
  report("slow readers, others", std::to_string(latencies.size()) + " requests, p50 " +
                                     std::to_string(percentile(latencies, 50)) + " ms, p99 " +
                                     std::to_string(percentile(latencies, 99)) + " ms, max " +
                                     std::to_string(percentile(latencies, 100)) + " ms");
  report("slow readers, write timer",
         "all closed " + std::to_string(closed_after) + " s after the request (--write-timeout 2)");

  expect_clean_exit(server.process());
}

// With --send-buffer the kernel can hold only about twice that per stalled reader (it doubles
// SO_SNDBUF for its bookkeeping): 200 readers x 2 x 256 KiB = 100 MiB, where the default
// auto-tuned buffers took ~750 MiB in the test above.
TEST(SlowReaders, SendBufferCapsTheKernelMemoryTheyPin) {
  ASSERT_GE(raise_fd_limit(kReaders + 256), kReaders + 64);
  const Site site;
  test::WeftServer server(
      {site.path(), "--send-buffer", "262144", "--write-timeout", "2", "--log-level", "error"});
  ASSERT_EQ(timed_get(server.port(), "/small.txt").status, 200);
  std::vector<Fd> readers = open_connections(server.port(), kReaders, kClientRcvbuf);
  ASSERT_EQ(readers.size(), kReaders);
  const long tcp_pages_before = tcp_kernel_pages();
  long tcp_pages_peak = tcp_pages_before;
  for (const Fd& fd : readers) ASSERT_TRUE(send_all(fd.get(), "GET /big.bin HTTP/1.1\r\nHost: slow\r\n\r\n"));
  int not_ok = 0;
  for (const auto start = Clock::now(); Clock::now() - start < 1500ms;) {
    tcp_pages_peak = std::max(tcp_pages_peak, tcp_kernel_pages());
    if (timed_get(server.port(), "/small.txt").status != 200) ++not_ok;
    std::this_thread::sleep_for(20ms);
  }
  const long grown_mib = (tcp_pages_peak - tcp_pages_before) * sysconf(_SC_PAGESIZE) / (1 << 20);
  EXPECT_LT(grown_mib, 200) << "kernel TCP memory grew by " << grown_mib << " MiB with --send-buffer 262144";
  EXPECT_EQ(not_ok, 0);
  report("slow readers, kernel TCP memory with --send-buffer 262144",
         "+" + std::to_string(grown_mib) + " MiB at the peak for " + std::to_string(kReaders) + " readers");
  readers.clear();
  expect_clean_exit(server.process());
}

}  // namespace
}  // namespace weft::stress
