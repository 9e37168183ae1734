#include "server/router.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <stdexcept>

#include "http/parser.hpp"

namespace weft::server {

namespace {

constexpr std::string_view kRestSuffix = "...";

enum class SegmentKind : std::uint8_t { kLiteral, kParam, kRest };

struct Segment {
  SegmentKind kind = SegmentKind::kLiteral;
  std::string_view text;  // the literal, or the parameter's name
};

// The order of methods in an Allow value: RFC 9110 section 9 order, then PATCH; others after.
constexpr std::array<std::string_view, 9> kMethodOrder{"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                       "CONNECT", "OPTIONS", "TRACE", "PATCH"};

[[nodiscard]] std::size_t method_rank(std::string_view method) noexcept {
  return static_cast<std::size_t>(std::find(kMethodOrder.begin(), kMethodOrder.end(), method) -
                                  kMethodOrder.begin());
}

[[noreturn]] void refuse(std::string_view pattern, std::string_view why) {
  throw std::invalid_argument("weft: route pattern \"" + std::string(pattern) + "\": " + std::string(why));
}

[[nodiscard]] bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits and checks `pattern`; throws std::invalid_argument. The views point into `pattern`.
[[nodiscard]] std::vector<Segment> parse_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') refuse(pattern, "must start with '/'");
  std::vector<Segment> segments;
  if (pattern.size() == 1) return segments;  // "/": the root

  std::string_view rest = pattern.substr(1);
  while (true) {
    const std::size_t slash = rest.find('/');
    const bool last = slash == std::string_view::npos;
    const std::string_view text = rest.substr(0, slash);
    if (!segments.empty() && segments.back().kind == SegmentKind::kRest) {
      refuse(pattern, "a {name...} segment must be the last one");
    }
    if (text.empty() && !last) refuse(pattern, "empty segment (\"//\")");

    if (text.empty() || text.front() != '{') {
      if (text.find_first_of("{}") != std::string_view::npos) {
        refuse(pattern, "'{' and '}' may only enclose a whole segment, as in /{name}");
      }
      segments.push_back({SegmentKind::kLiteral, text});
    } else {
      if (text.back() != '}' || text.size() < 2)
        refuse(pattern, "a segment starting with '{' must end with '}'");
      std::string_view name = text.substr(1, text.size() - 2);
      SegmentKind kind = SegmentKind::kParam;
      if (name.size() >= kRestSuffix.size() && name.substr(name.size() - kRestSuffix.size()) == kRestSuffix) {
        kind = SegmentKind::kRest;
        name.remove_suffix(kRestSuffix.size());
      }
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
        refuse(pattern, "a parameter name must be letters, digits or '_', as in {name} or {name...}");
      }
      const bool taken = std::any_of(segments.begin(), segments.end(), [name](const Segment& s) {
        return s.kind != SegmentKind::kLiteral && s.text == name;
      });
      if (taken) refuse(pattern, "parameter {" + std::string(name) + "} appears twice");
      segments.push_back({kind, name});
    }
    if (last) return segments;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

struct Router::Node {
  struct Endpoint {
    std::string method;
    RouteId route = 0;
    std::vector<std::string> param_names;  // in pattern order, one per kParam/kRest segment
  };

  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // "{name}"
  std::unique_ptr<Node> rest;   // "{name...}": a leaf, it only has endpoints
  std::vector<Endpoint> endpoints;

  // The endpoint of this node serving `method` (HEAD falls back to GET), or nullptr.
  [[nodiscard]] const Endpoint* select(std::string_view method) const noexcept {
    const Endpoint* get = nullptr;
    for (const Endpoint& endpoint : endpoints) {
      if (endpoint.method == method) return &endpoint;
      if (endpoint.method == "GET") get = &endpoint;
    }
    return method == "HEAD" ? get : nullptr;
  }

  // The child for `segment`, or nullptr.
  [[nodiscard]] const Node* child(const Segment& segment) const noexcept {
    switch (segment.kind) {
      case SegmentKind::kLiteral: {
        const auto it = literals.find(segment.text);
        return it == literals.end() ? nullptr : it->second.get();
      }
      case SegmentKind::kParam:
        return param.get();
      case SegmentKind::kRest:
        return rest.get();
    }
    return nullptr;
  }

  // The child for `segment`, created if missing.
  [[nodiscard]] Node& make_child(const Segment& segment) {
    std::unique_ptr<Node>& slot = child_slot(segment);
    if (!slot) slot = std::make_unique<Node>();
    return *slot;
  }

  // Where the child for `segment` is held (a literal's slot is created empty if missing).
  [[nodiscard]] std::unique_ptr<Node>& child_slot(const Segment& segment) {
    switch (segment.kind) {
      case SegmentKind::kParam:
        return param;
      case SegmentKind::kRest:
        return rest;
      case SegmentKind::kLiteral:
        break;
    }
    const auto it = literals.find(segment.text);
    return it != literals.end() ? it->second
                                : literals.emplace(std::string(segment.text), nullptr).first->second;
  }
};

using Node = Router::Node;

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(std::string_view method, std::string_view pattern, RouteId route) {
  if (method.empty() || !std::all_of(method.begin(), method.end(), http::detail::is_tchar)) {
    throw std::invalid_argument("weft: route method \"" + std::string(method) + "\" is not a token");
  }
  const std::vector<Segment> segments = parse_pattern(pattern);

  // Look for a duplicate before creating anything, so a refused add leaves no trace.
  const Node* existing = root_.get();
  for (const Segment& segment : segments) {
    if (existing == nullptr) break;
    existing = existing->child(segment);
  }
  if (existing != nullptr) {
    const bool duplicate = std::any_of(existing->endpoints.begin(), existing->endpoints.end(),
                                       [method](const Node::Endpoint& e) { return e.method == method; });
    if (duplicate)
      refuse(pattern, std::string(method) + " is already routed for this pattern (or one of its shape)");
  }

  Node::Endpoint endpoint{std::string(method), route, {}};
  Node* node = root_.get();
  for (const Segment& segment : segments) {
    if (segment.kind != SegmentKind::kLiteral) endpoint.param_names.emplace_back(segment.text);
    node = &node->make_child(segment);
  }
  node->endpoints.push_back(std::move(endpoint));
  ++size_;
  if (std::find(methods_.begin(), methods_.end(), method) == methods_.end()) methods_.emplace_back(method);
}

namespace {

// Depth-first search in precedence order (literal, parameter, rest) for the first node that
// matches the whole path and serves the method. `rest` is what follows the '/' after the segments
// consumed so far; `at_end` is true once no '/' is left (then `rest` is empty too).
class Finder {
 public:
  explicit Finder(std::string_view method) : method_(method) {}

  [[nodiscard]] bool find(const Node& node, std::string_view rest, bool at_end) {
    if (at_end) {
      found_ = node.select(method_);
      return found_ != nullptr;
    }
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool next_at_end = slash == std::string_view::npos;
    const std::string_view next = next_at_end ? std::string_view() : rest.substr(slash + 1);

    if (const auto it = node.literals.find(segment); it != node.literals.end()) {
      if (find(*it->second, next, next_at_end)) return true;
    }
    if (node.param && !segment.empty()) {
      values_.push_back(segment);
      if (find(*node.param, next, next_at_end)) return true;
      values_.pop_back();
    }
    if (node.rest && !rest.empty()) {
      found_ = node.rest->select(method_);
      if (found_ != nullptr) {
        values_.push_back(rest);
        return true;
      }
    }
    return false;
  }

  // After find() returned true: the endpoint and the values of its parameters, in order.
  [[nodiscard]] const Node::Endpoint& found() const noexcept { return *found_; }
  [[nodiscard]] const std::vector<std::string_view>& values() const noexcept { return values_; }

 private:
  std::string_view method_;
  const Node::Endpoint* found_ = nullptr;
  std::vector<std::string_view> values_;  // the parameters captured along the current branch
};

// Every method of every node that matches the whole path (for Allow), same walk as Finder but
// without stopping at the first match.
void collect_methods(const Node& node, std::string_view rest, bool at_end,
                     std::vector<std::string_view>& methods) {
  const auto add_all = [&methods](const Node& leaf) {
    for (const Node::Endpoint& endpoint : leaf.endpoints) methods.emplace_back(endpoint.method);
  };
  if (at_end) {
    add_all(node);
    return;
  }
  const std::size_t slash = rest.find('/');
  const std::string_view segment = rest.substr(0, slash);
  const bool next_at_end = slash == std::string_view::npos;
  const std::string_view next = next_at_end ? std::string_view() : rest.substr(slash + 1);
  if (const auto it = node.literals.find(segment); it != node.literals.end()) {
    collect_methods(*it->second, next, next_at_end, methods);
  }
  if (node.param && !segment.empty()) collect_methods(*node.param, next, next_at_end, methods);
  if (node.rest && !rest.empty()) add_all(*node.rest);
}

// Every routed path answers OPTIONS (see the header), so it is always listed.
[[nodiscard]] std::string allow_value(std::vector<std::string_view> methods) {
  if (std::find(methods.begin(), methods.end(), "GET") != methods.end()) methods.emplace_back("HEAD");
  methods.emplace_back("OPTIONS");
  std::sort(methods.begin(), methods.end(), [](std::string_view a, std::string_view b) {
    const std::size_t ra = method_rank(a);
    const std::size_t rb = method_rank(b);
    return ra != rb ? ra < rb : a < b;
  });
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  std::string allow;
  for (const std::string_view method : methods) {
    if (!allow.empty()) allow += ", ";
    allow += method;
  }
  return allow;
}

}  // namespace

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  if (size_ == 0 || path.empty() || path.front() != '/') return result;  // `weft DIR` has no routes
  const std::string_view rest = path.substr(1);
  const bool at_end = rest.empty();  // "/" is the root itself, not the root plus an empty segment

  Finder finder(method);
  if (finder.find(*root_, rest, at_end)) {
    const Node::Endpoint& endpoint = finder.found();
    result.outcome = Outcome::kFound;
    result.route = endpoint.route;
    result.params.reserve(endpoint.param_names.size());
    for (std::size_t i = 0; i < endpoint.param_names.size(); ++i) {
      result.params.emplace_back(endpoint.param_names[i], finder.values()[i]);
    }
    return result;
  }

  std::vector<std::string_view> methods;
  collect_methods(*root_, rest, at_end, methods);
  if (!methods.empty()) {
    result.outcome = method == "OPTIONS" ? Outcome::kOptions : Outcome::kMethodNotAllowed;
    result.allow = allow_value(std::move(methods));
  }
  return result;
}

std::string Router::allow_all(const std::vector<std::string_view>& extra) const {
  std::vector<std::string_view> methods(extra.begin(), extra.end());
  methods.insert(methods.end(), methods_.begin(), methods_.end());
  return allow_value(std::move(methods));
}

}  // namespace weft::server
