#include "files/fast_response.hpp"

#include <unistd.h>

#include <ctime>
#include <utility>

#include "files/file_response.hpp"
#include "files/static_dir.hpp"

namespace weft::files {
namespace {

using http::detail::iequals;

// The request fields that change the answer for a file. The length picks the candidates, so
// most field names cost one comparison of sizes.
enum class Field { kOther, kConditional, kAcceptEncoding };

Field classify(std::string_view name) noexcept {
  switch (name.size()) {
    case 5:
      return iequals(name, "range") ? Field::kConditional : Field::kOther;
    case 8:
      return iequals(name, "if-match") || iequals(name, "if-range") ? Field::kConditional : Field::kOther;
    case 13:
      return iequals(name, "if-none-match") ? Field::kConditional : Field::kOther;
    case 15:
      return iequals(name, "accept-encoding") ? Field::kAcceptEncoding : Field::kOther;
    case 17:
      return iequals(name, "if-modified-since") ? Field::kConditional : Field::kOther;
    case 19:
      return iequals(name, "if-unmodified-since") ? Field::kConditional : Field::kOther;
    default:
      return Field::kOther;
  }
}

std::unique_ptr<FastResponse> build(const StaticDir& dir, const std::string& relative,
                                    const FileEntry& entry) {
  // Validators are only stable once the file's mtime is in the past (file_response makes
  // Last-Modified weak until then): wait for the next request.
  if (entry.info.st_mtim.tv_sec >= std::time(nullptr)) return nullptr;
  http::RequestHead plain;  // GET, no fields: what the slow path answers without negotiation
  plain.method = http::Method::kGet;
  auto shared = std::shared_ptr<const FileEntry>(std::shared_ptr<const FileEntry>(), &entry);  // non-owning
  http::Route route = file_response(dir, plain, relative, shared);
  if (route.response.status() != 200 || route.body.size() != 1 || !route.body.front().file) return nullptr;
  auto fast = std::make_unique<FastResponse>();
  fast->has_variants = !route.response.header("Vary").empty();
  http::BodyPart& part = route.body.front();
  std::string body;
  if (part.length <= kFastBodyInMemoryMax) {
    body.resize(static_cast<std::size_t>(part.length));
    const ssize_t n = ::pread(part.file->get(), body.data(), body.size(), static_cast<off_t>(part.offset));
    if (n != static_cast<ssize_t>(body.size())) return nullptr;  // shrank under us: stay on the slow path
    // These bytes are the version entry.info describes only if the file still is that version
    // after they were read; the answer is kept, so a mix would be served until the next change.
    if (!entry.descriptor_current()) return nullptr;
    fast->body_in_memory = true;
  } else {
    fast->file_part = std::move(part);
  }
  fast->prepared =
      fast->body_in_memory
          ? http::prepare_response(200, route.response.headers(), std::move(body), dir.server_name())
          : http::prepare_head(200, route.response.headers(), fast->file_part.length, dir.server_name());
  return fast;
}

}  // namespace

bool is_plain_request(const http::RequestHead& head, bool has_variants) noexcept {
  for (const http::Header& h : head.headers()) {
    switch (classify(h.name)) {
      case Field::kConditional:
        return false;
      case Field::kAcceptEncoding:
        if (has_variants) return false;
        break;
      case Field::kOther:
        break;
    }
  }
  return true;
}

const FastResponse* fast_response(const StaticDir& dir, const std::string& relative, const FileEntry& entry) {
  if (const FastResponse* ready = entry.fast.load(std::memory_order_acquire)) return ready;
  std::unique_ptr<FastResponse> built = build(dir, relative, entry);
  if (!built) return nullptr;
  const FastResponse* expected = nullptr;
  if (entry.fast.compare_exchange_strong(expected, built.get(), std::memory_order_acq_rel)) {
    return built.release();
  }
  return expected;  // another loop built it first
}

}  // namespace weft::files
