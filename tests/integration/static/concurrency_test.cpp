// An in-process weft::Server with a static directory, hammered from several client threads
// while a file changes under it: under ThreadSanitizer (the tsan preset runs label "server")
// this checks that the loops, the pool (listings) and the open-file cache share StaticDir
// safely.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "integration/static/static_fixture.hpp"
#include "weft/server.hpp"

namespace weft::test {
namespace {

TEST(StaticConcurrency, LoopsPoolAndCacheShareTheDirectorySafely) {
  StaticTree tree;
  tree.write("index.html", "<h1>i</h1>");
  tree.write("hot.txt", std::string(5000, 'h'));
  tree.write("app.js", "plain");
  tree.write("app.js.br", "br");
  tree.write("changing.txt", "v0");
  tree.write("dir/a.txt", "a");
  tree.write("dir/b.txt", "b");

  // changing.txt is replaced every 2 ms: the inotify watch drops entries (from its thread and
  // from the loops catching up) while loops resolve and store them, the racy path.
  StaticOptions options;
  options.open_file_cache_entries = 32;  // small: eviction happens too
  Config config;
  config.port = 0;
  config.loops = 3;
  config.threads = 2;
  Server server(config);
  server.static_dir("/", tree.root_arg(), options);
  server.start();

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; !stop.load(); ++i) {
      // Replaced by rename, as deploys do (an in-place truncation under a reader cuts its
      // response short in any server that sends from the file).
      tree.write("changing.tmp", "v" + std::to_string(i));
      std::filesystem::rename(tree.root() / "changing.tmp", tree.root() / "changing.txt");
      std::this_thread::sleep_for(2ms);
    }
  });
  const std::vector<std::pair<std::string, std::vector<std::string>>> requests{
      {"/hot.txt", {}},
      {"/hot.txt", {"Range: bytes=0-9,4000-4009"}},
      {"/app.js", {"Accept-Encoding: br"}},
      {"/dir/", {}},
      {"/dir/?format=json", {}},
      {"/changing.txt", {}},
      {"/missing", {}},
      {"/", {}},
  };
  std::atomic<int> bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const auto& [target, headers] = requests[static_cast<std::size_t>(i + t) % requests.size()];
        const auto r = get(server.port(), target, headers);
        const bool ok =
            r && (r->status == 200 || r->status == 206 || (target == "/missing" && r->status == 404));
        if (!ok) bad.fetch_add(1);
      }
    });
  }
  for (auto& c : clients) c.join();
  stop.store(true);
  writer.join();
  server.stop();
  server.wait();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace weft::test

namespace weft::test {
namespace {

std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 31 + seed * 7 + i / 4093) % 251);
  return s;
}

// Each connection writes at most a budget per turn of its loop, then the others get theirs:
// large responses on one loop interleave. Every byte must still arrive, in order, and the
// pipelined small request behind each large one must be answered after it.
TEST(StaticConcurrency, LargeResponsesOnOneLoopInterleaveAndArriveIntact) {
  StaticTree tree;
  const std::string big = pattern(std::size_t{3} * 1024 * 1024 + 123, 1);
  const std::string mid = pattern(std::size_t{700} * 1024, 2);
  tree.write("big.bin", big);
  tree.write("mid.bin", mid);
  tree.write("small.txt", "small");
  Config config;
  config.port = 0;
  config.loops = 1;
  config.threads = 1;
  Server server(config);
  server.static_dir("/", tree.root_arg());
  server.start();

  std::atomic<int> bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      Client c(server.port());
      const std::string first = t % 2 == 0 ? "/big.bin" : "/mid.bin";
      for (int round = 0; round < 2; ++round) {
        c.send(make_request("GET", first) + make_request("GET", "/small.txt"));
        const auto large = c.read_response(10s);
        const auto small = c.read_response(5s);
        const std::string& want = first == "/big.bin" ? big : mid;
        if (!large || large->status != 200 || large->body != want || !small || small->body != "small") {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  server.stop();
  server.wait();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace weft::test
