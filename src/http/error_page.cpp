#include "http/error_page.hpp"

#include "weft/response.hpp"

namespace weft::http {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string error_page(int status, std::string_view detail) {
  const std::string title = std::to_string(status) + " " + std::string(reason_phrase(status));

  std::string page = "<!DOCTYPE html><html><head><title>";
  page += title;
  page += "</title></head><body><h1>";
  page += title;
  page += "</h1>";
  if (!detail.empty()) {
    page += "<p>";
    page += html_escape(detail);
    page += "</p>";
  }
  page += "</body></html>\n";
  return page;
}

}  // namespace weft::http
