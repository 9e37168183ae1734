#include "files/negotiate.hpp"

#include <array>

#include "http/parser.hpp"

namespace weft::files {
namespace {

using http::detail::iequals;

constexpr int kQMax = 1000;  // q in thousandths (RFC 9110 12.4.2: at most three decimals)

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); -1 when invalid.
int parse_q(std::string_view s) noexcept {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  int value = (s[0] - '0') * kQMax;
  if (s.size() == 1) return value;
  if (s[1] != '.' || s.size() > 5) return -1;
  int scale = kQMax / 10;
  for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value += (s[i] - '0') * scale;
  }
  return value > kQMax ? -1 : value;
}

// Calls fn(name, q, index) for each list element "name *( OWS ';' OWS param )"; q is 1000 unless
// a q parameter says otherwise; elements with an invalid q are skipped.
template <typename Fn>
void for_each_weighted(std::string_view list, Fn&& fn) noexcept {
  int index = 0;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view element = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const std::size_t semi = element.find(';');
    const std::string_view name = trim(element.substr(0, semi));
    if (name.empty()) continue;
    int q = kQMax;
    std::string_view params = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    while (!params.empty()) {
      const std::size_t next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        q = parse_q(param.substr(2));
      }
    }
    if (q >= 0) fn(name, q, index++);
  }
}

constexpr std::array<Coding, 3> kPreference{Coding::kBrotli, Coding::kZstd, Coding::kGzip};

}  // namespace

std::string_view coding_token(Coding c) noexcept {
  switch (c) {
    case Coding::kBrotli:
      return "br";
    case Coding::kZstd:
      return "zstd";
    case Coding::kGzip:
      return "gzip";
    case Coding::kIdentity:
      break;
  }
  return {};
}

std::string_view coding_suffix(Coding c) noexcept {
  switch (c) {
    case Coding::kBrotli:
      return ".br";
    case Coding::kZstd:
      return ".zst";
    case Coding::kGzip:
      return ".gz";
    case Coding::kIdentity:
      break;
  }
  return {};
}

Coding choose_coding(std::optional<std::string_view> accept_encoding, std::uint8_t available) noexcept {
  if (!accept_encoding || available == 0) return Coding::kIdentity;
  std::array<int, 3> q{-1, -1, -1};  // per kPreference; -1: not named
  int star = -1;
  for_each_weighted(*accept_encoding, [&](std::string_view name, int weight, int) {
    if (name == "*") {
      star = weight;
      return;
    }
    for (std::size_t i = 0; i < kPreference.size(); ++i) {
      const bool match = iequals(name, coding_token(kPreference[i])) ||
                         (kPreference[i] == Coding::kGzip && iequals(name, "x-gzip"));
      if (match) q[i] = weight;
    }
  });
  Coding best = Coding::kIdentity;
  int best_q = 0;
  for (std::size_t i = 0; i < kPreference.size(); ++i) {
    if ((available & coding_bit(kPreference[i])) == 0) continue;
    const int weight = q[i] >= 0 ? q[i] : star;
    if (weight > best_q) {
      best_q = weight;
      best = kPreference[i];
    }
  }
  return best;
}

bool prefers_json(std::string_view accept) noexcept {
  int json_q = 0;
  int html_q = 0;
  int json_at = -1;
  int html_at = -1;
  for_each_weighted(accept, [&](std::string_view name, int weight, int index) {
    if (iequals(name, "application/json") && json_at < 0) {
      json_q = weight;
      json_at = index;
    } else if (iequals(name, "text/html") && html_at < 0) {
      html_q = weight;
      html_at = index;
    }
  });
  if (json_at < 0 || json_q == 0) return false;
  return html_at < 0 || json_q > html_q || (json_q == html_q && json_at < html_at);
}

}  // namespace weft::files
