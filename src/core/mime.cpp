#include "core/mime.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace weft::core {

namespace {

// IANA registrations where they exist (RFC 9239: text/javascript; RFC 9512: application/yaml;
// RFC 8081: font/*), else what nginx's mime.types and browsers agree on (image/x-icon, which
// more browsers know than image/vnd.microsoft.icon). Sorted by extension for binary search.
constexpr std::array kTypes{
    MimeEntry{"7z", "application/x-7z-compressed"},
    MimeEntry{"aac", "audio/aac"},
    MimeEntry{"apng", "image/apng"},
    MimeEntry{"atom", "application/atom+xml"},
    MimeEntry{"avi", "video/x-msvideo"},
    MimeEntry{"avif", "image/avif"},
    MimeEntry{"bmp", "image/bmp"},
    MimeEntry{"bz2", "application/x-bzip2"},
    MimeEntry{"cjs", "text/javascript; charset=utf-8"},
    MimeEntry{"css", "text/css; charset=utf-8"},
    MimeEntry{"csv", "text/csv; charset=utf-8"},
    MimeEntry{"deb", "application/vnd.debian.binary-package"},
    MimeEntry{"doc", "application/msword"},
    MimeEntry{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    MimeEntry{"eot", "application/vnd.ms-fontobject"},
    MimeEntry{"epub", "application/epub+zip"},
    MimeEntry{"flac", "audio/flac"},
    MimeEntry{"gif", "image/gif"},
    MimeEntry{"gz", "application/gzip"},
    MimeEntry{"heic", "image/heic"},
    MimeEntry{"heif", "image/heif"},
    MimeEntry{"htm", "text/html; charset=utf-8"},
    MimeEntry{"html", "text/html; charset=utf-8"},
    MimeEntry{"ico", "image/x-icon"},
    MimeEntry{"ics", "text/calendar; charset=utf-8"},
    MimeEntry{"jar", "application/java-archive"},
    MimeEntry{"jpeg", "image/jpeg"},
    MimeEntry{"jpg", "image/jpeg"},
    MimeEntry{"js", "text/javascript; charset=utf-8"},
    MimeEntry{"json", "application/json"},
    MimeEntry{"jsonld", "application/ld+json"},
    MimeEntry{"jxl", "image/jxl"},
    MimeEntry{"m4a", "audio/mp4"},
    MimeEntry{"m4v", "video/mp4"},
    MimeEntry{"map", "application/json"},
    MimeEntry{"md", "text/markdown; charset=utf-8"},
    MimeEntry{"mid", "audio/midi"},
    MimeEntry{"midi", "audio/midi"},
    MimeEntry{"mjs", "text/javascript; charset=utf-8"},
    MimeEntry{"mkv", "video/x-matroska"},
    MimeEntry{"mov", "video/quicktime"},
    MimeEntry{"mp3", "audio/mpeg"},
    MimeEntry{"mp4", "video/mp4"},
    MimeEntry{"mpeg", "video/mpeg"},
    MimeEntry{"mpg", "video/mpeg"},
    MimeEntry{"odp", "application/vnd.oasis.opendocument.presentation"},
    MimeEntry{"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    MimeEntry{"odt", "application/vnd.oasis.opendocument.text"},
    MimeEntry{"oga", "audio/ogg"},
    MimeEntry{"ogg", "audio/ogg"},
    MimeEntry{"ogv", "video/ogg"},
    MimeEntry{"opus", "audio/ogg"},
    MimeEntry{"otf", "font/otf"},
    MimeEntry{"pdf", "application/pdf"},
    MimeEntry{"png", "image/png"},
    MimeEntry{"ppt", "application/vnd.ms-powerpoint"},
    MimeEntry{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    MimeEntry{"rar", "application/vnd.rar"},
    MimeEntry{"rss", "application/rss+xml"},
    MimeEntry{"rtf", "application/rtf"},
    MimeEntry{"svg", "image/svg+xml"},
    MimeEntry{"tar", "application/x-tar"},
    MimeEntry{"tif", "image/tiff"},
    MimeEntry{"tiff", "image/tiff"},
    MimeEntry{"toml", "application/toml"},
    MimeEntry{"tsv", "text/tab-separated-values; charset=utf-8"},
    MimeEntry{"ttf", "font/ttf"},
    MimeEntry{"txt", "text/plain; charset=utf-8"},
    MimeEntry{"vtt", "text/vtt; charset=utf-8"},
    MimeEntry{"wasm", "application/wasm"},
    MimeEntry{"wav", "audio/wav"},
    MimeEntry{"weba", "audio/webm"},
    MimeEntry{"webm", "video/webm"},
    MimeEntry{"webmanifest", "application/manifest+json"},
    MimeEntry{"webp", "image/webp"},
    MimeEntry{"woff", "font/woff"},
    MimeEntry{"woff2", "font/woff2"},
    MimeEntry{"xhtml", "application/xhtml+xml"},
    MimeEntry{"xls", "application/vnd.ms-excel"},
    MimeEntry{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    MimeEntry{"xml", "application/xml"},
    MimeEntry{"xz", "application/x-xz"},
    MimeEntry{"yaml", "application/yaml"},
    MimeEntry{"yml", "application/yaml"},
    MimeEntry{"zip", "application/zip"},
    MimeEntry{"zst", "application/zstd"},
};

// Longer than any extension in the table: such an extension is unknown.
constexpr std::size_t kMaxExtension = 16;

}  // namespace

std::span<const MimeEntry> mime_table() noexcept { return kTypes; }

std::string_view mime_type_for(std::string_view path) noexcept {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return kOctetStream;
  const std::string_view extension = name.substr(dot + 1);
  if (extension.empty() || extension.size() > kMaxExtension) return kOctetStream;
  std::array<char, kMaxExtension> lower{};
  for (std::size_t i = 0; i < extension.size(); ++i) {
    const char c = extension[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view key(lower.data(), extension.size());
  const auto* const it =
      std::lower_bound(kTypes.begin(), kTypes.end(), key,
                       [](const MimeEntry& e, std::string_view k) { return e.extension < k; });
  return it != kTypes.end() && it->extension == key ? it->type : kOctetStream;
}

}  // namespace weft::core
