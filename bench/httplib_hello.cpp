// The same tiny handler as weft's pool route, in cpp-httplib (thread per
// connection from a pool): the peer for bench/compare's "pool handler" row.
//   httplib_hello PORT FILE
#include <httplib.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: httplib_hello PORT FILE\n";
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  const std::string page = content.str();
  httplib::Server server;
  server.Get(
      "/", [&page](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/html"); });
  std::cout << "listening" << std::endl;
  return server.listen("127.0.0.1", std::stoi(argv[1])) ? 0 : 1;
}
