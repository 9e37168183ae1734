// A served file that changes is seen by the very next request, whatever the kind of change, and
// no answer ever mixes two versions: never one version's Content-Length or ETag with another's
// bytes. Against the running binary, over loopback.
//
// Every version of a file encodes its own id and length ("v<id>:<length>:" then bytes that
// depend on both), so a body shows which version it is and whether it is that version whole.
// Versions written with an old mtime (as `rsync -t` writes them) are answered from the prepared
// in-memory rendering (fast_response.hpp), the others by the full path; the tests use both.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

constexpr long kOldMtime = 1'600'000'000;  // well in the past: the answer may be prepared

// Version `id` of a file, `size` bytes long (at least 24).
std::string version(int id, std::size_t size) {
  std::string out = "v" + std::to_string(id) + ":" + std::to_string(size) + ":";
  out.reserve(size);
  for (std::size_t i = out.size(); i < size; ++i) {
    out.push_back(static_cast<char>('a' + (static_cast<std::size_t>(id) * 7 + i * 13 + size) % 26));
  }
  out.resize(size);
  return out;
}

// The id and length a body (or its first bytes) claims: "v<id>:<length>:".
std::optional<std::pair<int, std::size_t>> claimed(std::string_view body) {
  if (body.empty() || body.front() != 'v') return std::nullopt;
  const char* p = body.data() + 1;
  const char* end = body.data() + body.size();
  int id = 0;
  std::size_t size = 0;
  auto r = std::from_chars(p, end, id);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != ':') return std::nullopt;
  r = std::from_chars(r.ptr + 1, end, size);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != ':') return std::nullopt;
  return std::pair{id, size};
}

// The id of `body` when it is one version whole; else nullopt.
std::optional<int> whole_version(std::string_view body) {
  const auto c = claimed(body);
  if (!c || c->second != body.size() || body != version(c->first, c->second)) return std::nullopt;
  return c->first;
}

void set_mtime(const fs::path& path, long seconds) {
  const timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// Writes `content` next to root/`relative` and renames it over (how rsync and deploy tools
// replace files), with mtime `mtime` when given (rsync -t).
void replace(const StaticTree& tree, const std::string& relative, const std::string& content,
             std::optional<long> mtime = std::nullopt) {
  tree.write(relative + ".tmp", content);
  if (mtime) set_mtime(tree.root() / (relative + ".tmp"), *mtime);
  fs::rename(tree.root() / (relative + ".tmp"), tree.root() / relative);
}

// Rewrites root/`relative` in place (same inode), then sets `mtime` when given.
void rewrite(const StaticTree& tree, const std::string& relative, const std::string& content,
             std::optional<long> mtime = std::nullopt) {
  tree.write(relative, content);
  if (mtime) set_mtime(tree.root() / relative, *mtime);
}

// The response is exactly `want`: status 200, that body, its length, and an ETag no other
// version had (`etags` maps every ETag seen to the body it came with).
void expect_exactly(const std::optional<HttpResponse>& r, const std::string& want,
                    std::map<std::string, std::string>& etags, const std::string& what) {
  ASSERT_TRUE(r) << what;
  ASSERT_EQ(r->status, 200) << what;
  EXPECT_EQ(r->body, want) << what << ": an old version, or a torn one";
  EXPECT_EQ(r->header("Content-Length").value_or(""), std::to_string(want.size())) << what;
  const std::string etag = r->header("ETag").value_or("");
  ASSERT_FALSE(etag.empty()) << what;
  const auto [it, fresh] = etags.emplace(etag, r->body);
  EXPECT_EQ(it->second, r->body) << what << ": one ETag named two bodies";
}

// Asks for `target` twice after each change: on a connection kept open across the changes and
// on a fresh one, so that both a loop holding the old state and a new connection are tested.
class Asker {
 public:
  explicit Asker(std::uint16_t port) : port_(port), kept_(std::make_unique<Client>(port)) {}
  std::optional<HttpResponse> kept(const std::string& target, const std::vector<std::string>& headers = {}) {
    kept_->send(make_request("GET", target, headers));
    return kept_->read_response(5s);
  }
  std::optional<HttpResponse> fresh(const std::string& target, const std::vector<std::string>& headers = {}) {
    return get(port_, target, headers);
  }

 private:
  std::uint16_t port_;
  std::unique_ptr<Client> kept_;
};

constexpr int kRounds = 30;

// Small versions (answered from memory once prepared) and large ones (sent with sendfile).
std::size_t size_for(int round) {
  return round % 3 == 2 ? 40'000 + static_cast<std::size_t>(round) * 101
                        : 300 + static_cast<std::size_t>(round) * 37;
}
std::optional<long> mtime_for(int round) {
  return round % 2 == 0 ? std::optional<long>(kOldMtime + round) : std::nullopt;
}

TEST(Freshness, AFileReplacedByRenameIsNewFromTheNextRequest) {
  StaticTree tree;
  replace(tree, "f.txt", version(0, size_for(0)), kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  expect_exactly(ask.kept("/f.txt"), version(0, size_for(0)), etags, "before");
  for (int i = 1; i <= kRounds; ++i) {
    const std::string want = version(i, size_for(i));
    replace(tree, "f.txt", want, mtime_for(i));
    const std::string what = "round " + std::to_string(i);
    expect_exactly(ask.kept("/f.txt"), want, etags, what + ", kept connection");
    expect_exactly(ask.fresh("/f.txt"), want, etags, what + ", new connection");
    expect_exactly(ask.kept("/f.txt"), want, etags, what + ", again (prepared)");
  }
}

TEST(Freshness, AFileRewrittenInPlaceIsNewFromTheNextRequest) {
  StaticTree tree;
  rewrite(tree, "f.txt", version(0, 1000), kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  expect_exactly(ask.kept("/f.txt"), version(0, 1000), etags, "before");
  std::size_t size = 1000;
  for (int i = 1; i <= kRounds; ++i) {
    // Grow, shrink and keep the size in turn; the same inode every time.
    size = i % 3 == 0 ? size + 1500 : i % 3 == 1 ? size / 2 + 100 : size;
    const std::string want = version(i, size);
    rewrite(tree, "f.txt", want, mtime_for(i));
    const std::string what = "round " + std::to_string(i) + " (" + std::to_string(size) + " B)";
    expect_exactly(ask.kept("/f.txt"), want, etags, what + ", kept connection");
    expect_exactly(ask.fresh("/f.txt"), want, etags, what + ", new connection");
    expect_exactly(ask.kept("/f.txt"), want, etags, what + ", again (prepared)");
  }
}

TEST(Freshness, AFileTruncatedOrGrownInPlaceIsNewFromTheNextRequest) {
  StaticTree tree;
  std::string content = version(0, 30'000);
  rewrite(tree, "f.bin", content, kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  expect_exactly(ask.kept("/f.bin"), content, etags, "before");
  for (int i = 1; i <= kRounds; ++i) {
    const std::string what = "round " + std::to_string(i);
    if (i % 2 == 1) {  // truncate: keeps a prefix, crossing the in-memory limit now and then
      content.resize(content.size() * 2 / 3);
      fs::resize_file(tree.root() / "f.bin", content.size());
    } else {  // grow: append
      const std::string more(1000 + static_cast<std::size_t>(i) * 10, static_cast<char>('A' + i % 26));
      content += more;
      std::ofstream(tree.root() / "f.bin", std::ios::app | std::ios::binary) << more;
    }
    if (mtime_for(i)) set_mtime(tree.root() / "f.bin", *mtime_for(i));
    expect_exactly(ask.kept("/f.bin"), content, etags, what + ", kept connection");
    expect_exactly(ask.fresh("/f.bin"), content, etags, what + ", new connection");
    expect_exactly(ask.kept("/f.bin"), content, etags, what + ", again (prepared)");
  }
}

TEST(Freshness, AFileRewrittenWithTheSameSizeIsNewFromTheNextRequest) {
  StaticTree tree;
  rewrite(tree, "same.txt", version(0, 777), kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  expect_exactly(ask.kept("/same.txt"), version(0, 777), etags, "before");
  for (int i = 1; i <= kRounds; ++i) {
    // Same length, other bytes, a new mtime (old ones in even rounds, so the answer is prepared).
    const std::string want = version(i, 777);
    rewrite(tree, "same.txt", want, mtime_for(i));
    const std::string what = "round " + std::to_string(i);
    expect_exactly(ask.kept("/same.txt"), want, etags, what + ", kept connection");
    expect_exactly(ask.fresh("/same.txt"), want, etags, what + ", new connection");
    expect_exactly(ask.kept("/same.txt"), want, etags, what + ", again (prepared)");
  }
}

TEST(Freshness, ADeletedFileIs404FromTheNextRequestAndBackWhenRecreated) {
  StaticTree tree;
  replace(tree, "f.txt", version(0, 500), kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  for (int i = 1; i <= kRounds; ++i) {
    const std::string what = "round " + std::to_string(i);
    expect_exactly(ask.kept("/f.txt"), version(i - 1, 500), etags, what + ", before");
    fs::remove(tree.root() / "f.txt");
    const auto gone = ask.kept("/f.txt");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->status, 404) << what;
    EXPECT_EQ(ask.fresh("/f.txt")->status, 404) << what;
    replace(tree, "f.txt", version(i, 500), mtime_for(i));
    expect_exactly(ask.kept("/f.txt"), version(i, 500), etags, what + ", recreated");
  }
}

TEST(Freshness, ADirectoryRenamedAndReplacedIsNewFromTheNextRequest) {
  StaticTree tree;
  std::string previous = version(0, 600);
  replace(tree, "site/app.js", previous, kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  expect_exactly(ask.kept("/site/app.js"), previous, etags, "before");
  for (int i = 1; i <= kRounds; ++i) {
    // A new tree built aside, then swapped in: the old one renamed away, the new one renamed in.
    const std::string want = version(i, size_for(i));
    replace(tree, "next/app.js", want, mtime_for(i));
    fs::rename(tree.root() / "site", tree.root() / ("old-" + std::to_string(i)));
    fs::rename(tree.root() / "next", tree.root() / "site");
    const std::string what = "round " + std::to_string(i);
    expect_exactly(ask.kept("/site/app.js"), want, etags, what + ", kept connection");
    expect_exactly(ask.fresh("/site/app.js"), want, etags, what + ", new connection");
    expect_exactly(ask.kept("/site/app.js"), want, etags, what + ", again (prepared)");
    // The old tree, under its new name, is still served as it is.
    expect_exactly(ask.kept("/old-" + std::to_string(i) + "/app.js"), previous, etags,
                   what + ", the old tree");
    previous = want;
  }
}

TEST(Freshness, ASymlinkRetargetedIsFollowedFromTheNextRequest) {
  StaticTree tree;
  replace(tree, "releases/0/app.js", version(0, 400), kOldMtime);
  tree.symlink("releases/0", "current");
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  std::map<std::string, std::string> etags;
  expect_exactly(ask.kept("/current/app.js"), version(0, 400), etags, "before");
  for (int i = 1; i <= kRounds; ++i) {
    // A release deployed aside, then the link swapped atomically (ln -sfn, then mv -T).
    const std::string want = version(i, size_for(i));
    const std::string release = "releases/" + std::to_string(i);
    replace(tree, release + "/app.js", want, mtime_for(i));
    tree.symlink(release, "current.tmp");
    fs::rename(tree.root() / "current.tmp", tree.root() / "current");
    const std::string what = "round " + std::to_string(i);
    expect_exactly(ask.kept("/current/app.js"), want, etags, what + ", kept connection");
    expect_exactly(ask.fresh("/current/app.js"), want, etags, what + ", new connection");
    expect_exactly(ask.kept("/current/app.js"), want, etags, what + ", again (prepared)");
  }
}

// A client that resumes a download with If-Range and the old ETag must get the new version
// whole (200), never the new bytes spliced onto the old ones it holds.
TEST(Freshness, ARangeAcrossAReplacementNeverSplicesVersions) {
  StaticTree tree;
  replace(tree, "small.txt", version(0, 2000), kOldMtime);
  replace(tree, "large.bin", version(0, 100'000), kOldMtime);
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  for (const std::string name : {"small.txt", "large.bin"}) {
    std::size_t size = name == "small.txt" ? 2000 : 100'000;
    auto before = ask.kept("/" + name);
    ASSERT_TRUE(before);
    std::string old_etag = before->header("ETag").value_or("");
    for (int i = 1; i <= 10; ++i) {
      const std::string what = name + " round " + std::to_string(i);
      size += 333;
      const std::string want = version(i, size);
      replace(tree, name, want, mtime_for(i));
      // Resume with the old validator: the range must not apply.
      const auto resumed = ask.kept("/" + name, {"Range: bytes=100-", "If-Range: " + old_etag});
      ASSERT_TRUE(resumed) << what;
      EXPECT_EQ(resumed->status, 200) << what;
      EXPECT_EQ(resumed->body, want) << what;
      const std::string new_etag = resumed->header("ETag").value_or("");
      EXPECT_NE(new_etag, old_etag) << what;
      // A plain range, and one with the current validator: the new version's bytes and length.
      for (const auto& extra : {std::vector<std::string>{"Range: bytes=10-1009"},
                                std::vector<std::string>{"Range: bytes=10-1009", "If-Range: " + new_etag}}) {
        const auto part = ask.fresh("/" + name, extra);
        ASSERT_TRUE(part) << what;
        EXPECT_EQ(part->status, 206) << what;
        EXPECT_EQ(part->body, want.substr(10, 1000)) << what;
        EXPECT_EQ(part->header("Content-Range").value_or(""), "bytes 10-1009/" + std::to_string(size))
            << what;
        EXPECT_EQ(part->header("ETag").value_or(""), new_etag) << what;
      }
      old_etag = new_etag;
    }
  }
}

// Several clients hammer a file while a writer replaces it in a loop: every answer is one
// version whole (its body, Content-Length and Content-Range agree with what it claims), and one
// ETag never names two versions.
TEST(Freshness, UnderLoadEveryAnswerIsOneWholeVersion) {
  StaticTree tree;
  std::atomic<int> latest{0};
  const auto size_of = [](int id) { return static_cast<std::size_t>(200 + (id * 7919) % 40'000); };
  replace(tree, "hot.txt", version(0, size_of(0)), kOldMtime);
  const WeftServer server(serve_args(tree));

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int id = 1; !stop.load(); ++id) {
      replace(tree, "hot.txt", version(id, size_of(id)), mtime_for(id));
      latest.store(id);
      std::this_thread::sleep_for(1ms);
    }
  });

  std::mutex mutex;
  std::map<std::string, int> etag_version;  // every ETag seen -> the version it came with
  std::vector<std::string> problems;
  std::atomic<long> answers{0};
  const auto note = [&](const std::string& etag, int id, const std::string& context) {
    const std::lock_guard lock(mutex);
    const auto [it, fresh] = etag_version.emplace(etag, id);
    if (it->second != id) {
      problems.push_back(context + ": ETag " + etag + " named version " + std::to_string(it->second) +
                         " and " + std::to_string(id));
    }
  };
  const auto problem = [&](std::string text) {
    const std::lock_guard lock(mutex);
    if (problems.size() < 20) problems.push_back(std::move(text));
  };

  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      auto client = std::make_unique<Client>(server.port());
      std::string last_etag;
      for (int n = 0; !stop.load(); ++n) {
        const bool ranged = !last_etag.empty() && (n + t) % 3 == 0;
        std::vector<std::string> headers;
        if (ranged) headers = {"Range: bytes=0-99", "If-Range: " + last_etag};
        client->send(make_request("GET", "/hot.txt", headers));
        const auto r = client->read_response(5s);
        if (!r) {
          problem("client " + std::to_string(t) + ": no answer");
          client = std::make_unique<Client>(server.port());
          continue;
        }
        answers.fetch_add(1);
        const std::string etag = r->header("ETag").value_or("");
        const std::string length = r->header("Content-Length").value_or("");
        if (length != std::to_string(r->body.size())) {
          problem("Content-Length " + length + " with " + std::to_string(r->body.size()) + " bytes");
          continue;
        }
        if (r->status == 200) {
          const auto id = whole_version(r->body);
          if (!id) {
            problem("a 200 that is not one whole version: " + r->body.substr(0, 40));
            continue;
          }
          note(etag, *id, "200");
        } else if (r->status == 206) {
          // bytes=0-99 carries the version's claim; it must agree with Content-Range.
          const auto c = claimed(r->body);
          const std::string range = r->header("Content-Range").value_or("");
          if (!c || range != "bytes 0-99/" + std::to_string(c->second) ||
              r->body != version(c->first, c->second).substr(0, 100)) {
            problem("a 206 that is not a slice of one version: " + range + " " + r->body.substr(0, 40));
            continue;
          }
          note(etag, c->first, "206");
        } else {
          problem("status " + std::to_string(r->status));
          continue;
        }
        last_etag = etag;
      }
    });
  }
  std::this_thread::sleep_for(3s);
  stop.store(true);
  for (auto& c : clients) c.join();
  writer.join();
  for (const std::string& p : problems) ADD_FAILURE() << p;
  EXPECT_GT(answers.load(), 200);
  EXPECT_GT(etag_version.size(), 20U) << "the clients should have seen many versions";
  // And once the writer stops, the very next request sees the last version.
  const auto last = get(server.port(), "/hot.txt");
  ASSERT_TRUE(last);
  EXPECT_EQ(whole_version(last->body), latest.load());
}

TEST(Freshness, AListingShowsTheEntriesOfTheMomentItIsAskedFor) {
  StaticTree tree;
  tree.write("dir/a.txt", "a");
  const WeftServer server(serve_args(tree));
  Asker ask(server.port());
  const auto listing = [&]() {
    const auto r = ask.kept("/dir/?format=json");
    return r && r->status == 200 ? r->body : std::string("no listing");
  };
  ASSERT_NE(listing().find("\"a.txt\""), std::string::npos);
  for (int i = 0; i < 10; ++i) {
    const std::string name = "n" + std::to_string(i) + ".txt";
    tree.write("dir/" + name, std::string(static_cast<std::size_t>(i) + 1000, 'x'));
    std::string body = listing();
    EXPECT_NE(body.find("\"" + name + "\""), std::string::npos) << "added: " << body;
    EXPECT_NE(body.find(std::to_string(i + 1000)), std::string::npos) << "its size: " << body;
    fs::rename(tree.root() / "dir" / name, tree.root() / "dir" / ("r" + name));
    body = listing();
    EXPECT_EQ(body.find("\"" + name + "\""), std::string::npos) << "renamed: " << body;
    EXPECT_NE(body.find("\"r" + name + "\""), std::string::npos) << "renamed: " << body;
    fs::remove(tree.root() / "dir" / ("r" + name));
    body = listing();
    EXPECT_EQ(body.find("r" + name), std::string::npos) << "removed: " << body;
  }
}

// A file cut short while it is being sent cannot keep the promised Content-Length: the
// connection ends early, so the client sees a short body, never one padded to the length.
// (Bytes past the new end that were already handed to the kernel are not the server's to
// vouch for: sendfile does not copy them, and the truncation zeroes the page-cache folio they
// point into. Only the bytes below the new end are checked.)
TEST(Freshness, AFileTruncatedUnderASendEndsThatConnectionEarly) {
  const std::string data = version(1, std::size_t{16} * 1024 * 1024);
  StaticTree tree;
  tree.write("big.bin", data);
  const WeftServer server(serve_args(tree, {"--loops", "1"}));

  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  const int rcvbuf = 4096;  // a small window: the send is long under way when the file shrinks
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = make_request("GET", "/big.bin");
  ASSERT_EQ(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));

  std::string received;
  std::array<char, 16384> bite{};
  bool truncated = false;
  bool closed = false;
  for (const auto deadline = Clock::now() + 8s; Clock::now() < deadline;) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 500) <= 0) continue;
    const ssize_t n = ::recv(fd.get(), bite.data(), bite.size(), 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    received.append(bite.data(), static_cast<std::size_t>(n));
    if (!truncated && received.size() > 256 * 1024) {
      fs::resize_file(tree.root() / "big.bin", 1024 * 1024);
      truncated = true;
    }
  }
  ASSERT_TRUE(truncated);
  EXPECT_TRUE(closed) << "the connection must end, not wait for bytes that will never come";
  const std::size_t head_end = received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(received.find("Content-Length: " + std::to_string(data.size())), std::string::npos);
  const std::string_view body = std::string_view(received).substr(head_end + 4);
  EXPECT_LT(body.size(), data.size());
  const std::string_view kept = body.substr(0, std::min<std::size_t>(body.size(), 1024 * 1024));
  EXPECT_TRUE(kept == std::string_view(data).substr(0, kept.size())) << "bytes that were never in the file";
}

}  // namespace
}  // namespace weft::test
