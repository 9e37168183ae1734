// OutputQueue over a real socketpair: what it writes, and how it stops (EAGAIN, the per-turn
// budget, a failed socket, a file that shrank) and resumes.
#include "http/output_queue.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <string>

namespace weft::http {
namespace {

using Status = OutputQueue::FlushStatus;

class Pair {
 public:
  explicit Pair(int sndbuf = 0) {
    std::array<int, 2> sv{};
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv.data()), 0);
    writer_ = net::UniqueFd(sv[0]);
    reader_ = net::UniqueFd(sv[1]);
    if (sndbuf > 0) ::setsockopt(writer_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  [[nodiscard]] int writer() const { return writer_.get(); }
  std::string drain() {
    std::string out;
    std::array<char, 65536> buf{};
    for (;;) {
      const ssize_t n = ::recv(reader_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) return out;
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  void close_reader() { reader_.reset(); }

 private:
  net::UniqueFd writer_;
  net::UniqueFd reader_;
};

std::shared_ptr<const net::UniqueFd> memfile(const std::string& bytes) {
  net::UniqueFd fd(::memfd_create("weft-output-test", MFD_CLOEXEC));
  EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  return std::make_shared<const net::UniqueFd>(std::move(fd));
}

TEST(OutputQueue, WritesBytesAndFileRangesInOrderAndEmptiesItself) {
  OutputSpares spares;
  OutputQueue q;
  Pair p;
  q.push(spares, std::string_view("head|"));
  q.push_file(spares, memfile("0123456789"), 2, 5);
  q.push(spares, std::string("|tail"));
  EXPECT_EQ(q.pending(), 15U);
  const auto r = q.flush(spares, p.writer(), false);
  EXPECT_EQ(r.status, Status::kDone);
  EXPECT_TRUE(r.progress);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(p.drain(), "head|23456|tail");
}

TEST(OutputQueue, SmallBytesJoinTheTailChunk) {
  OutputSpares spares;
  OutputQueue q;
  Pair p;
  std::string& tail = q.tail(spares, 8);
  tail += "ab";
  q.push(spares, std::string_view("cd"));
  q.push(spares, std::string("ef"));
  EXPECT_EQ(q.pending(), 6U);
  EXPECT_EQ(q.flush(spares, p.writer(), false).status, Status::kDone);
  EXPECT_EQ(p.drain(), "abcdef");
}

TEST(OutputQueue, AFullSocketIsEagainAndTheRestFollowsWhenItDrains) {
  OutputSpares spares;
  OutputQueue q;
  Pair p(4096);
  const std::string big(1 << 20, 'x');
  q.push(spares, std::string(big));
  std::string got;
  int blocked = 0;
  for (int turn = 0; turn < 10'000 && !q.empty(); ++turn) {
    const auto r = q.flush(spares, p.writer(), false);
    if (r.status == Status::kBlocked) ++blocked;
    ASSERT_NE(r.status, Status::kError);
    got += p.drain();  // the client reads: the next flush resumes where this one stopped
  }
  got += p.drain();
  EXPECT_TRUE(q.empty());
  EXPECT_GT(blocked, 0) << "a 1 MiB write into a small socket buffer must block at least once";
  EXPECT_EQ(got, big);  // partial writes resumed at the right byte
}

TEST(OutputQueue, OneTurnWritesAtMostItsBudgetThenAsksToResume) {
  OutputSpares spares;
  OutputQueue q;
  Pair p;
  // A file range is sent at most a budget at a time; bytes in one write each (the budget is
  // checked between writes).
  q.push_file(spares, memfile(std::string(100'000, 'b')), 0, 100'000);
  q.push(spares, std::string(100'000, 'a'));
  const auto first = q.flush(spares, p.writer(), false, 30'000);
  EXPECT_EQ(first.status, Status::kBudget);
  EXPECT_TRUE(first.progress);
  const std::string part = p.drain();
  EXPECT_EQ(part.size(), 30'000U);  // the budget stopped it, not the end of the output
  std::string rest;
  for (int turn = 0; turn < 100 && !q.empty(); ++turn) {
    (void)q.flush(spares, p.writer(), false, 30'000);
    rest += p.drain();
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(part + rest, std::string(100'000, 'b') + std::string(100'000, 'a'));
}

TEST(OutputQueue, APeerThatWentAwayIsAnError) {
  OutputSpares spares;
  OutputQueue q;
  Pair p;
  p.close_reader();
  q.push(spares, std::string_view("lost"));
  EXPECT_EQ(q.flush(spares, p.writer(), false).status, Status::kError);
}

TEST(OutputQueue, AFileShorterThanPromisedIsReportedNotPadded) {
  OutputSpares spares;
  OutputQueue q;
  Pair p;
  q.push_file(spares, memfile("short"), 0, 100);
  EXPECT_EQ(q.flush(spares, p.writer(), false).status, Status::kShrunk);
  EXPECT_EQ(p.drain(), "short");
}

TEST(OutputQueue, ReleaseGivesStorageBackForTheNextQueue) {
  OutputSpares spares;
  {
    OutputQueue q;
    q.push(spares, std::string_view("x"));
    q.release(spares);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.pending(), 0U);
  }
  EXPECT_GT(spares.take_bytes().capacity(), 0U);  // the chunk's string came back
  EXPECT_GT(spares.take_chunks().capacity(), 0U);
}

}  // namespace
}  // namespace weft::http
