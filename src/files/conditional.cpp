#include "files/conditional.hpp"

#include <array>
#include <charconv>

#include "files/http_date_parse.hpp"

namespace weft::files {
namespace {

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// The opaque-tag of a strong "\"...\"" (quotes included), or of a weak W/"...".
struct Tag {
  std::string_view opaque;  // with quotes
  bool weak = false;
};

Tag split_tag(std::string_view etag) noexcept {
  Tag t;
  if (etag.substr(0, 2) == "W/") {
    t.weak = true;
    etag.remove_prefix(2);
  }
  t.opaque = etag;
  return t;
}

void append_hex(std::string& out, std::uint64_t value) {
  std::array<char, 16> digits{};
  auto* const end = std::to_chars(digits.data(), digits.data() + digits.size(), value, 16).ptr;
  out.append(digits.data(), end);
}

}  // namespace

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
  list = trim(list);
  if (list == "*") return true;
  const Tag mine = split_tag(etag);
  if (mine.weak && !weak) return false;
  std::size_t i = 0;
  while (i < list.size()) {
    if (list[i] == ',' || is_ows(list[i])) {
      ++i;
      continue;
    }
    bool tag_weak = false;
    if (list.compare(i, 2, "W/") == 0) {
      tag_weak = true;
      i += 2;
    }
    if (i >= list.size() || list[i] != '"') return false;  // malformed: nothing further can match
    const std::size_t close = list.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    const std::string_view opaque = list.substr(i, close - i + 1);
    if (opaque == mine.opaque && (weak || !tag_weak)) return true;
    i = close + 1;
  }
  return false;
}

Precondition evaluate_preconditions(const Conditions& c, const Validators& v, bool get_or_head) {
  // Step 1 / 2: lost-update preconditions.
  if (c.if_match) {
    if (!etag_list_matches(*c.if_match, v.etag, /*weak=*/false)) return Precondition::kFailed;
  } else if (c.if_unmodified_since) {
    if (const auto date = parse_http_date(trim(*c.if_unmodified_since))) {
      if (v.last_modified > *date) return Precondition::kFailed;
    }
  }
  // Step 3 / 4: cache validation.
  if (c.if_none_match) {
    if (etag_list_matches(*c.if_none_match, v.etag, /*weak=*/true)) {
      return get_or_head ? Precondition::kNotModified : Precondition::kFailed;
    }
  } else if (get_or_head && c.if_modified_since) {
    if (const auto date = parse_http_date(trim(*c.if_modified_since))) {
      if (v.last_modified <= *date) return Precondition::kNotModified;
    }
  }
  return Precondition::kProceed;
}

bool if_range_holds(std::string_view if_range, const Validators& v) {
  if_range = trim(if_range);
  // RFC 9110 13.1.5: an entity-tag has a DQUOTE within its first three characters.
  if (if_range.substr(0, 3).find('"') != std::string_view::npos) {
    const Tag theirs = split_tag(if_range);
    return !theirs.weak && theirs.opaque == split_tag(v.etag).opaque;
  }
  const auto date = parse_http_date(if_range);
  return date && v.last_modified_strong && *date == v.last_modified;
}

std::string make_etag(const struct stat& info, std::string_view coding) {
  std::string tag;
  tag.reserve(2 + 16 * 3 + 2 + coding.size() + 1);
  tag.push_back('"');
  append_hex(tag, static_cast<std::uint64_t>(info.st_ino));
  tag.push_back('-');
  append_hex(tag, static_cast<std::uint64_t>(info.st_size));
  tag.push_back('-');
  const auto ns = static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000ULL +
                  static_cast<std::uint64_t>(info.st_mtim.tv_nsec);
  append_hex(tag, ns);
  if (!coding.empty()) {
    tag.push_back('-');
    tag.append(coding);
  }
  tag.push_back('"');
  return tag;
}

}  // namespace weft::files
