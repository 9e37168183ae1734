#include "files/fast_response.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "files/static_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace weft;

class FastResponseTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("weft-fast-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& name, const std::string& text, bool old = true) {
    std::ofstream(root_ / name) << text;
    if (old) {
      const timespec t[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
      ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / name).c_str(), t, 0), 0);
    }
  }
  fs::path root_;
};

TEST_F(FastResponseTest, SmallOldFileIsRenderedOnceWithItsBytes) {
  write("a.txt", "alpha");
  files::StaticDir dir("/", root_.string());
  const auto found = dir.lookup("/a.txt");
  ASSERT_EQ(found.status, 200);
  const files::FastResponse* fast = files::fast_response(dir, found.relative, *found.file);
  ASSERT_NE(fast, nullptr);
  EXPECT_TRUE(fast->body_in_memory);
  EXPECT_EQ(fast->prepared.body, "alpha");
  EXPECT_EQ(fast->prepared.status_line, "HTTP/1.1 200 OK\r\n");
  EXPECT_NE(fast->prepared.fields.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(fast->prepared.fields.find("ETag: "), std::string::npos);
  EXPECT_EQ(files::fast_response(dir, found.relative, *found.file), fast);  // built once
}

TEST_F(FastResponseTest, LargeFileKeepsItsBodyOnDisk) {
  write("big.bin", std::string(files::kFastBodyInMemoryMax + 1, 'x'));
  files::StaticDir dir("/", root_.string());
  const auto found = dir.lookup("/big.bin");
  const files::FastResponse* fast = files::fast_response(dir, found.relative, *found.file);
  ASSERT_NE(fast, nullptr);
  EXPECT_FALSE(fast->body_in_memory);
  EXPECT_EQ(fast->file_part.length, files::kFastBodyInMemoryMax + 1);
  EXPECT_TRUE(fast->prepared.body.empty());
}

TEST_F(FastResponseTest, FileModifiedThisSecondWaitsForStableValidators) {
  write("new.txt", "fresh", /*old=*/false);
  files::StaticDir dir("/", root_.string());
  const auto found = dir.lookup("/new.txt");
  EXPECT_EQ(files::fast_response(dir, found.relative, *found.file), nullptr);
}

// The prepared answer is kept and served without any check, so it must be one version: bytes
// read from a file that changed after it was opened (its head describes the old version) are
// not kept. utimensat puts the old mtime back, as `rsync --inplace -t` would; ctime still moves.
TEST_F(FastResponseTest, NoRenderingFromAFileThatChangedAfterItWasOpened) {
  write("c.txt", "one");
  files::StaticDir dir("/", root_.string());
  const auto found = dir.lookup("/c.txt");
  ASSERT_EQ(found.status, 200);
  write("c.txt", "two");
  EXPECT_EQ(files::fast_response(dir, found.relative, *found.file), nullptr);
}

// A rendering goes with its entry: the next lookup after a change has a new entry, whose
// rendering holds the new bytes.
TEST_F(FastResponseTest, ARenderingIsReplacedWithItsEntry) {
  write("d.txt", "first");
  files::StaticDir dir("/", root_.string());
  const auto found = dir.lookup("/d.txt");
  const files::FastResponse* fast = files::fast_response(dir, found.relative, *found.file);
  ASSERT_NE(fast, nullptr);
  ASSERT_EQ(fast->prepared.body, "first");
  write("d.tmp", "second!");
  fs::rename(root_ / "d.tmp", root_ / "d.txt");
  const auto now = dir.lookup("/d.txt");
  const files::FastResponse* again = files::fast_response(dir, now.relative, *now.file);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->prepared.body, "second!");
  EXPECT_EQ(fast->prepared.body, "first") << "the old rendering lives on with the old entry";
}

TEST(IsPlainRequest, AnyPreconditionOrRangeNeedsTheFullPath) {
  for (const char* field :
       {"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "if-unmodified-since"}) {
    http::RequestHead head;
    head.header_storage[0] = {field, "x"};
    head.header_count = 1;
    EXPECT_FALSE(files::is_plain_request(head, false)) << field;
  }
  http::RequestHead head;
  head.header_storage[0] = {"Accept-Encoding", "gzip"};
  head.header_storage[1] = {"User-Agent", "test"};
  head.header_count = 2;
  EXPECT_TRUE(files::is_plain_request(head, /*has_variants=*/false));
  EXPECT_FALSE(files::is_plain_request(head, /*has_variants=*/true));
}

}  // namespace
