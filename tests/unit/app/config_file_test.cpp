// Tests of apps/weft/config_file.cpp: what a file gives (listeners, sites, keys as flags, the
// command line over the file) and the FILE:LINE:COL line of each thing it gets wrong.
#include "config_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

namespace weft::app {
namespace {

namespace fs = std::filesystem;

class ConfigFile : public ::testing::Test {
 protected:
  ConfigFile()
      : dir_(fs::temp_directory_path() / ("weft-config-unit-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::create_directories(dir_ / "a");
    fs::create_directories(dir_ / "b");
  }
  ~ConfigFile() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ConfigFile(const ConfigFile&) = delete;
  ConfigFile& operator=(const ConfigFile&) = delete;
  ConfigFile(ConfigFile&&) = delete;
  ConfigFile& operator=(ConfigFile&&) = delete;

  [[nodiscard]] std::string root(const char* name) const { return (dir_ / name).string(); }
  [[nodiscard]] std::string path() const { return (dir_ / "weft.toml").string(); }

  // Writes `text` as the file and loads it with `flags` after --config FILE.
  std::variant<Plan, std::vector<std::string>> load(const std::string& text,
                                                    const std::vector<std::string>& flags = {}) {
    std::ofstream(path()) << text;
    std::vector<std::string> command_line{"--config", path()};
    command_line.insert(command_line.end(), flags.begin(), flags.end());
    std::vector<std::string> args{"weft"};
    args.insert(args.end(), command_line.begin(), command_line.end());
    std::string error;
    auto cli = parse_arguments(args, false, error);
    EXPECT_TRUE(std::holds_alternative<Options>(cli)) << error;
    if (!std::holds_alternative<Options>(cli)) return std::vector<std::string>{error};
    return load_config(path(), command_line, std::get<Options>(cli), false);
  }
  Plan loaded(const std::string& text, const std::vector<std::string>& flags = {}) {
    auto result = load(text, flags);
    if (auto* errors = std::get_if<std::vector<std::string>>(&result)) {
      ADD_FAILURE() << "errors: " << (errors->empty() ? "" : errors->front());
      return {};
    }
    return std::get<Plan>(std::move(result));
  }
  // The one error line the file gets.
  std::string error(const std::string& text, const std::vector<std::string>& flags = {}) {
    auto result = load(text, flags);
    const auto* errors = std::get_if<std::vector<std::string>>(&result);
    if (errors == nullptr) {
      ADD_FAILURE() << "the file loaded:\n" << text;
      return {};
    }
    EXPECT_EQ(errors->size(), 1U) << errors->front();
    return errors->front();
  }

  fs::path dir_;
};

TEST_F(ConfigFile, TheMinimalFileGivesOneListenerAndOneSite) {
  const Plan plan =
      loaded("[[listen]]\nbind = \"127.0.0.1\"\nport = 8080\n[[site]]\nhosts = [\"a.test\"]\nroot = \"" +
             root("a") + "\"\n");
  EXPECT_EQ(plan.options.config.bind, "127.0.0.1");
  EXPECT_EQ(plan.options.config.port, 8080);
  EXPECT_TRUE(plan.listeners.empty());
  ASSERT_EQ(plan.sites.size(), 1U);
  EXPECT_EQ(plan.sites[0].hosts, std::vector<std::string>{"a.test"});
  EXPECT_EQ(plan.sites[0].root, root("a"));
  EXPECT_EQ(plan.site_where, std::vector<std::string>{path() + ":4:1"});
}

TEST_F(ConfigFile, KeysAreTheLongFlagsAndTheCommandLineOverridesThem) {
  const std::string text =
      "max-connections = 50\nkeepalive-timeout = 2.5\nspa = true\naccess-log-format = \"json\"\n"
      "root = \"" +
      root("a") + "\"\n";
  const Plan file = loaded(text);
  EXPECT_EQ(file.options.config.max_connections, 50U);
  EXPECT_EQ(file.options.config.keepalive_timeout.count(), 2500);
  EXPECT_EQ(file.options.config.access_log_format, AccessLogFormat::json);
  EXPECT_TRUE(file.options.static_options.spa);
  ASSERT_EQ(file.sites.size(), 1U);  // root alone: one site for every host
  EXPECT_TRUE(file.sites[0].hosts.empty());
  EXPECT_TRUE(file.sites[0].files.spa);

  const Plan flags = loaded(text, {"--max-connections", "70", "--keepalive-timeout=1", root("b")});
  EXPECT_EQ(flags.options.config.max_connections, 70U);
  EXPECT_EQ(flags.options.config.keepalive_timeout.count(), 1000);
  EXPECT_EQ(flags.options.root, root("b"));
  ASSERT_EQ(flags.sites.size(), 1U);
  EXPECT_EQ(flags.sites[0].root, root("b"));
}

TEST_F(ConfigFile, SitesTakeTheTopLevelFileKeysTheirOwnThenTheCommandLine) {
  const std::string text =
      "cache-control = \"max-age=60\"\nhidden = true\n"
      "[[site]]\nhosts = [\"a.test\"]\nroot = \"" +
      root("a") +
      "\"\n"
      "[[site]]\nhosts = [\"*.b.test\"]\nroot = \"" +
      root("b") +
      "\"\ncache-control = \"no-store\"\nno-listing = true\nspa = true\n"
      "[[site.headers]]\nprefix = \"/app/\"\nfields = { X-Frame-Options = \"DENY\", X-A = \"1\" }\n"
      "[[site.redirect]]\npath = \"/old\"\nto = \"https://b.test/new\"\nstatus = 308\n";
  const Plan plan = loaded(text);
  ASSERT_EQ(plan.sites.size(), 2U);
  EXPECT_EQ(plan.sites[0].files.cache_control, "max-age=60");
  EXPECT_TRUE(plan.sites[0].files.hidden);
  EXPECT_TRUE(plan.sites[0].files.listing);
  EXPECT_EQ(plan.sites[1].files.cache_control, "no-store");
  EXPECT_TRUE(plan.sites[1].files.hidden);
  EXPECT_FALSE(plan.sites[1].files.listing);
  EXPECT_TRUE(plan.sites[1].files.spa);
  ASSERT_EQ(plan.sites[1].headers.size(), 1U);
  EXPECT_EQ(plan.sites[1].headers[0].prefix, "/app/");
  EXPECT_EQ(plan.sites[1].headers[0].fields.size(), 2U);
  ASSERT_EQ(plan.sites[1].redirects.size(), 1U);
  EXPECT_EQ(plan.sites[1].redirects[0].path, "/old");
  EXPECT_EQ(plan.sites[1].redirects[0].location, "https://b.test/new");
  EXPECT_EQ(plan.sites[1].redirects[0].status, 308);

  const Plan flags = loaded(text, {"--cache-control", "private"});
  EXPECT_EQ(flags.sites[0].files.cache_control, "private");
  EXPECT_EQ(flags.sites[1].files.cache_control, "private");
}

TEST_F(ConfigFile, ListenersAfterTheFirstAreExtraWithTheirOwnCertificates) {
  const Plan plan = loaded(
      "tls-min = \"1.3\"\n"
      "[[listen]]\nport = 8080\n"
      "[[listen]]\nbind = \"::1\"\nport = 8443\ntls-cert = \"c.pem\"\ntls-key = \"k.pem\"\n");
  EXPECT_EQ(plan.options.config.port, 8080);
  EXPECT_TRUE(plan.options.config.tls.certificates.empty());
  ASSERT_EQ(plan.listeners.size(), 1U);
  EXPECT_EQ(plan.listeners[0].bind, "::1");
  EXPECT_EQ(plan.listeners[0].port, 8443);
  ASSERT_EQ(plan.listeners[0].tls.certificates.size(), 1U);
  EXPECT_EQ(plan.listeners[0].tls.certificates[0].cert_file, "c.pem");
  EXPECT_EQ(plan.listeners[0].tls.min_version, "1.3");
  EXPECT_TRUE(plan.sites.empty());  // no root: the built-in site
  // --port replaces the first listener's.
  EXPECT_EQ(loaded("[[listen]]\nport = 8080\n", {"--port", "0"}).options.config.port, 0);
}

TEST_F(ConfigFile, ErrorsNameTheFileLineAndColumn) {
  const std::string f = path();
  EXPECT_EQ(error("threads = 2\nmax-conections = 5\n"), f + ":2:1: unknown key 'max-conections'");
  EXPECT_EQ(error("port = 70000\n"), f + ":1:8: port: expected a whole number from 0 to 65535, got '70000'");
  EXPECT_EQ(error("\n\nthreads = \"four\"\n"),
            f + ":3:11: threads: expected a whole number of at least 1, got 'four'");
  EXPECT_EQ(error("spa = 1\n"), f + ":1:7: spa: expected true or false");
  EXPECT_EQ(error("keepalive-timeout = [1]\n"),
            f + ":1:21: keepalive-timeout: expected a string or a number");
  EXPECT_EQ(error("port = \n"), f + ":1:8: Error while parsing key-value pair: expected value, saw '\\n'");
  EXPECT_EQ(error("[[site]]\nhosts = [\"a.test\"]\nrot = \"/srv\"\n"),
            f + ":3:1: unknown key 'rot' in [[site]] (hosts, root, no-listing, hidden, "
                "follow-symlinks-outside, spa, cache-control, headers, redirect)");
  EXPECT_EQ(error("[[site]]\nroot = \"/nonexistent/weft\"\n"),
            f + ":2:8: root '/nonexistent/weft' does not exist");
  EXPECT_EQ(error("[[listen]]\nport = 8080\nbind = \"localhost\"\n"),
            f + ":3:8: bind: expected an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0, ::1 or ::, got "
                "'localhost'");
  EXPECT_EQ(error("[[listen]]\nport = 8080\n[[listen]]\nbind = \"0.0.0.0\"\nport = 8080\n"),
            f + ":3:1: port 8080 is already used by the [[listen]] at " + f + ":1:1");
  EXPECT_EQ(error("[[listen]]\nbind = \"::1\"\n"), f + ":1:1: [[listen]] needs a port");
  EXPECT_EQ(error("[[listen]]\nport = 1\ntls-cert = [\"a\", \"b\"]\ntls-key = \"k\"\n"),
            f + ":3:12: tls-cert and tls-key come in pairs (got 2 certificates, 1 keys)");
  EXPECT_EQ(error("port = 1\n[[listen]]\nport = 2\n"),
            f + ":1:1: port: with [[listen]] tables, set it in a [[listen]]");
  EXPECT_EQ(error("[[site]]\n[[site.redirect]]\npath = \"/a\"\nto = \"/b\"\nstatus = 200\n"),
            f + ":5:10: status: expected 301, 302, 303, 307 or 308");
  EXPECT_EQ(error("[[site]]\n[[site.headers]]\nfield = 1\n"),
            f + ":3:1: unknown key 'field' in [[site.headers]] (prefix, fields)");
  EXPECT_EQ(error("config = \"other.toml\"\n"), f + ":1:1: unknown key 'config'");
  EXPECT_EQ(error("hsts = 60\n"), f + ": --hsts needs --tls-cert and --tls-key");
}

TEST_F(ConfigFile, AMissingFileIsOneLine) {
  const std::string missing = (dir_ / "none.toml").string();
  std::string error_text;
  auto cli = parse_arguments({"weft", "--config", missing}, false, error_text);
  ASSERT_TRUE(std::holds_alternative<Options>(cli));
  auto result = load_config(missing, {"--config", missing}, std::get<Options>(cli), false);
  const auto* errors = std::get_if<std::vector<std::string>>(&result);
  ASSERT_NE(errors, nullptr);
  ASSERT_EQ(errors->size(), 1U);
  EXPECT_TRUE(errors->front().starts_with(missing + ": ")) << errors->front();
}

TEST_F(ConfigFile, EveryFlagHasAKey) {
  std::vector<std::string> names;
  for (const FlagKey& key : flag_keys()) names.push_back(key.name);
  for (const char* expected :
       {"bind", "port", "threads", "loops", "max-connections", "keepalive-timeout", "tls-cert", "tls-key",
        "no-listing", "spa", "cache-control", "access-log", "log-level", "user", "http-redirect", "hsts"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const char* absent : {"help", "version", "config", "check-config"}) {
    EXPECT_EQ(std::find(names.begin(), names.end(), absent), names.end()) << absent;
  }
}

}  // namespace
}  // namespace weft::app
