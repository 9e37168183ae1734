#include "weft/request.hpp"

#include <array>
#include <cstddef>

#include "core/ascii.hpp"
#include "core/percent.hpp"

namespace weft {

namespace {

// Where a view lives inside the owned buffer, before the buffer's address is final.
struct Span {
  std::size_t offset = 0;
  std::size_t size = 0;
};

}  // namespace

Request Request::from_parts(const Parts& parts) {
  const std::array<std::string_view, 7> scalars{parts.method, parts.target, parts.path_decoded, parts.query,
                                                parts.host,   parts.body,   parts.peer};
  std::size_t total = 0;
  for (const std::string_view part : scalars) total += part.size();
  for (const Header& field : parts.headers) total += field.name.size() + field.value.size();

  // Every byte goes into one string, reserved once, so no append moves it; the views are made
  // only once everything is in (the string is already at its final heap address: it is built in
  // place inside the shared_ptr's block, never moved).
  auto storage = std::make_shared<std::string>();
  storage->reserve(total);
  const auto append = [&storage](std::string_view part) {
    const Span span{storage->size(), part.size()};
    storage->append(part);
    return span;
  };
  std::array<Span, scalars.size()> scalar_spans{};
  for (std::size_t i = 0; i < scalars.size(); ++i) scalar_spans[i] = append(scalars[i]);
  std::vector<std::pair<Span, Span>> header_spans;
  header_spans.reserve(parts.headers.size());
  for (const Header& field : parts.headers)
    header_spans.emplace_back(append(field.name), append(field.value));

  const char* base = storage->data();
  const auto view = [base](Span span) { return std::string_view(base + span.offset, span.size); };
  Request request;
  request.method_ = view(scalar_spans[0]);
  request.target_ = view(scalar_spans[1]);
  request.path_ = view(scalar_spans[2]);
  request.query_ = view(scalar_spans[3]);
  request.host_ = view(scalar_spans[4]);
  request.body_ = view(scalar_spans[5]);
  request.peer_ = view(scalar_spans[6]);
  request.version_minor_ = parts.version_minor;
  request.version_major_ = parts.version_major;
  request.headers_.reserve(header_spans.size());
  for (const auto& [name, value] : header_spans) request.headers_.push_back({view(name), view(value)});
  request.storage_ = std::move(storage);
  return request;
}

void Request::set_params(std::vector<std::pair<std::string, std::string>> params) {
  params_ = std::move(params);
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  for (const Header& field : headers_) {
    if (core::iequals(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  // application/x-www-form-urlencoded as browsers write it (WHATWG URL, section 5.1): pairs split
  // on '&', empty pairs skipped, name and value split on the first '=', both decoded.
  std::string_view rest = query_;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    // Most names need no decoding: compare them without allocating.
    const bool plain = raw_name.find_first_of("%+") == std::string_view::npos;
    if (plain ? raw_name != name : core::decode_query_component(raw_name) != name) continue;
    return eq == std::string_view::npos ? std::string() : core::decode_query_component(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const noexcept {
  for (const auto& [param_name, value] : params_) {
    if (param_name == name) return value;
  }
  return {};
}

BodyReader Request::body_reader() const noexcept {
  BodyReader reader(body_source_);
  if (!body_source_) reader.buffered_ = body_;
  return reader;
}

}  // namespace weft
