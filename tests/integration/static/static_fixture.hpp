#pragma once
// Helpers for the static-file integration tests: a temporary tree with a secret file outside
// the served root, and a weft serving it. The one-request helpers (get, request, raw_exchange)
// are in support/http_client.hpp.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {

/// Content of the file outside ROOT that no request may ever obtain.
inline constexpr std::string_view kSecret = "TOP-SECRET-c0ffee-never-served";

/// A fresh temporary directory: base/outside/secret.txt (kSecret) and an empty base/root.
/// Removed (recursively) on destruction.
class StaticTree {
 public:
  StaticTree();
  ~StaticTree();
  StaticTree(const StaticTree&) = delete;
  StaticTree& operator=(const StaticTree&) = delete;

  [[nodiscard]] const std::filesystem::path& base() const noexcept { return base_; }
  [[nodiscard]] std::filesystem::path root() const { return base_ / "root"; }
  [[nodiscard]] std::string root_arg() const { return root().string(); }
  /// Writes `content` to root/`relative`, creating parent directories.
  void write(const std::string& relative, std::string_view content) const;
  void mkdir(const std::string& relative) const;
  /// root/`relative` -> `target` (as given: relative or absolute).
  void symlink(const std::string& target, const std::string& relative) const;
  /// Sets the modification time of root/`relative` to `seconds` since the epoch.
  void set_mtime(const std::string& relative, long seconds) const;

 private:
  std::filesystem::path base_;
};

/// A weft serving `tree` with `extra` flags, and `--loops 2 --threads 2` unless `extra` sets them.
[[nodiscard]] std::vector<std::string> serve_args(const StaticTree& tree,
                                                  std::vector<std::string> extra = {});

/// A test suite that shares one StaticTree and one weft serving it. The suite's own
/// SetUpTestSuite creates tree_, fills it and starts server_ (serve_args); this base stops weft
/// and removes the tree after the suite. One pair of statics per Suite type.
template <typename Suite>
class SharedTreeServer : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete tree_;
    tree_ = nullptr;
  }
  static std::uint16_t port() { return server_->port(); }
  static inline StaticTree* tree_ = nullptr;
  static inline WeftServer* server_ = nullptr;
};

}  // namespace weft::test
