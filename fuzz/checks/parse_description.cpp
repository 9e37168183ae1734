#include "parse_description.hpp"

#include <functional>

#include "http/method.hpp"

namespace weft::fuzz {

using http::ParseResult;
using http::ParseStatus;

std::string where(std::string_view view, std::string_view buffer) {
  if (view.data() == nullptr) return "null";
  const std::less_equal<const char*> le;  // a total order even for unrelated pointers
  if (le(buffer.data(), view.data()) && le(view.data() + view.size(), buffer.data() + buffer.size())) {
    return "@" + std::to_string(view.data() - buffer.data()) + "+" + std::to_string(view.size());
  }
  return "'" + std::string(view) + "'";
}

std::string describe(const ParseResult& r, std::string_view buffer) {
  switch (r.status) {
    case ParseStatus::kNeedMore:
      return "need-more consumed=" + std::to_string(r.consumed);
    case ParseStatus::kError:
      return "error " + std::to_string(http::status_code(r.error)) + " " +
             std::string(http::reason(r.error)) + " consumed=" + std::to_string(r.consumed) +
             (r.head != nullptr ? " with head" : "");
    case ParseStatus::kComplete:
      break;
  }
  if (r.head == nullptr) return "complete without head";
  const http::RequestHead& h = *r.head;
  std::string s = "complete consumed=" + std::to_string(r.consumed);
  s += " method=" + std::string(to_string(h.method)) + " token" + where(h.method_token, buffer);
  s += " target" + where(h.target, buffer) + " form=" + std::to_string(static_cast<int>(h.target_form));
  s += " path" + where(h.path, buffer) + " query" + where(h.query, buffer);
  s += " minor=" + std::to_string(h.version_minor) + " host" + where(h.host, buffer);
  s += " cl=" + (h.content_length ? std::to_string(*h.content_length) : "none");
  s += " chunked=" + std::to_string(static_cast<int>(h.chunked));
  s += " keep_alive=" + std::to_string(static_cast<int>(h.keep_alive));
  s += " expect_continue=" + std::to_string(static_cast<int>(h.expect_continue));
  for (const http::Header& header : h.headers())
    s += " [" + where(header.name, buffer) + where(header.value, buffer) + "]";
  return s;
}

}  // namespace weft::fuzz
