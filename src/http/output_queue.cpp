#include "http/output_queue.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace weft::http {
namespace {

constexpr std::size_t kMaxIov = 16;
// A bytes chunk grows by appending up to this size; beyond it a new chunk starts (so a chunk's
// storage stays reusable by the spares most of the time).
constexpr std::size_t kTailMax = OutputQueue::kCoalesceMax * 4;

}  // namespace

OutChunk* OutputQueue::tail_for(std::size_t extra) noexcept {
  if (head_ < chunks_.size() && !chunks_.back().file && chunks_.back().bytes.size() + extra <= kTailMax) {
    return &chunks_.back();
  }
  return nullptr;
}

OutChunk& OutputQueue::new_chunk(OutputSpares& spares, bool with_bytes) {
  if (chunks_.capacity() == 0) chunks_ = spares.take_chunks();
  OutChunk& chunk = chunks_.emplace_back();
  if (with_bytes) chunk.bytes = spares.take_bytes();
  return chunk;
}

std::string& OutputQueue::tail(OutputSpares& spares, std::size_t extra) {
  OutChunk* t = tail_for(extra);
  std::string& bytes = t != nullptr ? t->bytes : new_chunk(spares, true).bytes;
  if (bytes.capacity() < bytes.size() + extra) {
    // Large appends come one after another (the pieces of a chunked body, framed in place):
    // taking the whole chunk's storage at once spares copying what is already there at every
    // doubling.
    bytes.reserve(std::max(bytes.size() + extra, extra >= kCoalesceMax ? kTailMax : std::size_t{0}));
  }
  return bytes;
}

void OutputQueue::push(OutputSpares& spares, std::string_view bytes) {
  if (bytes.empty()) return;
  if (OutChunk* t = tail_for(bytes.size())) {
    t->bytes.append(bytes);
    return;
  }
  new_chunk(spares, true).bytes.assign(bytes);
}

void OutputQueue::push(OutputSpares& spares, std::string&& bytes) {
  if (bytes.empty()) return;
  if (OutChunk* t = tail_for(bytes.size())) {
    t->bytes.append(bytes);
    return;
  }
  new_chunk(spares, false).bytes = std::move(bytes);
}

void OutputQueue::push(OutputSpares& spares, std::vector<BodyPart>& parts) {
  for (BodyPart& part : parts) {
    if (part.file) {
      push_file(spares, std::move(part.file), part.offset, part.length);
    } else {
      push(spares, std::move(part.bytes));
    }
  }
}

void OutputQueue::push_file(OutputSpares& spares, std::shared_ptr<const net::UniqueFd> file,
                            std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return;
  OutChunk& chunk = new_chunk(spares, false);
  chunk.file = std::move(file);
  chunk.file_offset = offset;
  chunk.file_left = length;
}

void OutputQueue::release(OutputSpares& spares) {
  for (OutChunk& chunk : chunks_) {
    if (chunk.bytes.capacity() != 0) spares.give_bytes(std::move(chunk.bytes));
  }
  chunks_.clear();
  head_ = 0;
  spares.give_chunks(std::move(chunks_));
  chunks_ = {};
}

OutputQueue::FlushResult OutputQueue::flush(OutputSpares& spares, int fd, bool closing, std::size_t budget) {
  FlushResult result;
  while (head_ < chunks_.size()) {
    if (budget == 0) {
      result.status = FlushStatus::kBudget;
      return result;
    }
    OutChunk& front = chunks_[head_];
    if (front.file) {
      auto offset = static_cast<off_t>(front.file_offset);
      const ssize_t n =
          ::sendfile(fd, front.file->get(), &offset,
                     static_cast<std::size_t>(std::min<std::uint64_t>(front.file_left, budget)));
      if (n > 0) {
        result.progress = true;
        result.written += static_cast<std::uint64_t>(n);
        budget -= std::min(budget, static_cast<std::size_t>(n));
        front.file_offset += static_cast<std::uint64_t>(n);
        front.file_left -= static_cast<std::uint64_t>(n);
        if (front.file_left == 0) {
          front.file.reset();  // the descriptor may close now, not when the chunk is reused
          ++head_;
        }
        continue;
      }
      if (n == 0) {  // the file shrank under us: the promised length cannot be kept
        result.status = FlushStatus::kShrunk;
        return result;
      }
    } else {
      std::array<iovec, kMaxIov> iov{};
      std::size_t count = 0;
      for (std::size_t i = head_; i < chunks_.size() && count < kMaxIov && !chunks_[i].file; ++i) {
        iov[count].iov_base = chunks_[i].bytes.data() + chunks_[i].sent;
        iov[count].iov_len = chunks_[i].bytes.size() - chunks_[i].sent;
        ++count;
      }
      // A file follows these bytes (a response head, usually): let the kernel fill the segment
      // with the file's first bytes instead of pushing the head out alone. So does the FIN of a
      // connection that closes after this answer: with MSG_MORE the last bytes wait in the socket
      // for close() (or shutdown()), which sends them and the FIN in one segment instead of two,
      // as nginx's TCP_CORK does.
      const bool file_follows = head_ + count < chunks_.size() && chunks_[head_ + count].file != nullptr;
      const int flags = MSG_NOSIGNAL | (file_follows || closing ? MSG_MORE : 0);
      ssize_t n = 0;
      if (count == 1) {  // the usual case; send() spares the kernel the msghdr and iovec import
        n = ::send(fd, iov[0].iov_base, iov[0].iov_len, flags);
      } else {
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = count;
        n = ::sendmsg(fd, &msg, flags);
      }
      if (n > 0) {
        result.progress = true;
        result.written += static_cast<std::uint64_t>(n);
        budget -= std::min(budget, static_cast<std::size_t>(n));
        auto left = static_cast<std::size_t>(n);
        while (left > 0) {
          OutChunk& c = chunks_[head_];
          const std::size_t take = std::min(left, c.bytes.size() - c.sent);
          c.sent += take;
          left -= take;
          if (c.sent == c.bytes.size()) ++head_;
        }
        continue;
      }
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      result.status = FlushStatus::kBlocked;
      return result;
    }
    if (errno != EINTR) {
      result.status = FlushStatus::kError;
      return result;
    }
  }
  if (!chunks_.empty()) release(spares);
  result.status = FlushStatus::kDone;
  return result;
}

void OutputQueue::consume(std::size_t n) noexcept {
  while (n > 0 && head_ < chunks_.size()) {
    OutChunk& c = chunks_[head_];
    if (c.file) {
      const std::uint64_t take = std::min<std::uint64_t>(n, c.file_left);
      c.file_offset += take;
      c.file_left -= take;
      n -= static_cast<std::size_t>(take);
      if (c.file_left == 0) {
        c.file.reset();
        ++head_;
      }
    } else {
      const std::size_t take = std::min(n, c.bytes.size() - c.sent);
      c.sent += take;
      n -= take;
      if (c.sent == c.bytes.size()) ++head_;
    }
  }
}

OutputQueue::FlushResult OutputQueue::flush_tls(OutputSpares& spares, tls::TlsStream& tls, bool closing,
                                                std::size_t budget) {
  // Encrypted output is sent once this much has gathered (and at the end): fewer, larger
  // send() calls than one per 16 KiB record, without holding much more than a socket buffer.
  constexpr std::size_t kSendAt = std::size_t{128} * 1024;
  FlushResult result;
  const auto send = [&](bool more) {
    const std::size_t before = tls.unsent();
    const tls::TlsStream::Send s = tls.send(more);
    if (tls.unsent() < before) result.progress = true;
    if (s == tls::TlsStream::Send::kDone) return true;
    result.status = s == tls::TlsStream::Send::kBlocked ? FlushStatus::kBlocked : FlushStatus::kError;
    return false;
  };
  if (tls.unsent() > 0 && !send(!empty() || closing)) return result;
  const std::span<char> record = spares.record_buffer();
  while (head_ < chunks_.size()) {
    if (budget == 0) {
      if (send(true)) result.status = FlushStatus::kBudget;
      return result;
    }
    OutChunk& front = chunks_[head_];
    if (front.file && tls.kernel_sends()) {
      // The kernel makes the records: what OpenSSL still holds must go first.
      if (tls.unsent() > 0 && !send(true)) return result;
      const long n =
          tls.send_file(front.file->get(), front.file_offset,
                        static_cast<std::size_t>(std::min<std::uint64_t>(front.file_left, budget)));
      if (n > 0) {
        result.progress = true;
        result.written += static_cast<std::uint64_t>(n);
        budget -= std::min(budget, static_cast<std::size_t>(n));
        consume(static_cast<std::size_t>(n));
        continue;
      }
      result.status = n == 0                              ? FlushStatus::kShrunk
                      : n == tls::TlsStream::kFileBlocked ? FlushStatus::kBlocked
                      : n == tls::TlsStream::kFileBusy    ? FlushStatus::kBudget
                                                          : FlushStatus::kError;
      return result;
    }
    const std::size_t limit = std::min({tls.next_write_size(), budget, record.size()});
    std::string_view plain;
    if (!front.file && front.bytes.size() - front.sent >= limit) {
      plain = std::string_view(front.bytes).substr(front.sent, limit);  // a large string: no copy
    } else {
      // Gather small strings and file bytes into one record.
      std::size_t filled = 0;
      for (std::size_t i = head_; i < chunks_.size() && filled < limit; ++i) {
        const OutChunk& c = chunks_[i];
        if (c.file && tls.kernel_sends()) break;  // sent by the kernel, above
        if (c.file) {
          const std::size_t want =
              static_cast<std::size_t>(std::min<std::uint64_t>(c.file_left, limit - filled));
          ssize_t n = 0;
          do {
            n = ::pread(c.file->get(), record.data() + filled, want, static_cast<off_t>(c.file_offset));
          } while (n < 0 && errno == EINTR);
          if (n <= 0 && filled == 0) {  // the file shrank (or broke) under us: the framing is lost
            result.status = FlushStatus::kShrunk;
            return result;
          }
          filled += static_cast<std::size_t>(std::max<ssize_t>(n, 0));
          if (static_cast<std::size_t>(std::max<ssize_t>(n, 0)) < want) break;  // the rest next record
        } else {
          const std::size_t take = std::min(c.bytes.size() - c.sent, limit - filled);
          std::memcpy(record.data() + filled, c.bytes.data() + c.sent, take);
          filled += take;
        }
      }
      plain = std::string_view(record.data(), filled);
    }
    if (!tls.write(plain)) {
      result.status = FlushStatus::kError;
      return result;
    }
    consume(plain.size());
    result.written += plain.size();
    budget -= std::min(budget, plain.size());
    // Direct mode (tls_stream.hpp): the write went to the socket already; output left means
    // the socket is full, so stop rather than copy more.
    if ((tls.unsent() >= kSendAt || (tls.direct() && tls.unsent() > 0)) && !send(true)) return result;
  }
  // The last answer of a closing connection takes its close_notify along in the same send.
  if (closing) tls.queue_close_notify();
  if (!send(closing)) return result;
  if (!chunks_.empty()) release(spares);
  result.status = FlushStatus::kDone;
  return result;
}

}  // namespace weft::http
