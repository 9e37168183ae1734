#pragma once
/// \file
/// Virtual hosts and extra listeners of a weft::Server (Server::sites, Server::listener): what a
/// configuration file with several `[[site]]` and `[[listen]]` tables describes, for any program.
///
/// A SiteConfig is chosen by the request's Host (its name without the port, compared without
/// case): an exact name of `hosts` first, then a one-label wildcard ("*.example.com" matches
/// "a.example.com", not "example.com" nor "a.b.example.com"); a request whose Host matches no
/// site (or has none) goes to the first site. Plain aggregates: Server::sites validates them and
/// throws std::invalid_argument naming the site and the bad field.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "weft/static_options.hpp"
#include "weft/tls_config.hpp"

namespace weft {

/// Header fields added to every answer whose path starts with `prefix` ("/" = all of them).
/// Fields are added, never replaced; the rules of a site apply in order. Not added to directory
/// listings (built by a pool worker) nor to the redirects of the site.
struct HeaderRule {
  std::string prefix = "/";
  /// Names are tokens (RFC 9110 5.1), values hold no control characters.
  std::vector<std::pair<std::string, std::string>> fields = {};
};

/// An answer `status` (301, 302, 303, 307 or 308) with `Location: location` for the request
/// whose path (percent-decoded, without the query) is exactly `path`, whatever its method.
struct RedirectRule {
  std::string path = {};
  std::string location = {};
  int status = 301;
};

/// One virtual host.
struct SiteConfig {
  /// Names ("example.com") and one-label wildcards ("*.example.com"). May be empty for the
  /// first site (the default for every Host that matches no other site).
  std::vector<std::string> hosts = {};
  /// Directory served at "/" (see Server::static_dir); empty = no files (every path not
  /// redirected is 404).
  std::string root = {};
  StaticOptions files = {};
  std::vector<HeaderRule> headers = {};
  std::vector<RedirectRule> redirects = {};
};

/// A listening address in addition to Config::bind / Config::port, with its own certificates
/// (none: cleartext HTTP). Config::tls's other settings (min_version, client CA, tickets) are
/// not inherited: set them here.
struct ListenerConfig {
  /// An IPv4 or IPv6 literal.
  std::string bind = "127.0.0.1";
  /// 0 = any free port (Server::listener_port tells which).
  std::uint16_t port = 0;
  TlsConfig tls = {};
};

}  // namespace weft
