#include "weft/response.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>

#include "core/ascii.hpp"
#include "core/mime.hpp"

namespace weft {

namespace {

using core::iequals;

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kTextHtml = "text/html; charset=utf-8";

// RFC 9110 5.1: field-name = token. Values: RFC 9110 5.5 forbids CR, LF and NUL outright; other
// controls are only "SHOULD NOT", and refusing them would break values some applications send.
void check_field(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), core::is_tchar)) {
    throw std::invalid_argument("weft::Response: header name \"" + std::string(name) + "\" is not a token");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    throw std::invalid_argument("weft::Response: the value of header \"" + std::string(name) +
                                "\" holds CR, LF or NUL");
  }
}

[[nodiscard]] Response with_body(int status, std::string body, std::string_view content_type) {
  Response response(status);
  response.set_body(std::move(body));
  if (!content_type.empty()) response.set_header("Content-Type", content_type);
  return response;
}

}  // namespace

Response Response::text(int status, std::string body) {
  return with_body(status, std::move(body), kTextPlain);
}

Response Response::html(int status, std::string body) {
  return with_body(status, std::move(body), kTextHtml);
}

Response Response::bytes(int status, std::string body, std::string_view content_type) {
  return with_body(status, std::move(body), content_type);
}

Response Response::file(std::string path, std::string_view content_type) {
  Response response(200);
  response.set_header("Content-Type", content_type.empty() ? core::mime_type_for(path) : content_type);
  response.file_path_ = std::move(path);
  return response;
}

Response Response::redirect(int status, std::string_view location) {
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
    throw std::invalid_argument("weft::Response::redirect: status " + std::to_string(status) +
                                " is not 301, 302, 303, 307 or 308");
  }
  Response response(status);
  response.set_header("Location", location);
  return response;
}

Response& Response::add_header(std::string_view name, std::string_view value) {
  check_field(name, value);
  headers_.emplace_back(name, value);
  return *this;
}

Response& Response::set_header(std::string_view name, std::string_view value) {
  check_field(name, value);
  // The new line takes the place of the first old one, so the order of the others is kept.
  const auto same_name = [name](const auto& field) { return iequals(field.first, name); };
  const auto first = std::find_if(headers_.begin(), headers_.end(), same_name);
  if (first == headers_.end()) {
    headers_.emplace_back(name, value);
    return *this;
  }
  // Copy first, then compare with the copy: `name` or `value` may view a field changed below.
  *first = std::pair<std::string, std::string>(name, value);
  const std::string_view kept = first->first;
  headers_.erase(std::remove_if(std::next(first), headers_.end(),
                                [kept](const auto& field) { return iequals(field.first, kept); }),
                 headers_.end());
  return *this;
}

std::string_view Response::header(std::string_view name) const noexcept {
  for (const auto& [field_name, value] : headers_) {
    if (iequals(field_name, name)) return value;
  }
  return {};
}

std::string_view reason_phrase(int status) noexcept {
  // RFC 9110 section 15, plus RFC 6585 (428, 429, 431, 511). 306 and 418 are "(Unused)".
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 511:
      return "Network Authentication Required";
    default:
      return "Unknown";
  }
}

}  // namespace weft
