#include "files/path.hpp"

#include <array>
#include <vector>

namespace weft::files {
namespace {

constexpr std::string_view kWellKnown = ".well-known";

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

namespace {

// True when `decoded` is already in the form normalize_path produces: "/" then names joined by
// single slashes, maybe one trailing slash, no segment that starts with '.' (so no ".", "..",
// or hidden name), no NUL. The usual request path is; it needs no segment list.
[[nodiscard]] bool is_canonical(std::string_view decoded) noexcept {
  if (decoded.empty() || decoded.front() != '/') return false;
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    const char c = decoded[i];
    if (c == '\0') return false;
    if (c == '/' && i + 1 < decoded.size() && (decoded[i + 1] == '/' || decoded[i + 1] == '.')) return false;
  }
  return true;
}

}  // namespace

NormalizedPath normalize_path(std::string_view decoded, HiddenFiles hidden) {
  NormalizedPath result;
  if (is_canonical(decoded)) {
    std::string_view names = decoded.substr(1);
    if (!names.empty() && names.back() == '/') names.remove_suffix(1);
    result.status = 200;
    result.trailing_slash = decoded.back() == '/';
    result.relative = names.empty() ? std::string_view(".") : names;
    return result;
  }
  if (!decoded.empty() && decoded.front() != '/') return result;
  if (decoded.find('\0') != std::string_view::npos) return result;

  // Segments kept so far, as views into `decoded`; ".." pops. The refusal of hidden names is
  // applied to kept segments only, so "/.x/.." is still refused: a hidden name never reaches
  // the file system, not even as a directory that is left again.
  std::vector<std::string_view> kept;
  std::string_view rest = decoded;
  bool last_was_name = false;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    last_was_name = false;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (kept.empty()) return result;  // 400: above the root
      kept.pop_back();
      continue;
    }
    if (seg.front() == '.' && hidden == HiddenFiles::kRefuse && seg != kWellKnown) {
      result.status = 404;
      return result;
    }
    kept.push_back(seg);
    last_was_name = true;
  }
  // "/a" and "/a/.." differ: the first names "a" as given, the second is a directory reference.
  // "" (the mount point named without its slash) has none, so a prefix mount redirects too.
  result.trailing_slash = !decoded.empty() && (kept.empty() || !last_was_name || decoded.back() == '/');
  result.status = 200;
  if (kept.empty()) {
    result.relative = ".";
    return result;
  }
  std::size_t size = kept.size() - 1;
  for (const std::string_view seg : kept) size += seg.size();
  result.relative.reserve(size);
  for (const std::string_view seg : kept) {
    if (!result.relative.empty()) result.relative.push_back('/');
    result.relative.append(seg);
  }
  return result;
}

std::string percent_encode(std::string_view name) {
  static constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  out.reserve(name.size());
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4U]);
      out.push_back(kHex[c & 0xFU]);
    }
  }
  return out;
}

std::string percent_encode_path(std::string_view relative) {
  if (relative == ".") return {};
  std::string out;
  out.reserve(relative.size());
  while (true) {
    const std::size_t slash = relative.find('/');
    out += percent_encode(relative.substr(0, slash));
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    relative.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace weft::files
