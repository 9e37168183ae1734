#pragma once
// OutputQueue: the bytes and file ranges one connection still has to write, and the code that
// writes them (send / sendmsg for bytes, sendfile for files). Loop thread only.
//
// Why a unit of its own: every protocol writes the same way (a budget per loop turn so one
// large response does not starve the others, MSG_MORE while more of the same answer follows,
// sendfile for file ranges), and a transport other than a plain socket (TLS) replaces exactly
// this part. Memory: byte strings and the chunk vector come from, and go back to, the loop's
// OutputSpares, so answering a request allocates nothing in the steady state.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exchange/body_part.hpp"
#include "net/unique_fd.hpp"
#include "tls/tls_stream.hpp"

namespace weft::http {

using exchange::BodyPart;

/// One chunk of output: bytes, or a file range sent with sendfile.
struct OutChunk {
  std::string bytes;
  std::size_t sent = 0;
  std::shared_ptr<const net::UniqueFd> file;
  std::uint64_t file_offset = 0;
  std::uint64_t file_left = 0;
};

/// Output storage kept by one loop for all its connections: enough for a burst of busy
/// connections, bounded so that idle connections really give their memory back.
// Inline, as the pending() and empty() below: they run several times for every response.
class OutputSpares {
 public:
  /// An empty byte string, with capacity when a spare is at hand.
  [[nodiscard]] std::string take_bytes() {
    if (bytes_.empty()) return {};
    std::string bytes = std::move(bytes_.back());
    bytes_.pop_back();
    return bytes;
  }
  /// Keeps `bytes`' storage (not when it has grown large).
  void give_bytes(std::string&& bytes) {
    if (bytes.capacity() <= kMaxSpareBytes && bytes_.size() < kMaxSpares) {
      bytes.clear();
      bytes_.push_back(std::move(bytes));
    }
  }
  /// An empty chunk list, with capacity when a spare is at hand.
  [[nodiscard]] std::vector<OutChunk> take_chunks() {
    if (chunks_.empty()) return {};
    std::vector<OutChunk> chunks = std::move(chunks_.back());
    chunks_.pop_back();
    return chunks;
  }
  /// Where TLS plaintext is gathered (small strings and file contents, a few records' worth,
  /// so that a file is read with one pread() per 64 KiB); made on first use.
  [[nodiscard]] std::span<char> record_buffer() {
    if (!record_) record_ = std::make_unique<char[]>(kRecordBuffer);
    return {record_.get(), kRecordBuffer};
  }
  /// Keeps the storage of `chunks` (which must be empty).
  void give_chunks(std::vector<OutChunk>&& chunks) {
    if (chunks.capacity() != 0 && chunks.capacity() <= kMaxSpareChunks && chunks_.size() < kMaxSpares) {
      chunks_.push_back(std::move(chunks));
    }
  }

 private:
  static constexpr std::size_t kMaxSpares = 64;
  static constexpr std::size_t kMaxSpareBytes = std::size_t{16} * 1024;
  static constexpr std::size_t kMaxSpareChunks = 64;
  std::vector<std::string> bytes_;
  std::vector<std::vector<OutChunk>> chunks_;
  static constexpr std::size_t kRecordBuffer = std::size_t{64} * 1024;  // four full TLS records
  std::unique_ptr<char[]> record_;
};

class OutputQueue {
 public:
  /// Bytes one connection may write per turn of the loop before the others get theirs (nginx
  /// sendfile_max_chunk, lighttpd's 256 KiB per event). Without it one large response fills the
  /// client's receive window in one go and the transfer stalls on zero-window probes.
  static constexpr std::size_t kWriteBudgetPerTurn = std::size_t{256} * 1024;
  /// Small byte strings join the previous chunk up to this size, so one write sends them all.
  static constexpr std::size_t kCoalesceMax = std::size_t{16} * 1024;

  // The loop's spares are passed to each call that takes or gives storage rather than kept
  // here: a connection is the size of its members, times every idle connection.
  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;
  ~OutputQueue() = default;

  [[nodiscard]] bool empty() const noexcept { return head_ == chunks_.size(); }
  /// Chunks not yet written: a cheap "did the queue change" check (pending() walks them).
  [[nodiscard]] std::size_t chunks_left() const noexcept { return chunks_.size() - head_; }
  /// Bytes (and file bytes) not yet written.
  [[nodiscard]] std::uint64_t pending() const noexcept {
    std::uint64_t total = 0;
    for (std::size_t i = head_; i < chunks_.size(); ++i)
      total += (chunks_[i].bytes.size() - chunks_[i].sent) + chunks_[i].file_left;
    return total;
  }

  /// The string to append about `extra` bytes to: the last unsent bytes chunk when it has room,
  /// else a new chunk (storage from the spares, `extra` reserved).
  std::string& tail(OutputSpares& spares, std::size_t extra);
  /// Appends a copy of `bytes`.
  void push(OutputSpares& spares, std::string_view bytes);
  /// Appends `bytes` (moved from; joins the tail when small enough).
  void push(OutputSpares& spares, std::string&& bytes);
  /// Appends body parts (moved from): bytes join the output, files become sendfile chunks.
  void push(OutputSpares& spares, std::vector<BodyPart>& parts);
  /// Appends `length` bytes of `file` from `offset`.
  void push_file(OutputSpares& spares, std::shared_ptr<const net::UniqueFd> file, std::uint64_t offset,
                 std::uint64_t length);

  enum class FlushStatus : std::uint8_t {
    kDone,     ///< everything written
    kBlocked,  ///< the socket is full (EAGAIN): wait for EPOLLOUT
    kBudget,   ///< this turn's budget is used up with output left: resume next turn
    kError,    ///< the socket failed (EPIPE, ECONNRESET...): close
    kShrunk,   ///< a file ended before its promised length: the framing cannot be kept; close
  };
  struct FlushResult {
    FlushStatus status = FlushStatus::kDone;
    bool progress = false;      ///< at least one byte written
    std::uint64_t written = 0;  ///< bytes taken from the queue (plaintext, under TLS)
  };
  /// Writes to `fd` until done, blocked, or `budget` bytes are written. `closing`: the connection
  /// closes after this output, so its last bytes may wait for the FIN (MSG_MORE).
  FlushResult flush(OutputSpares& spares, int fd, bool closing, std::size_t budget = kWriteBudgetPerTurn);
  /// The same through TLS: chunks are cut into records (a file's bytes read into the spares'
  /// record buffer), encrypted, and sent several records per send(). Bytes already encrypted
  /// but refused by the socket go first. With kernel TLS on the connection
  /// (TlsStream::kernel_sends()) a file range leaves by SSL_sendfile instead. The budget counts
  /// plaintext.
  FlushResult flush_tls(OutputSpares& spares, tls::TlsStream& tls, bool closing,
                        std::size_t budget = kWriteBudgetPerTurn);

  /// Drops everything, giving the storage back to the spares.
  void release(OutputSpares& spares);

 private:
  OutChunk* tail_for(std::size_t extra) noexcept;
  OutChunk& new_chunk(OutputSpares& spares, bool with_bytes);
  /// Marks `n` bytes from the front as written.
  void consume(std::size_t n) noexcept;

  std::vector<OutChunk> chunks_;  // chunks_[head_..] are unsent
  std::size_t head_ = 0;
};

}  // namespace weft::http
