#pragma once
// Site: everything a Server answers with — routes to handlers, fixed
// responses, the not-found response, static directories. Built before
// start(), then read-only and shared by every loop (no locks needed).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "files/static_dir.hpp"
#include "http/connection_host.hpp"
#include "http/parser.hpp"
#include "server/router.hpp"
#include "weft/response.hpp"
#include "weft/server.hpp"

namespace weft::detail {

class Site {
 public:
  Site();

  /// See Server::route / fixed / not_found. Throw std::invalid_argument on a bad or duplicate pattern.
  void add_handler(std::string_view method, std::string_view pattern, Handler handler);
  void add_fixed(std::string_view pattern, Response response);
  void set_not_found(Response response);
  /// Throws std::invalid_argument when `directory` cannot be opened.
  void add_static(std::string_view prefix, const std::string& directory);

  /// How to answer `head` whose decoded path is `path`. Loop threads, concurrently.
  [[nodiscard]] http::Route route(const http::RequestHead& head, std::string_view path) const;

 private:
  struct Target {
    Handler handler;  // empty for a fixed response
    Response fixed;
  };

  [[nodiscard]] http::Route serve_file(const files::StaticDir& dir, const http::RequestHead& head,
                                       std::string_view path) const;

  Router router_;
  std::vector<files::StaticDir> static_dirs_;     // longest prefix first
  std::vector<std::unique_ptr<Target>> targets_;  // indexed by Router::RouteId; stable addresses
  Response not_found_;
};

}  // namespace weft::detail
