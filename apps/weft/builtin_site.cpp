#include "builtin_site.hpp"

#include <charconv>
#include <optional>
#include <string>
#include <system_error>

namespace weft::app {
namespace {

// The ms query parameter: absent -> the default; otherwise digits only, at most kMaxSleep.
std::optional<std::chrono::milliseconds> sleep_duration(const Request& request) {
  const auto text = request.query_param("ms");
  if (!text) {
    return kDefaultSleep;
  }
  long long ms = 0;
  const char* first = text->data();
  const char* last = first + text->size();
  auto [end, ec] = std::from_chars(first, last, ms);
  if (text->empty() || ec != std::errc{} || end != last || ms < 0 || ms > kMaxSleep.count()) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace

void add_builtin_site(Server& server, Sleeper& sleeper) {
  server.fixed("/", Response::html(200, std::string(kHelloHtml)));
  // Runs on a pool worker, like the seed's /sleep: it occupies one worker and never a loop.
  server.get("/sleep", [&sleeper](const Request& request) {
    const auto duration = sleep_duration(request);
    if (!duration) {
      return Response::text(400, "ms must be a whole number of milliseconds from 0 to " +
                                     std::to_string(kMaxSleep.count()) + "\n");
    }
    if (!sleeper.sleep_for(*duration)) {
      return Response::text(503, "weft is shutting down\n");
    }
    return Response::html(200, std::string(kHelloHtml));
  });
  server.not_found(Response::html(404, std::string(kNotFoundHtml)));
}

}  // namespace weft::app
