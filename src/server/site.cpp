#include "server/site.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>

#include "http/error_page.hpp"
#include "weft/log.hpp"

namespace weft::server {

Site::Site() : not_found_(Response::html(404, http::error_page(404, "nothing here"))) {}

Site::HandlerEndpoint::HandlerEndpoint(Handler handler, AsyncHandler async, const RouteOptions& options,
                                       std::size_t default_max_body)
    : handler_(std::move(handler)), async_(std::move(async)) {
  stream_body = options.stream_body;
  max_body = options.max_body.value_or(default_max_body);
}

void Site::HandlerEndpoint::start(Request request, Reply reply) const noexcept {
  const auto failed = [&request](std::string_view what) {
    log(LogLevel::error, "handler for " + std::string(request.method()) + " " +
                             std::string(request.target()) + " threw" + std::string(what));
  };
  try {
    if (handler_) {
      reply.send(handler_(request));
    } else {
      async_(request, std::move(reply));
      return;
    }
  } catch (const std::exception& e) {
    failed(std::string(": ") + e.what());
  } catch (...) {
    failed(" a non-standard exception");
  }
  // A thrown handler: answer 500 (unless the Reply went elsewhere and answers by itself).
  if (reply) {
    try {
      reply.send(Response::html(500, http::error_page(500, "the handler failed")));
    } catch (...) {  // out of memory: the Reply's destructor still answers
    }
  }
}

void Site::add_target(std::string_view method, std::string_view pattern,
                      std::unique_ptr<HandlerEndpoint> endpoint) {
  router_.add(method, pattern, targets_.size());
  targets_.push_back(std::make_unique<Target>(Target{std::move(endpoint), Response()}));
}

namespace {

void check_options(std::string_view pattern, const RouteOptions& options) {
  if (options.max_body && *options.max_body == 0 && !options.stream_body) {
    throw std::invalid_argument(
        "weft::Server::route: " + std::string(pattern) +
        ": max_body 0 (no limit) needs stream_body (a buffered body must be bounded)");
  }
}

}  // namespace

void Site::add_handler(std::string_view method, std::string_view pattern, Handler handler,
                       RouteOptions options, std::size_t default_max_body) {
  if (!handler) throw std::invalid_argument("weft::Server::route: empty handler for " + std::string(pattern));
  check_options(pattern, options);
  add_target(
      method, pattern,
      std::make_unique<HandlerEndpoint>(std::move(handler), AsyncHandler(), options, default_max_body));
}

void Site::add_handler(std::string_view method, std::string_view pattern, AsyncHandler handler,
                       RouteOptions options, std::size_t default_max_body) {
  if (!handler) throw std::invalid_argument("weft::Server::route: empty handler for " + std::string(pattern));
  check_options(pattern, options);
  add_target(method, pattern,
             std::make_unique<HandlerEndpoint>(Handler(), std::move(handler), options, default_max_body));
}

void Site::add_fixed(std::string_view pattern, Response response) {
  router_.add("GET", pattern, targets_.size());
  targets_.push_back(std::make_unique<Target>(Target{nullptr, std::move(response)}));
}

void Site::set_not_found(Response response) { not_found_ = std::move(response); }

namespace {

// A handler-less Response whose body is in memory can be rendered once.
std::optional<http::PreparedResponse> render(const Response& r, std::string_view server_name) {
  if (!r.file_path().empty()) return std::nullopt;
  return http::prepare_response(r.status(), r.headers(), r.body(), server_name);
}

}  // namespace

void Site::prepare(std::string_view server_name) {
  for (const auto& target : targets_) {
    if (!target->endpoint) target->prepared = render(target->fixed, server_name);
  }
  not_found_prepared_ = render(not_found_, server_name);
  for (const auto& dir : static_dirs_) dir->set_server_name(std::string(server_name));
}

http::Route Site::route(const http::RequestHead& head, std::string_view path) const {
  http::Route route;
  // Requests about the server rather than one of its resources: no route or directory decides.
  if (head.method == http::Method::kConnect) {
    // RFC 9110 9.3.6: CONNECT asks for a tunnel, and weft is not a proxy. The parser has
    // already marked the connection to close.
    route.response = Response::html(501, http::error_page(501, "this server is not a proxy"));
    return route;
  }
  if (head.target_form == http::TargetForm::kAsterisk) {
    // OPTIONS * (RFC 9110 9.3.7): the methods the server supports anywhere. A static directory
    // serves GET and HEAD (and OPTIONS, which allow_all always lists).
    route.response = Response(204);
    route.response.set_header(
        "Allow", static_dirs_.empty() ? router_.allow_all() : router_.allow_all({"GET", "HEAD"}));
    return route;
  }
  Router::Match match = router_.match(head.method_token, path);
  switch (match.outcome) {
    case Router::Outcome::kFound: {
      const Target& target = *targets_[match.route];
      if (target.endpoint) {
        route.kind = http::Route::Kind::kHandle;
        route.endpoint = target.endpoint.get();
        route.params = std::move(match.params);
      } else {
        route.fixed = &target.fixed;
        if (target.prepared) route.prepared = &*target.prepared;
      }
      break;
    }
    case Router::Outcome::kMethodNotAllowed:
      route.response =
          Response::html(405, http::error_page(405, "this resource does not support that method"));
      route.response.set_header("Allow", match.allow);
      break;
    case Router::Outcome::kOptions:
      // OPTIONS on a routed path without an OPTIONS route of the application (RFC 9110 9.3.7).
      route.response = Response(204);
      route.response.set_header("Allow", match.allow);
      break;
    case Router::Outcome::kNotFound:
      for (const auto& dir : static_dirs_) {
        if (dir->covers(path)) return dir->serve(head, path, not_found_);
      }
      route.fixed = &not_found_;
      if (not_found_prepared_) route.prepared = &*not_found_prepared_;
      break;
  }
  return route;
}

void Site::add_static(std::string_view prefix, const std::string& directory, StaticOptions options) {
  if (prefix.empty() || prefix.front() != '/') {
    throw std::invalid_argument("weft::Server::static_dir: prefix must start with '/': " +
                                std::string(prefix));
  }
  static_dirs_.push_back(
      std::make_unique<files::StaticDir>(std::string(prefix), directory, std::move(options)));
  // Longest prefix first, so "/assets" wins over "/".
  std::stable_sort(
      static_dirs_.begin(), static_dirs_.end(),
      [](const std::unique_ptr<files::StaticDir>& a, const std::unique_ptr<files::StaticDir>& b) {
        return a->prefix().size() > b->prefix().size();
      });
}

}  // namespace weft::server
