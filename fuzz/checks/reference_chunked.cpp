#include "reference_chunked.hpp"

#include <cstdint>

namespace weft::fuzz {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_tchar(char c) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_field_value_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 7.1.1),
// read left to right over the whole extension text of one size line.
bool is_chunk_ext(std::string_view ext) {
  std::size_t i = 0;
  const auto skip_ws = [&] {
    while (i < ext.size() && (ext[i] == ' ' || ext[i] == '\t')) ++i;
  };
  const auto token = [&] {
    const std::size_t start = i;
    while (i < ext.size() && is_tchar(ext[i])) ++i;
    return i > start;
  };
  const auto quoted_string = [&] {  // at the opening quote
    for (++i; i < ext.size(); ++i) {
      if (ext[i] == '"') {
        ++i;
        return true;
      }
      if (ext[i] == '\\' && ++i == ext.size()) return false;
      if (!is_field_value_byte(ext[i])) return false;
    }
    return false;
  };
  while (i < ext.size()) {
    skip_ws();
    if (i == ext.size() || ext[i] != ';') return false;
    ++i;
    skip_ws();
    if (!token()) return false;
    const std::size_t after_name = i;
    skip_ws();
    if (i == ext.size() || ext[i] != '=') {
      i = after_name;  // no value: what follows must be the next ";"
      continue;
    }
    ++i;
    skip_ws();
    if ((i < ext.size() && ext[i] == '"') ? !quoted_string() : !token()) return false;
  }
  return true;
}

ReferenceChunked reject(std::string why) {
  ReferenceChunked r;
  r.why = std::move(why);
  return r;
}

}  // namespace

ReferenceChunked reference_chunked(std::string_view data, const http::ParserLimits& limits) {
  ReferenceChunked r;
  std::size_t pos = 0;
  std::size_t extension_bytes = 0;
  const auto line = [&](std::string_view& out) {
    const std::size_t end = data.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    out = data.substr(pos, end - pos);
    pos = end + 2;
    return true;
  };
  for (;;) {
    std::string_view size_line;
    if (!line(size_line)) return reject("incomplete");
    std::size_t digits = 0;
    std::uint64_t size = 0;
    while (digits < size_line.size() && hex(size_line[digits]) >= 0) {
      size = (size << 4U) | static_cast<std::uint64_t>(hex(size_line[digits]));
      if (++digits > 16) return reject("too many size digits");
    }
    if (digits == 0) return reject("no chunk size");
    std::string_view ext = size_line.substr(digits);
    extension_bytes += ext.size();
    if (extension_bytes > limits.max_chunk_extensions) return reject("extensions too long");
    if (!is_chunk_ext(ext)) return reject("bad extension");
    if (size == 0) break;
    if (size > limits.max_body - r.body.size()) return reject("body too large");
    if (data.size() - pos < size + 2) return reject("incomplete");
    r.body.append(data.substr(pos, static_cast<std::size_t>(size)));
    pos += static_cast<std::size_t>(size);
    if (data.substr(pos, 2) != "\r\n") return reject("no CRLF after chunk data");
    pos += 2;
  }
  std::size_t trailer_bytes = 0;
  for (;;) {
    std::string_view trailer;
    if (!line(trailer)) return reject("incomplete");
    if (trailer.empty()) break;
    trailer_bytes += trailer.size() + 2;
    if (trailer_bytes > limits.max_trailer_bytes) return reject("trailers too large");
    const std::size_t colon = trailer.find(':');
    if (colon == 0 || colon == std::string_view::npos) return reject("bad trailer name");
    for (std::size_t i = 0; i < colon; ++i) {
      if (!is_tchar(trailer[i])) return reject("bad trailer name");
    }
    for (const char c : trailer.substr(colon + 1)) {
      if (!is_field_value_byte(c)) return reject("bad trailer value");
    }
  }
  r.complete = true;
  r.consumed = pos;
  return r;
}

}  // namespace weft::fuzz
