// The listing page in a real browser: headless Chromium loads it from a running weft and the
// test reads the rendered DOM (after the page's script ran). Screenshots are kept in
// WEFT_ARTIFACT_DIR. scripts/bootstrap installs chromium, so its absence is a failure.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

std::string chromium_path() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

class Browser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = chromium_path();
    ASSERT_FALSE(chromium_.empty())
        << "headless Chromium is required for this test and was not found in /usr/bin: "
           "run scripts/bootstrap (it installs the Debian package chromium)";
    tree_.write("files/readme.txt", "hello");
    tree_.write("files/a b & <c>.txt", "x");
    tree_.write("files/\xC3\xA9t\xC3\xA9.txt", "x");
    tree_.write("files/big.bin", std::string(50000, 'b'));
    tree_.write("files/medium.bin", std::string(2000, 'm'));
    tree_.mkdir("files/zdir");
    server_ = std::make_unique<WeftServer>(serve_args(tree_));
    fs::create_directories(WEFT_ARTIFACT_DIR);
  }

  // Runs Chromium headless on `url` with `extra` flags; its stdout (the DOM with --dump-dom).
  std::string run_chromium(const std::string& url, std::vector<std::string> extra) {
    const fs::path profile = tree_.base() / ("chromium-profile-" + std::to_string(runs_++));
    std::vector<std::string> args{"--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--no-first-run",
                                  "--user-data-dir=" + profile.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url);
    Process chromium(chromium_, args);
    const auto status = chromium.wait_exit(8s);
    EXPECT_TRUE(status && status->exited && status->code == 0) << "chromium failed: " << chromium.err();
    return chromium.out();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  StaticTree tree_;
  std::unique_ptr<WeftServer> server_;
  std::string chromium_;
  int runs_ = 0;
};

// The names of the entry rows, in DOM order.
std::vector<std::string> row_names(const std::string& dom) {
  std::vector<std::string> names;
  const std::regex row(R"re(<tr class="entry[^"]*" data-name="([^"]*)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

TEST_F(Browser, RendersTheListingAndSortsItBySize) {
  const std::string dom = run_chromium(url("/files/#sort=size-desc"), {"--dump-dom"});
  ASSERT_NE(dom.find("<table id=\"listing\">"), std::string::npos) << dom.substr(0, 2000);
  // The script ran: rows are sorted by size, largest first, directories first.
  EXPECT_EQ(row_names(dom), (std::vector<std::string>{"zdir", "big.bin", "medium.bin", "readme.txt",
                                                      "a b &amp; &lt;c&gt;.txt", "\xC3\xA9t\xC3\xA9.txt"}));
  EXPECT_NE(dom.find("aria-sort=\"descending\"><button data-key=\"size\">"), std::string::npos);
  // Names are text in the DOM (escaped in its serialisation), links percent-encoded.
  EXPECT_NE(dom.find("<a href=\"a%20b%20%26%20%3Cc%3E.txt\">a b &amp; &lt;c&gt;.txt</a>"), std::string::npos);
  EXPECT_NE(dom.find("<a href=\"%C3%A9t%C3%A9.txt\">\xC3\xA9t\xC3\xA9.txt</a>"), std::string::npos);
  EXPECT_NE(dom.find("<a href=\"../\">../</a>"), std::string::npos);
  EXPECT_NE(dom.find("49 KiB"), std::string::npos);
  EXPECT_NE(dom.find("data-scheme=\"light\""), std::string::npos);
}

TEST_F(Browser, FollowsDarkMode) {
  const std::string dom = run_chromium(url("/files/"), {"--force-dark-mode", "--dump-dom"});
  EXPECT_NE(dom.find("data-scheme=\"dark\""), std::string::npos)
      << "prefers-color-scheme: dark did not apply";
  ASSERT_FALSE(row_names(dom).empty());
  EXPECT_EQ(row_names(dom).front(), "zdir");  // default order: directories, then names
}

TEST_F(Browser, KeepsLightAndDarkScreenshots) {
  for (const auto& [name, flags] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"listing-light.png", {"--window-size=1000,600"}},
           {"listing-dark.png", {"--window-size=1000,600", "--force-dark-mode"}}}) {
    const fs::path shot = fs::path(WEFT_ARTIFACT_DIR) / name;
    fs::remove(shot);
    std::vector<std::string> args = flags;
    args.push_back("--screenshot=" + shot.string());
    (void)run_chromium(url("/files/"), args);
    ASSERT_TRUE(fs::exists(shot)) << name;
    EXPECT_GT(fs::file_size(shot), 1000U) << name;
  }
}

TEST_F(Browser, KeepsANarrowScreenScreenshot) {
  const fs::path shot = fs::path(WEFT_ARTIFACT_DIR) / "listing-narrow.png";
  fs::remove(shot);
  (void)run_chromium(url("/files/"), {"--window-size=400,700", "--screenshot=" + shot.string()});
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 1000U);
}

}  // namespace
}  // namespace weft::test
