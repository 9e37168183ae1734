#include "files/multipart.hpp"

#include <array>
#include <chrono>
#include <random>
#include <thread>

namespace weft::files {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen = [] {
    std::seed_seq::result_type seed = 0;
    try {
      std::random_device device;
      seed = device();
    } catch (...) {
      // No entropy source: the clock and the thread still make boundaries differ.
    }
    const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    const auto thread = std::hash<std::thread::id>{}(std::this_thread::get_id());
    std::seed_seq seq{seed, static_cast<std::seed_seq::result_type>(now),
                      static_cast<std::seed_seq::result_type>(now >> 32U),
                      static_cast<std::seed_seq::result_type>(thread)};
    return std::mt19937_64(seq);
  }();
  return gen;
}

}  // namespace

std::string make_boundary() {
  static constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string boundary = "weft-";
  std::uint64_t a = generator()();
  std::uint64_t b = generator()();
  for (int i = 0; i < 16; ++i, a >>= 4U) boundary.push_back(kHex[a & 0xFU]);
  for (int i = 0; i < 8; ++i, b >>= 4U) boundary.push_back(kHex[b & 0xFU]);
  return boundary;
}

std::string multipart_content_type(std::string_view boundary) {
  return "multipart/byteranges; boundary=" + std::string(boundary);
}

std::vector<http::BodyPart> multipart_body(const std::shared_ptr<const net::UniqueFd>& file,
                                           std::span<const ByteRange> ranges, std::uint64_t size,
                                           std::string_view content_type, std::string_view boundary) {
  std::vector<http::BodyPart> parts;
  parts.reserve(ranges.size() * 2 + 1);
  for (const ByteRange& r : ranges) {
    http::BodyPart head;
    head.bytes.reserve(boundary.size() + content_type.size() + 96);
    head.bytes += "\r\n--";
    head.bytes += boundary;
    head.bytes += "\r\nContent-Type: ";
    head.bytes += content_type;
    head.bytes += "\r\nContent-Range: bytes " + std::to_string(r.first) + "-" +
                  std::to_string(r.first + r.length - 1) + "/" + std::to_string(size) + "\r\n\r\n";
    parts.push_back(std::move(head));
    http::BodyPart data;
    data.file = file;
    data.offset = r.first;
    data.length = r.length;
    parts.push_back(std::move(data));
  }
  http::BodyPart tail;
  tail.bytes = "\r\n--" + std::string(boundary) + "--\r\n";
  parts.push_back(std::move(tail));
  return parts;
}

}  // namespace weft::files
