#include "config_file.hpp"

#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

namespace weft::app {

std::string check_root(const std::string& root, const std::string& what) {
  std::error_code ec;
  const auto status = std::filesystem::status(root, ec);
  const std::string named = what + " '" + root + "'";
  if (status.type() == std::filesystem::file_type::not_found) return named + " does not exist";
  if (ec) return named + ": " + ec.message();
  if (status.type() != std::filesystem::file_type::directory) return named + " is not a directory";
  if (::access(root.c_str(), R_OK | X_OK) != 0) return named + " is not readable";
  return {};
}

namespace {

// The keys of a [[site]] table that are static-file flags.
constexpr std::string_view kSiteFlags[] = {"no-listing", "hidden", "follow-symlinks-outside", "spa"};

class Loader {
 public:
  Loader(std::string path, const Options& cli, bool tty) : path_(std::move(path)), cli_(cli), tty_(tty) {}

  [[nodiscard]] std::string where(const toml::source_region& region) const {
    if (region.begin.line == 0) return path_;
    return path_ + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
  }
  void error(const toml::source_region& region, const std::string& message) {
    errors_.push_back(where(region) + ": " + message);
  }
  void error(const std::string& message) { errors_.push_back(path_ + ": " + message); }
  // A message that names its places already.
  void located(std::string message) { errors_.push_back(std::move(message)); }
  [[nodiscard]] bool failed() const { return !errors_.empty(); }
  std::vector<std::string> take_errors() { return std::move(errors_); }
  [[nodiscard]] bool cli_gave(std::string_view name) const {
    return std::find(cli_.given.begin(), cli_.given.end(), name) != cli_.given.end();
  }

  // A scalar as the text of its flag's value; nullopt (and an error) for anything else.
  std::optional<std::string> scalar(const std::string& key, const toml::node& node) {
    if (const auto* s = node.as_string()) return s->get();
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    if (const auto* f = node.as_floating_point()) {
      char text[64];
      const auto [end, ec] = std::to_chars(text, text + sizeof text, f->get());
      if (ec == std::errc{}) return std::string(text, end);
    }
    error(node.source(), key + ": expected a string or a number");
    return std::nullopt;
  }

  // Strings of a key that may repeat: one string or an array of them.
  std::optional<std::vector<std::string>> strings(const std::string& key, const toml::node& node) {
    if (const auto* s = node.as_string()) return std::vector<std::string>{s->get()};
    if (const auto* array = node.as_array()) {
      std::vector<std::string> out;
      for (const toml::node& item : *array) {
        const auto* s = item.as_string();
        if (s == nullptr) {
          error(item.source(), key + ": expected strings");
          return std::nullopt;
        }
        out.push_back(s->get());
      }
      return out;
    }
    error(node.source(), key + ": expected a string or an array of strings");
    return std::nullopt;
  }

  std::optional<bool> boolean(const std::string& key, const toml::node& node) {
    if (const auto* b = node.as_boolean()) return b->get();
    error(node.source(), key + ": expected true or false");
    return std::nullopt;
  }

  // Checks `args` as the command line would; the message names the key, not the flag.
  bool check_args(const std::string& key, const toml::node& node, const std::vector<std::string>& args) {
    std::vector<std::string> line{"weft"};
    line.insert(line.end(), args.begin(), args.end());
    std::string message;
    if (std::holds_alternative<Options>(parse_arguments(line, tty_, message, false))) return true;
    const std::string flag = "--" + key + ": ";
    if (message.starts_with(flag)) message.erase(0, flag.size());
    error(node.source(), key + ": " + message);
    return false;
  }

  std::string path_;
  const Options& cli_;
  bool tty_;
  std::vector<std::string> errors_;
};

struct FileKey {
  std::string name;
  std::vector<std::string> args;
};

// Overrides of one [[site]] over the file's top-level static-file keys.
struct SiteTable {
  SiteConfig config;
  std::string where;
  std::map<std::string, bool, std::less<>> flags;
  std::optional<std::string> cache_control;
};

std::optional<ListenerConfig> read_listener(Loader& in, const toml::table& table) {
  ListenerConfig listener;
  bool has_port = false;
  std::vector<std::string> certs;
  std::vector<std::string> keys;
  const toml::node* certs_node = nullptr;
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (name == "bind") {
      if (const auto text = in.scalar(name, node); text && in.check_args(name, node, {"--bind=" + *text}))
        listener.bind = *text;
    } else if (name == "port") {
      const auto* port = node.as_integer();
      if (port == nullptr || port->get() < 0 || port->get() > 65535) {
        in.error(node.source(), "port: expected a whole number from 0 to 65535");
      } else {
        listener.port = static_cast<std::uint16_t>(port->get());
        has_port = true;
      }
    } else if (name == "tls-cert") {
      certs_node = &node;
      if (auto list = in.strings(name, node)) certs = std::move(*list);
    } else if (name == "tls-key") {
      if (auto list = in.strings(name, node)) keys = std::move(*list);
    } else {
      in.error(key.source(), "unknown key '" + name + "' in [[listen]] (bind, port, tls-cert, tls-key)");
    }
  }
  if (!has_port && !in.failed()) in.error(table.source(), "[[listen]] needs a port");
  if (certs.size() != keys.size()) {
    in.error(certs_node != nullptr ? certs_node->source() : table.source(),
             "tls-cert and tls-key come in pairs (got " + std::to_string(certs.size()) + " certificates, " +
                 std::to_string(keys.size()) + " keys)");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < certs.size(); ++i)
    listener.tls.certificates.push_back({certs[i], keys[i], {}, {}});
  return listener;
}

void read_headers(Loader& in, const toml::node& node, SiteConfig& site) {
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    in.error(node.source(), "headers: expected [[site.headers]] tables (prefix, fields)");
    return;
  }
  for (const toml::node& item : *array) {
    HeaderRule rule;
    for (const auto& [key, value] : *item.as_table()) {
      const std::string name(key.str());
      if (name == "prefix") {
        if (const auto* s = value.as_string()) {
          rule.prefix = s->get();
        } else {
          in.error(value.source(), "prefix: expected a string");
        }
      } else if (name == "fields") {
        const auto* fields = value.as_table();
        if (fields == nullptr) {
          in.error(value.source(),
                   "fields: expected a table of header fields, e.g. { X-Frame-Options = \"DENY\" }");
          continue;
        }
        for (const auto& [field, field_value] : *fields) {
          if (const auto* s = field_value.as_string()) {
            rule.fields.emplace_back(std::string(field.str()), s->get());
          } else {
            in.error(field_value.source(), std::string(field.str()) + ": expected a string");
          }
        }
      } else {
        in.error(key.source(), "unknown key '" + name + "' in [[site.headers]] (prefix, fields)");
      }
    }
    site.headers.push_back(std::move(rule));
  }
}

void read_redirects(Loader& in, const toml::node& node, SiteConfig& site) {
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    in.error(node.source(), "redirect: expected [[site.redirect]] tables (path, to, status)");
    return;
  }
  for (const toml::node& item : *array) {
    RedirectRule rule;
    bool has_path = false;
    bool has_to = false;
    for (const auto& [key, value] : *item.as_table()) {
      const std::string name(key.str());
      if (name == "path" || name == "to") {
        const auto* s = value.as_string();
        if (s == nullptr) {
          in.error(value.source(), name + ": expected a string");
        } else if (name == "path") {
          rule.path = s->get();
          has_path = true;
        } else {
          rule.location = s->get();
          has_to = true;
        }
      } else if (name == "status") {
        const auto* status = value.as_integer();
        const std::int64_t n = status != nullptr ? status->get() : 0;
        if (n != 301 && n != 302 && n != 303 && n != 307 && n != 308) {
          in.error(value.source(), "status: expected 301, 302, 303, 307 or 308");
        } else {
          rule.status = static_cast<int>(n);
        }
      } else {
        in.error(key.source(), "unknown key '" + name + "' in [[site.redirect]] (path, to, status)");
      }
    }
    if (!has_path || !has_to) in.error(item.source(), "[[site.redirect]] needs a path and a to");
    site.redirects.push_back(std::move(rule));
  }
}

SiteTable read_site(Loader& in, const toml::table& table) {
  SiteTable site;
  site.where = in.where(table.source());
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (name == "hosts") {
      if (auto list = in.strings(name, node)) site.config.hosts = std::move(*list);
    } else if (name == "root") {
      if (const auto* s = node.as_string()) {
        site.config.root = s->get();
        if (const std::string problem = check_root(site.config.root, "root"); !problem.empty())
          in.error(node.source(), problem);
      } else {
        in.error(node.source(), "root: expected a string");
      }
    } else if (std::find(std::begin(kSiteFlags), std::end(kSiteFlags), name) != std::end(kSiteFlags)) {
      if (const auto on = in.boolean(name, node)) site.flags[name] = *on;
    } else if (name == "cache-control") {
      if (const auto text = in.scalar(name, node);
          text && in.check_args(name, node, {"--cache-control=" + *text}))
        site.cache_control = *text;
    } else if (name == "headers") {
      read_headers(in, node, site.config);
    } else if (name == "redirect") {
      read_redirects(in, node, site.config);
    } else {
      in.error(key.source(),
               "unknown key '" + name +
                   "' in [[site]] (hosts, root, no-listing, hidden, follow-symlinks-outside, spa, "
                   "cache-control, headers, redirect)");
    }
  }
  return site;
}

// "0.0.0.0" and "::" take the port on every address.
bool clash(const std::string& a, const std::string& b) {
  const auto any = [](const std::string& bind) { return bind == "0.0.0.0" || bind == "::"; };
  return a == b || any(a) || any(b);
}

}  // namespace

std::variant<Plan, std::vector<std::string>> load_config(const std::string& path,
                                                         const std::vector<std::string>& command_line,
                                                         const Options& cli, bool stdout_is_terminal) {
  Loader in(path, cli, stdout_is_terminal);
  toml::table file;
  try {
    file = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    in.error(e.source(), std::string(e.description()));
    return in.take_errors();
  }

  std::map<std::string, FlagKey::Kind, std::less<>> flags;
  for (FlagKey& key : flag_keys()) flags.emplace(std::move(key.name), key.kind);

  std::vector<FileKey> keys;
  std::optional<std::string> root;
  const toml::node* root_node = nullptr;
  const toml::array* listen = nullptr;
  const toml::array* sites = nullptr;
  std::map<std::string, const toml::key*, std::less<>> top_keys;
  for (const auto& [key, node] : file) {
    const std::string name(key.str());
    top_keys.emplace(name, &key);
    if (name == "listen" || name == "site") {
      const auto* array = node.as_array();
      if (array == nullptr || !array->is_array_of_tables()) {
        in.error(node.source(), name + ": expected [[" + std::string(name).append("]] tables"));
      } else {
        (name == "listen" ? listen : sites) = array;
      }
      continue;
    }
    if (name == "root") {
      if (const auto* s = node.as_string()) {
        root = s->get();
        root_node = &node;
      } else {
        in.error(node.source(), "root: expected a string");
      }
      continue;
    }
    const auto flag = flags.find(name);
    if (flag == flags.end()) {
      in.error(key.source(), "unknown key '" + name + "'");
      continue;
    }
    FileKey entry{name, {}};
    if (flag->second == FlagKey::Kind::kFlag) {
      const auto on = in.boolean(name, node);
      if (!on) continue;
      if (*on) entry.args.push_back("--" + name);
    } else if (flag->second == FlagKey::Kind::kList) {
      const auto list = in.strings(name, node);
      if (!list) continue;
      for (const std::string& value : *list)
        entry.args.push_back(std::string("--").append(name).append("=").append(value));
    } else {
      const auto value = in.scalar(name, node);
      if (!value) continue;
      entry.args.push_back("--" + name + "=" + *value);
    }
    if (in.check_args(name, node, entry.args)) keys.push_back(std::move(entry));
  }
  if (listen != nullptr) {
    for (const std::string_view name : {"bind", "port", "tls-cert", "tls-key"}) {
      if (const auto it = top_keys.find(name); it != top_keys.end())
        in.error(it->second->source(),
                 std::string(name) + ": with [[listen]] tables, set it in a [[listen]]");
    }
  }
  if (sites != nullptr && root)
    in.error(root_node->source(), "root: with [[site]] tables, set it in a [[site]]");
  if (sites != nullptr && std::find(cli.given.begin(), cli.given.end(), "ROOT") != cli.given.end())
    in.error("ROOT on the command line and [[site]] tables do not go together");
  if (root && !in.cli_gave("ROOT")) {
    if (const std::string problem = check_root(*root, "root"); !problem.empty())
      in.error(root_node->source(), problem);
  }

  // Top-level keys, then the command line: a flag given there replaces the key (both halves of
  // the tls-cert/tls-key pairs together).
  const bool cli_tls = in.cli_gave("tls-cert") || in.cli_gave("tls-key");
  std::vector<std::string> args{"weft"};
  for (const FileKey& key : keys) {
    if (in.cli_gave(key.name) || (cli_tls && key.name.starts_with("tls-")) ||
        (key.name == "no-listing" && in.cli_gave("no-listing")))
      continue;
    args.insert(args.end(), key.args.begin(), key.args.end());
  }
  args.insert(args.end(), command_line.begin(), command_line.end());

  std::vector<ListenerConfig> listeners;
  Plan plan;
  if (listen != nullptr) {
    for (const toml::node& item : *listen) {
      plan.listener_where.push_back(in.where(item.source()));
      if (auto listener = read_listener(in, *item.as_table())) listeners.push_back(std::move(*listener));
    }
    if (!in.failed()) {
      for (std::size_t i = 0; i < listeners.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (listeners[i].port != 0 && listeners[i].port == listeners[j].port &&
              clash(listeners[i].bind, listeners[j].bind)) {
            in.located(plan.listener_where[i] + ": port " + std::to_string(listeners[i].port) +
                       " is already used by the [[listen]] at " + plan.listener_where[j]);
          }
        }
      }
    }
  }
  std::vector<SiteTable> site_tables;
  if (sites != nullptr) {
    for (const toml::node& item : *sites) site_tables.push_back(read_site(in, *item.as_table()));
  }
  if (in.failed()) return in.take_errors();

  // The first listener's certificates are the main ones: the flags that need them see them.
  if (!listeners.empty() && !cli_tls) {
    std::vector<std::string> tls;
    for (const TlsCertificate& pair : listeners.front().tls.certificates) {
      tls.push_back("--tls-cert=" + pair.cert_file);
      tls.push_back("--tls-key=" + pair.key_file);
    }
    args.insert(args.begin() + 1, tls.begin(), tls.end());
  }
  std::string message;
  auto merged = parse_arguments(args, stdout_is_terminal, message);
  if (std::holds_alternative<Exit>(merged)) {
    in.error(message.empty() ? std::string("the file asks for no server") : message);
    return in.take_errors();
  }
  plan.options = std::move(std::get<Options>(merged));
  Options& options = plan.options;
  if (root && !in.cli_gave("ROOT")) options.root = *root;

  if (!listeners.empty()) {
    ListenerConfig& first = listeners.front();
    if (!in.cli_gave("bind")) options.config.bind = first.bind;
    if (!in.cli_gave("port")) options.config.port = first.port;
    if (!cli_tls) options.config.tls.certificates = first.tls.certificates;
    if (options.config.http_redirect_port && *options.config.http_redirect_port == options.config.port &&
        options.config.port != 0)
      in.located(plan.listener_where.front() + ": http-redirect uses the port of this [[listen]]");
    for (std::size_t i = 1; i < listeners.size(); ++i) {
      ListenerConfig extra = std::move(listeners[i]);
      std::vector<TlsCertificate> certs = std::move(extra.tls.certificates);
      extra.tls = options.config.tls;
      extra.tls.certificates = std::move(certs);
      if (extra.tls.certificates.empty()) {
        extra.tls.client_ca_file.clear();
        extra.tls.client_cert_optional = false;
      }
      plan.listeners.push_back(std::move(extra));
    }
    if (in.failed()) return in.take_errors();
  }

  const auto site_files = [&](const SiteTable& table) {
    StaticOptions files = options.static_options;
    for (const auto& [flag, on] : table.flags) {
      if (in.cli_gave(flag)) continue;  // the command line wins
      if (flag == "no-listing") files.listing = !on;
      if (flag == "hidden") files.hidden = on;
      if (flag == "follow-symlinks-outside") files.follow_symlinks_outside = on;
      if (flag == "spa") files.spa = on;
    }
    if (table.cache_control && !in.cli_gave("cache-control")) files.cache_control = *table.cache_control;
    return files;
  };
  if (!site_tables.empty()) {
    for (SiteTable& table : site_tables) {
      table.config.files = site_files(table);
      plan.sites.push_back(std::move(table.config));
      plan.site_where.push_back(table.where);
    }
  } else if (!options.root.empty()) {
    if (in.cli_gave("ROOT")) {
      if (const std::string problem = check_root(options.root); !problem.empty()) in.error(problem);
    }
    plan.sites.push_back(SiteConfig{{}, options.root, options.static_options, {}, {}});
    plan.site_where.push_back(path);
  }
  if (in.failed()) return in.take_errors();
  return plan;
}

}  // namespace weft::app
