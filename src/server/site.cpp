#include "server/site.hpp"

#include <algorithm>
#include <stdexcept>

#include "files/mime.hpp"
#include "http/error_page.hpp"

namespace weft::detail {

Site::Site() : not_found_(Response::html(404, http::error_page(404, "nothing here"))) {}

void Site::add_handler(std::string_view method, std::string_view pattern, Handler handler) {
  if (!handler) throw std::invalid_argument("weft::Server::route: empty handler for " + std::string(pattern));
  router_.add(method, pattern, targets_.size());
  targets_.push_back(std::make_unique<Target>(Target{std::move(handler), Response()}));
}

void Site::add_fixed(std::string_view pattern, Response response) {
  router_.add("GET", pattern, targets_.size());
  targets_.push_back(std::make_unique<Target>(Target{Handler(), std::move(response)}));
}

void Site::set_not_found(Response response) { not_found_ = std::move(response); }

http::Route Site::route(const http::RequestHead& head, std::string_view path) const {
  http::Route route;
  Router::Match match = router_.match(head.method_token, path);
  switch (match.outcome) {
    case Router::Outcome::kFound: {
      const Target& target = *targets_[match.route];
      if (target.handler) {
        route.kind = http::Route::Kind::kHandle;
        route.handler = &target.handler;
        route.params = std::move(match.params);
      } else {
        route.fixed = &target.fixed;
      }
      break;
    }
    case Router::Outcome::kMethodNotAllowed:
      route.response =
          Response::html(405, http::error_page(405, "this resource does not support that method"));
      route.response.set_header("Allow", match.allow);
      break;
    case Router::Outcome::kNotFound:
      for (const files::StaticDir& dir : static_dirs_) {
        if (dir.covers(path)) return serve_file(dir, head, path);
      }
      route.fixed = &not_found_;
      break;
  }
  return route;
}

void Site::add_static(std::string_view prefix, const std::string& directory) {
  if (prefix.empty() || prefix.front() != '/') {
    throw std::invalid_argument("weft::Server::static_dir: prefix must start with '/': " +
                                std::string(prefix));
  }
  static_dirs_.emplace_back(std::string(prefix), directory);
  // Longest prefix first, so "/assets" wins over "/".
  std::stable_sort(static_dirs_.begin(), static_dirs_.end(),
                   [](const files::StaticDir& a, const files::StaticDir& b) {
                     return a.prefix().size() > b.prefix().size();
                   });
}

http::Route Site::serve_file(const files::StaticDir& dir, const http::RequestHead& head,
                             std::string_view path) const {
  http::Route route;
  if (head.method != http::Method::kGet && head.method != http::Method::kHead) {
    route.response = Response::html(405, http::error_page(405, "files can only be read"));
    route.response.set_header("Allow", "GET, HEAD");
    return route;
  }
  files::StaticDir::Lookup found = dir.lookup(path);
  switch (found.status) {
    case 200:
      route.response = Response(200);
      route.response.set_header("Content-Type", mime_type_for(path.back() == '/' ? "index.html" : path));
      route.body.push_back(http::BodyPart{{},
                                          std::make_shared<const net::UniqueFd>(std::move(found.file)),
                                          0,
                                          static_cast<std::uint64_t>(found.info.st_size)});
      break;
    case 301:
      route.response = Response::redirect(301, found.location);
      break;
    case 404:
      route.fixed = &not_found_;
      break;
    default:
      route.response = Response::html(
          found.status, http::error_page(found.status, found.status == 403 ? "forbidden" : "bad path"));
      break;
  }
  return route;
}

}  // namespace weft::detail
