#include "files/file_response.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "files/conditional.hpp"
#include "files/mime.hpp"
#include "files/multipart.hpp"
#include "files/negotiate.hpp"
#include "files/range.hpp"
#include "files/static_dir.hpp"
#include "http/error_page.hpp"
#include "http/http_date.hpp"

namespace weft::files {
namespace {

constexpr std::array kVariants{Coding::kBrotli, Coding::kZstd, Coding::kGzip};

std::string http_date(std::time_t t) {
  const auto d = http::format_http_date(t);
  return {d.data(), d.size()};
}

http::BodyPart whole(const FileEntry& file) {
  http::BodyPart part;
  part.file = file.file;
  part.offset = 0;
  part.length = static_cast<std::uint64_t>(file.info.st_size);
  return part;
}

}  // namespace

std::optional<std::string> joined_field(const http::RequestHead& head, std::string_view name) {
  std::optional<std::string> value;
  for (const http::Header& h : head.headers()) {
    if (!http::detail::iequals(h.name, name)) continue;
    if (value) {
      *value += ", ";
      *value += h.value;
    } else {
      value.emplace(h.value);
    }
  }
  return value;
}

void add_nosniff(Response& response) { response.set_header("X-Content-Type-Options", "nosniff"); }

http::Route plain_file_response(int status, std::string_view content_type,
                                const std::shared_ptr<const FileEntry>& file) {
  http::Route route;
  route.response = Response(status);
  route.response.set_header("Content-Type", content_type);
  add_nosniff(route.response);
  route.body.push_back(whole(*file));
  return route;
}

http::Route file_response(const StaticDir& dir, const http::RequestHead& head, const std::string& relative,
                          std::shared_ptr<const FileEntry> file) {
  const StaticOptions& options = dir.options();
  http::Route route;

  // Precompressed siblings: which exist (for Vary), and which one this client gets.
  std::array<std::shared_ptr<const FileEntry>, 4> variants{};
  std::uint8_t available = 0;
  if (options.precompressed) {
    for (const Coding c : kVariants) {
      auto v = dir.open(relative + std::string(coding_suffix(c)));
      if (v->error == 0 && S_ISREG(v->info.st_mode)) {
        available = static_cast<std::uint8_t>(available | coding_bit(c));
        variants[static_cast<std::size_t>(c)] = std::move(v);
      }
    }
  }
  Coding coding = Coding::kIdentity;
  if (available != 0) {
    const auto accept_encoding = joined_field(head, "Accept-Encoding");
    if (accept_encoding) coding = choose_coding(std::string_view(*accept_encoding), available);
  }
  const std::shared_ptr<const FileEntry> selected =
      coding == Coding::kIdentity ? std::move(file) : variants[static_cast<std::size_t>(coding)];
  const auto size = static_cast<std::uint64_t>(selected->info.st_size);

  // Validators of the selected representation (RFC 9110 8.8.2.1: never after Date).
  const std::string etag = make_etag(selected->info, coding_token(coding));
  const std::time_t now = std::time(nullptr);
  const std::time_t mtime = selected->info.st_mtim.tv_sec;
  Validators validators;
  validators.etag = etag;
  validators.last_modified = std::min(mtime, now);
  validators.last_modified_strong = mtime < now;
  const std::string last_modified = http_date(validators.last_modified);

  Response& r = route.response;
  const auto add_cache_fields = [&] {
    r.set_header("ETag", etag);
    r.set_header("Last-Modified", last_modified);
    if (!options.cache_control.empty()) r.set_header("Cache-Control", options.cache_control);
    if (available != 0) r.set_header("Vary", "Accept-Encoding");
  };

  const bool is_get = head.method == http::Method::kGet;
  const auto inm = joined_field(head, "If-None-Match");
  const auto im = joined_field(head, "If-Match");
  const auto ims = joined_field(head, "If-Modified-Since");
  const auto ius = joined_field(head, "If-Unmodified-Since");
  Conditions conditions;
  if (inm) conditions.if_none_match = *inm;
  if (im) conditions.if_match = *im;
  if (ims) conditions.if_modified_since = *ims;
  if (ius) conditions.if_unmodified_since = *ius;
  switch (evaluate_preconditions(conditions, validators, /*get_or_head=*/true)) {
    case Precondition::kNotModified:
      r = Response(304);
      add_cache_fields();
      add_nosniff(r);
      return route;
    case Precondition::kFailed:
      r = Response::html(412, http::error_page(412, "the file does not match the request's preconditions"));
      add_nosniff(r);
      return route;
    case Precondition::kProceed:
      break;
  }

  const std::string_view type = detail::mime_type_for(relative);
  // Range: GET only (RFC 9110 14.2), and only while If-Range holds.
  RangeRequest ranges;
  if (const auto range = head.find("Range"); range && is_get) {
    const auto if_range = head.find("If-Range");
    if (!if_range || if_range_holds(*if_range, validators)) ranges = parse_range(*range, size);
  }
  if (ranges.outcome == RangeRequest::Outcome::kUnsatisfiable) {
    r = Response::html(416, http::error_page(416, "the requested range is not within the file"));
    r.set_header("Content-Range", "bytes */" + std::to_string(size));
    add_nosniff(r);
    return route;
  }

  r = Response(ranges.outcome == RangeRequest::Outcome::kPartial ? 206 : 200);
  add_cache_fields();
  r.set_header("Accept-Ranges", "bytes");
  if (coding != Coding::kIdentity) r.set_header("Content-Encoding", coding_token(coding));
  add_nosniff(r);
  if (ranges.outcome != RangeRequest::Outcome::kPartial) {
    r.set_header("Content-Type", type);
    route.body.push_back(whole(*selected));
    return route;
  }
  if (ranges.ranges.size() == 1) {
    const ByteRange& one = ranges.ranges.front();
    r.set_header("Content-Type", type);
    r.set_header("Content-Range", "bytes " + std::to_string(one.first) + "-" +
                                      std::to_string(one.first + one.length - 1) + "/" +
                                      std::to_string(size));
    http::BodyPart part;
    part.file = selected->file;
    part.offset = one.first;
    part.length = one.length;
    route.body.push_back(std::move(part));
    return route;
  }
  const std::string boundary = make_boundary();
  r.set_header("Content-Type", multipart_content_type(boundary));
  route.body = multipart_body(selected->file, ranges.ranges, size, type, boundary);
  return route;
}

}  // namespace weft::files
