#pragma once
// The built-in site served when weft runs without ROOT: the seed's two pages
// (site/hello.html, site/404.html, embedded into the binary at build time) and
// the seed's slow route.
//
//   GET /            hello.html, 200 (answered on the event loop)
//   GET /sleep?ms=N  sleeps N ms on a pool worker (default 5000, at most 60000),
//                    then hello.html; a bad N -> 400; cancelled by shutdown -> 503
//   anything else    404.html, 404
// (/events and /upload, the streaming routes, are in demo_streams.hpp.)

#include <chrono>
#include <string_view>

#include "sleeper.hpp"
#include "weft/server.hpp"

namespace weft::app {

/// The exact bytes of site/hello.html and site/404.html (generated: builtin_site_data.cpp).
extern const std::string_view kHelloHtml;
extern const std::string_view kNotFoundHtml;

inline constexpr std::chrono::milliseconds kDefaultSleep{5000};  ///< the seed's thread::sleep(5 s)
inline constexpr std::chrono::milliseconds kMaxSleep{60'000};

/// Registers the built-in site on `server`. `sleeper` must outlive `server`.
void add_builtin_site(Server& server, Sleeper& sleeper);

}  // namespace weft::app
