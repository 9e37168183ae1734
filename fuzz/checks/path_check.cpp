// fuzz_path's invariants (see checks.hpp). Input flags: bit 0 -> HiddenFiles::kServe.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "files/path.hpp"
#include "input.hpp"

namespace weft::fuzz {
namespace {

// The segments a path keeps after "" and "." are dropped and ".." pops; nullopt when it climbs
// above the root. The plainest possible reading, to compare with.
std::optional<std::vector<std::string>> reference_segments(std::string_view path) {
  std::vector<std::string> kept;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string seg(path.substr(start, slash - start));
    start = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (kept.empty()) return std::nullopt;
      kept.pop_back();
      continue;
    }
    kept.push_back(seg);
  }
  return kept;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes percent_encode_path; nullopt when the text holds anything percent_encode never writes.
std::optional<std::string> decode_encoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (unreserved) {
      out.push_back(c);
      continue;
    }
    if (c != '%' || i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
    i += 2;
  }
  return out;
}

}  // namespace

Failure check_path(Bytes bytes) {
  const Input in = Input::from(bytes);
  const files::HiddenFiles hidden = in.flag(0) ? files::HiddenFiles::kServe : files::HiddenFiles::kRefuse;
  const std::string_view path = in.data;
  const files::NormalizedPath r = files::normalize_path(path, hidden);

  if (r.status != 200 && r.status != 400 && r.status != 404) return "status " + std::to_string(r.status);
  const bool bad_start = !path.empty() && path.front() != '/';
  const bool has_nul = path.find('\0') != std::string_view::npos;
  const auto segments = reference_segments(path);
  if (bad_start || has_nul) {
    if (r.status != 400) return "a relative path or one with NUL is not a 400";
    return std::nullopt;
  }
  if (!segments) {
    // Climbs above the root: rejected, with 400, or 404 when a hidden name came first.
    if (r.status == 200) return "accepted a path that climbs above the root";
    return std::nullopt;
  }
  if (r.status == 404) {
    if (hidden == files::HiddenFiles::kServe) return "404 although hidden names are served";
    return std::nullopt;  // a hidden segment, possibly one that ".." removed again (refused on purpose)
  }
  if (r.status == 400) return "rejected a path that stays under the root";

  // 200: the result is exactly the kept segments, none of them empty, "." or "..".
  std::string expected;
  for (const std::string& seg : *segments) {
    if (hidden == files::HiddenFiles::kRefuse && seg.front() == '.' && seg != ".well-known") {
      return "served the hidden segment '" + seg + "'";
    }
    expected += (expected.empty() ? "" : "/") + seg;
  }
  if (expected.empty()) expected = ".";
  if (r.relative != expected) return "relative '" + r.relative + "', expected '" + expected + "'";
  if (r.relative.size() > std::max<std::size_t>(path.size(), 1)) return "result longer than the input";
  if (r.relative.find('\0') != std::string::npos) return "NUL in the result";
  // Inside the root as the file system's lexical rules see it.
  namespace fs = std::filesystem;
  const fs::path root = "/weft-fuzz-root";
  const std::string joined = (root / r.relative).lexically_normal().generic_string();
  if (joined != root.generic_string() + "/" && !joined.starts_with(root.generic_string() + "/")) {
    return "result '" + r.relative + "' leaves the root: " + joined;
  }
  // Normalising the result again changes nothing.
  const files::NormalizedPath again =
      files::normalize_path(r.relative == "." ? "/" : "/" + r.relative, hidden);
  if (again.status != 200 || again.relative != r.relative) return "normalising the result changes it";
  // trailing_slash: "" has none; otherwise the root itself, a final '/' or a final dot segment.
  const std::string_view last = path.substr(path.rfind('/') + 1);
  const bool trailing = !path.empty() && (segments->empty() || last.empty() || last == "." || last == "..");
  if (r.trailing_slash != trailing)
    return "trailing_slash " + std::to_string(static_cast<int>(r.trailing_slash));
  // The URL form round-trips.
  const std::string url = files::percent_encode_path(r.relative);
  const std::optional<std::string> back = decode_encoded(url);
  if (!back || *back != (r.relative == "." ? "" : r.relative))
    return "percent_encode_path does not round-trip";
  return std::nullopt;
}

}  // namespace weft::fuzz
