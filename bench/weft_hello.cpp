// The tiny handler of bench/compare's "pool handler" row, on weft: a route
// whose handler runs on the ThreadPool and returns the seed's hello.html.
//   weft_hello PORT FILE [THREADS]     (1 loop, THREADS pool threads (default 1), no access log)
#include <weft/server.hpp>

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
  weft::Server server(config);
  server.get("/", [&page](const weft::Request&) { return weft::Response::html(200, page); });
  server.run();
  return 0;
}
