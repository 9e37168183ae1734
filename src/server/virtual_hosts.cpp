#include "server/virtual_hosts.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace weft::server {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// The Host field without its port, for "name:port" and "[v6]:port".
std::string_view host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.find(':'));
}

// The answer with `fields` added: a prepared (rendered once) answer is copied with the fields
// appended, the copy owned by the route; any other one gets them as headers.
void add_fields(http::Route& route, const std::vector<std::pair<std::string, std::string>>& fields) {
  if (route.kind != http::Route::Kind::kRespond) return;
  if (route.prepared != nullptr) {
    struct Extended {
      http::PreparedResponse prepared;
      std::shared_ptr<const void> inner;
    };
    auto extended = std::make_shared<Extended>(Extended{*route.prepared, std::move(route.owner)});
    for (const auto& [name, value] : fields) {
      extended->prepared.fields.append(name).append(": ").append(value).append("\r\n");
    }
    route.prepared = &extended->prepared;
    route.owner = std::shared_ptr<const void>(extended, &extended->prepared);
    route.fixed = nullptr;
    return;
  }
  if (route.fixed != nullptr) {
    route.response = *route.fixed;
    route.fixed = nullptr;
  }
  for (const auto& [name, value] : fields) route.response.add_header(name, value);
}

}  // namespace

VirtualHosts::VirtualHosts(std::vector<SiteConfig> sites, std::string_view server_name,
                           std::size_t default_max_body) {
  (void)default_max_body;  // sites have no handlers of their own (yet): every answer is a file
  if (sites.empty()) throw std::invalid_argument("weft::Server::sites: no site given");
  for (std::size_t i = 0; i < sites.size(); ++i) {
    SiteConfig& config = sites[i];
    std::string which = "weft::Server::sites: site " + std::to_string(i + 1);
    if (!config.hosts.empty()) which.append(" (").append(config.hosts.front()).append(")");
    const auto fail = [&which](const std::string& what) {
      throw std::invalid_argument(std::string(which).append(": ").append(what));
    };
    if (i > 0 && config.hosts.empty())
      fail("hosts is empty (only the first site, the default, may have none)");
    for (const std::string& given : config.hosts) {
      std::string name = lower(given);
      const bool wildcard = name.starts_with("*.");
      const std::string_view rest = wildcard ? std::string_view(name).substr(1) : std::string_view(name);
      const bool valid = !rest.empty() && rest != "." &&
                         std::all_of(rest.begin(), rest.end(), is_name_char) &&
                         (!wildcard || rest.find('*') == std::string_view::npos);
      if (!valid) fail("'" + given + "' is not a host name or a wildcard like *.example.com");
      auto& table = wildcard ? wildcard_ : exact_;
      const std::string key(rest);
      if (!table.emplace(key, i).second) fail("host '" + given + "' is already served by another site");
    }
    auto host = std::make_unique<Host>();
    if (!config.root.empty()) {
      try {
        host->site.add_static("/", config.root, std::move(config.files));
      } catch (const std::invalid_argument& e) {
        fail(e.what());
      }
    }
    for (const HeaderRule& rule : config.headers) {
      if (rule.prefix.empty() || rule.prefix.front() != '/')
        fail("header prefix must start with '/': " + rule.prefix);
      for (const auto& [name, value] : rule.fields) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar))
          fail("'" + name + "' is not a header field name");
        if (has_control(value)) fail("the value of header " + name + " holds a control character");
      }
    }
    for (const RedirectRule& rule : config.redirects) {
      if (rule.path.empty() || rule.path.front() != '/')
        fail("redirect path must start with '/': " + rule.path);
      if (rule.location.empty() || has_control(rule.location))
        fail("redirect of " + rule.path + ": the location is empty or holds a control character");
      if (rule.status != 301 && rule.status != 302 && rule.status != 303 && rule.status != 307 &&
          rule.status != 308)
        fail("redirect of " + rule.path + ": status must be 301, 302, 303, 307 or 308");
    }
    host->headers = std::move(config.headers);
    host->redirects = std::move(config.redirects);
    host->site.prepare(server_name);
    hosts_.push_back(std::move(host));
  }
}

std::size_t VirtualHosts::pick(std::string_view host) const {
  if (hosts_.size() == 1) return 0;
  const std::string name = lower(host_name(host));
  if (const auto it = exact_.find(name); it != exact_.end()) return it->second;
  // One label, then the rest: "a.example.com" -> ".example.com".
  if (const std::size_t dot = name.find('.'); dot != std::string::npos && dot > 0) {
    if (const auto it = wildcard_.find(name.substr(dot)); it != wildcard_.end()) return it->second;
  }
  return 0;
}

http::Route VirtualHosts::route(const http::RequestHead& head, std::string_view path,
                                const std::shared_ptr<const VirtualHosts>& self) const {
  const Host& host = *hosts_[pick(head.host)];
  for (const RedirectRule& rule : host.redirects) {
    if (path == rule.path) {
      http::Route route;
      route.response = Response::redirect(rule.status, rule.location);
      return route;
    }
  }
  http::Route route = host.site.route(head, path);
  // A fixed answer, a prepared one without an owner, or a handler (a directory listing) points
  // into this table.
  if (!route.owner) route.owner = self;
  for (const HeaderRule& rule : host.headers) {
    if (path.starts_with(rule.prefix)) add_fields(route, rule.fields);
  }
  return route;
}

}  // namespace weft::server
