#pragma once
/// \file
/// server::Router: maps a request's method and decoded path to a registered route.
/// Internal, not public API; the Server keeps one, maps each RouteId to a Handler, a fixed
/// Response or a static directory, and calls match() on the loop thread for every request.
///
/// Patterns (Server::route's contract):
///  * start with '/'; "/" is the root. The rest is split on '/' into segments.
///  * A segment is a literal ("users"), a parameter "{name}" that matches one non-empty segment,
///    or, as the last segment only, "{name...}" that matches the non-empty rest of the path,
///    '/' included ("/static/{file...}" matches "/static/css/a.css" with file = "css/a.css", not
///    "/static/" nor "/static"). Names are [A-Za-z0-9_]+ and unique within a pattern.
///  * Braces anywhere else ("/a{b}", "/{a", "/{}") and empty segments ("/a//b") are refused; a
///    trailing '/' is allowed and significant ("/a/" does not match "/a").
///  * Two patterns of the same shape (same literals, parameters at the same places, whatever
///    their names) for the same method are a duplicate.
///
/// Precedence: at each segment a literal beats a parameter, which beats a rest parameter; when the
/// preferred branch cannot complete the match for the request's method, the next is tried (so
/// GET "/a/{x}" still answers GET /a/b when only POST "/a/b" exists). The path is matched as given:
/// it is the decoded path, so an encoded slash ("%2F") separates segments like a raw one, and
/// dot segments are not resolved here.
///
/// Methods are compared case-sensitively. A GET route also answers HEAD (a HEAD route of the same
/// pattern wins over it). Every path a route matches also answers OPTIONS (RFC 9110 9.3.7): with
/// an OPTIONS route of the application when one matches, else with kOptions, so OPTIONS is in
/// every Allow value. Matching visits each node of the route tree at most once and
/// allocates only the result's strings; tree depth (so recursion depth) is that of the longest
/// pattern, whatever the path.
///
/// Thread safety: add() must finish before match() is called from several threads; match() is
/// const and may then be called from any number of threads at once.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::server {

class Router {
 public:
  /// What a route leads to; chosen by the caller (e.g. an index into the Server's handler table).
  using RouteId = std::size_t;

  enum class Outcome : std::uint8_t {
    kFound,             ///< a route of this method matches: route and params are set
    kMethodNotAllowed,  ///< routes match the path, none for this method: 405 with `allow`
    kOptions,           ///< OPTIONS, routes match the path, none for OPTIONS: 204 with `allow`
    kNotFound,          ///< no route matches the path: 404
  };

  struct Match {
    Outcome outcome = Outcome::kNotFound;
    RouteId route = 0;  ///< kFound: the route's id
    /// kFound: (name, value) of each parameter in pattern order; values are substrings of the path
    /// (copied, so they outlive it). Ready for Request::set_params.
    std::vector<std::pair<std::string, std::string>> params;
    /// kMethodNotAllowed and kOptions: the Allow field value, every method of every route
    /// matching the path (HEAD added for GET) and OPTIONS, standard methods first in RFC 9110
    /// order, e.g. "GET, HEAD, POST, OPTIONS".
    std::string allow;
  };

  Router();
  ~Router();
  Router(Router&& other) noexcept;
  Router& operator=(Router&& other) noexcept;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Registers `route` for `method` (a token, e.g. "GET") and `pattern` (see the file comment).
  /// Throws std::invalid_argument, with a message naming the pattern and the problem, for a bad
  /// method or pattern or a duplicate of an earlier (method, pattern shape); the router is then
  /// unchanged.
  void add(std::string_view method, std::string_view pattern, RouteId route);

  /// The route for `method` and the percent-decoded `path` (which starts with '/'; anything else,
  /// such as "*", is kNotFound). Never throws except std::bad_alloc.
  [[nodiscard]] Match match(std::string_view method, std::string_view path) const;

  /// Routes registered (one per successful add).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The Allow value for the server as a whole (OPTIONS *): every method of every route, the
  /// `extra` methods (what the caller serves besides its routes, e.g. static files), HEAD with
  /// GET, and OPTIONS; same order as Match::allow. "OPTIONS" alone when there is nothing else.
  [[nodiscard]] std::string allow_all(const std::vector<std::string_view>& extra = {}) const;

  /// A node of the route tree; defined (and only usable) in router.cpp.
  struct Node;

 private:
  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
  std::vector<std::string> methods_;  // every method some route has, each once
};

}  // namespace weft::server
