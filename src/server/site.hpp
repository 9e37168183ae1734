#pragma once
// Site: everything a Server answers with — routes to handlers, fixed
// responses, the not-found response, static directories. Built before
// start(), then read-only and shared by every loop (no locks needed; a
// StaticDir's open-file cache synchronises itself).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/endpoint.hpp"
#include "files/static_dir.hpp"
#include "http/connection_host.hpp"
#include "http/parser.hpp"
#include "http/response_writer.hpp"
#include "server/router.hpp"
#include "weft/response.hpp"
#include "weft/server.hpp"
#include "weft/static_options.hpp"

namespace weft::server {

class Site {
 public:
  Site();

  /// See Server::route / fixed / not_found. Throw std::invalid_argument on a bad or duplicate pattern.
  /// `default_max_body`: the limit of a route whose options name none (Config::max_body).
  void add_handler(std::string_view method, std::string_view pattern, Handler handler,
                   RouteOptions options = {}, std::size_t default_max_body = Config{}.max_body);
  void add_handler(std::string_view method, std::string_view pattern, AsyncHandler handler,
                   RouteOptions options = {}, std::size_t default_max_body = Config{}.max_body);
  void add_fixed(std::string_view pattern, Response response);
  void set_not_found(Response response);
  /// Throws std::invalid_argument when `directory` cannot be opened or `options` is invalid.
  void add_static(std::string_view prefix, const std::string& directory, StaticOptions options = {});

  /// Renders the constant responses once (fixed routes, the not-found page)
  /// with the server's name. Call after the last registration, before serving.
  void prepare(std::string_view server_name);

  /// How to answer `head` whose decoded path is `path`. Loop threads, concurrently.
  [[nodiscard]] http::Route route(const http::RequestHead& head, std::string_view path) const;

 private:
  // A route's handler, as the protocols start it.
  class HandlerEndpoint final : public exchange::Endpoint {
   public:
    HandlerEndpoint(Handler handler, AsyncHandler async, const RouteOptions& options,
                    std::size_t default_max_body);
    void start(Request request, Reply reply) const noexcept override;

   private:
    Handler handler_;
    AsyncHandler async_;
  };
  struct Target {
    std::unique_ptr<HandlerEndpoint> endpoint;  // null for a fixed response
    Response fixed;
    std::optional<http::PreparedResponse> prepared = std::nullopt;  // of `fixed`, after prepare()
  };
  void add_target(std::string_view method, std::string_view pattern,
                  std::unique_ptr<HandlerEndpoint> endpoint);

  Router router_;
  // Longest prefix first; unique_ptr: a StaticDir is not movable (its listing handler refers to it).
  std::vector<std::unique_ptr<files::StaticDir>> static_dirs_;
  std::vector<std::unique_ptr<Target>> targets_;  // indexed by Router::RouteId; stable addresses
  Response not_found_;
  std::optional<http::PreparedResponse> not_found_prepared_;
};

}  // namespace weft::server
