#include "integration/static/static_fixture.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <stdexcept>

namespace weft::test {
namespace fs = std::filesystem;

StaticTree::StaticTree() {
  static std::atomic<int> counter{0};
  base_ = fs::temp_directory_path() /
          ("weft-static-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
  fs::remove_all(base_);
  fs::create_directories(base_ / "root");
  fs::create_directories(base_ / "outside");
  std::ofstream(base_ / "outside" / "secret.txt") << kSecret;
}

StaticTree::~StaticTree() {
  std::error_code ec;
  fs::remove_all(base_, ec);
}

void StaticTree::write(const std::string& relative, std::string_view content) const {
  const fs::path path = root() / relative;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void StaticTree::mkdir(const std::string& relative) const { fs::create_directories(root() / relative); }

void StaticTree::symlink(const std::string& target, const std::string& relative) const {
  fs::create_symlink(target, root() / relative);
}

void StaticTree::set_mtime(const std::string& relative, long seconds) const {
  const timespec times[2] = {{seconds, 0}, {seconds, 0}};
  if (::utimensat(AT_FDCWD, (root() / relative).c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::runtime_error("cannot set the mtime of " + relative);
  }
}

std::vector<std::string> serve_args(const StaticTree& tree, std::vector<std::string> extra) {
  std::vector<std::string> args;
  const auto given = [&extra](const char* flag) {
    return std::find(extra.begin(), extra.end(), flag) != extra.end();
  };
  if (!given("--loops")) args.insert(args.end(), {"--loops", "2"});
  if (!given("--threads")) args.insert(args.end(), {"--threads", "2"});
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(tree.root_arg());
  return args;
}

}  // namespace weft::test
