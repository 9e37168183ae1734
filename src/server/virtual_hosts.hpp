#pragma once
// VirtualHosts: the Sites of Server::sites, chosen by Host, with each site's redirects and extra
// header fields. Built whole (a reload builds a new one), then read-only and shared by every
// loop; a route that points into it holds it (Route::owner), so a table replaced by a reload
// lives until its last request is answered.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/connection_host.hpp"
#include "http/parser.hpp"
#include "server/site.hpp"
#include "weft/virtual_hosts.hpp"

namespace weft::server {

class VirtualHosts {
 public:
  /// Throws std::invalid_argument naming the site (its first host, or its index) and the field.
  VirtualHosts(std::vector<SiteConfig> sites, std::string_view server_name, std::size_t default_max_body);

  /// The index of the site that answers `host` (a Host field value: name, optional port).
  [[nodiscard]] std::size_t pick(std::string_view host) const;
  /// How to answer `head`; `self` is this table (Route::owner keeps it alive). Loop threads.
  [[nodiscard]] http::Route route(const http::RequestHead& head, std::string_view path,
                                  const std::shared_ptr<const VirtualHosts>& self) const;
  [[nodiscard]] std::size_t size() const noexcept { return hosts_.size(); }

 private:
  struct Host {
    Site site;
    std::vector<HeaderRule> headers;
    std::vector<RedirectRule> redirects;
  };
  std::vector<std::unique_ptr<Host>> hosts_;
  std::unordered_map<std::string, std::size_t> exact_;     // lower-case name -> site
  std::unordered_map<std::string, std::size_t> wildcard_;  // ".example.com" -> site
};

}  // namespace weft::server
