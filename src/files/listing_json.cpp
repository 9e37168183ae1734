#include <array>
#include <string>

#include "files/listing.hpp"
#include "files/path.hpp"

namespace weft::files {
namespace {

// A JSON string (quotes included) for `text`, which must be valid UTF-8 (sanitize_utf8).
void append_json_string(std::string& out, std::string_view text) {
  static constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(kHex[c >> 4U]);
          out.push_back(kHex[c & 0xFU]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::string render_listing_json(const Listing& listing) {
  std::string out;
  out.reserve(64 + listing.entries.size() * 160);
  out += R"({"path":)";
  append_json_string(out, sanitize_utf8(listing.url_path));
  out += R"(,"truncated":)";
  out += listing.truncated ? "true" : "false";
  out += R"(,"entries":[)";
  bool first = true;
  for (const ListingEntry& e : listing.entries) {
    if (!first) out.push_back(',');
    first = false;
    out += R"({"name":)";
    append_json_string(out, sanitize_utf8(e.name));
    out += R"(,"href":)";
    append_json_string(out, percent_encode(e.name) + (e.directory ? "/" : ""));
    out += e.directory ? R"(,"type":"directory")" : R"(,"type":"file")";
    out += R"(,"size":)";
    out += std::to_string(e.directory ? 0 : e.size);
    out += R"(,"mtime":)";
    out += std::to_string(e.modified);
    out += R"(,"modified":")";
    out += rfc3339_utc_time(e.modified);
    out += R"("})";
  }
  out += "]}\n";
  return out;
}

}  // namespace weft::files
