// The tiny handler of bench/compare's "pool handler" row, on weft: a route
// whose handler runs on the ThreadPool and returns the seed's hello.html.
//   weft_hello PORT FILE [THREADS]     (1 loop, THREADS pool threads (default 1), no access log)
// WEFT_HELLO_METRICS=PORT adds the metrics listener on 127.0.0.1:PORT, so that a run can read
// the pool's wake-ups and polls per request.
#include <weft/server.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: weft_hello PORT FILE [THREADS]\n";
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  const std::string page = content.str();
  weft::Config config;
  config.port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  config.loops = 1;
  config.threads = argc == 4 ? static_cast<std::size_t>(std::stoul(argv[3])) : 1;
  if (const char* metrics = std::getenv("WEFT_HELLO_METRICS")) {
    config.metrics = weft::MetricsListener{"127.0.0.1", static_cast<std::uint16_t>(std::stoi(metrics))};
  }
  weft::Server server(config);
  server.get("/", [&page](const weft::Request&) { return weft::Response::html(200, page); });
  server.run();
  return 0;
}
