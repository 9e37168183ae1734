// smuggling_probe PORT PATH: sends every case of smuggling_cases.hpp as POST PATH to
// 127.0.0.1:PORT, each on its own connection, and prints one tab-separated line per case:
//   name <TAB> statuses ("400", "405+400", "none") <TAB> closed|open <TAB> smuggled|-
// ("smuggled": a response came for the hidden GET /smuggled, i.e. more responses than requests
// the server should have seen). smuggling_compare.sh runs it against weft and nginx.
#include <charconv>
#include <iostream>
#include <string>

#include "smuggling_cases.hpp"
#include "support/stress.hpp"

int main(int argc, char** argv) {
  using namespace weft::stress;
  if (argc != 3) {
    std::cerr << "usage: smuggling_probe PORT PATH\n";
    return 2;
  }
  unsigned port = 0;
  const std::string port_text = argv[1];
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  const std::string path = argv[2];
  for (const SmugglingCase& c : smuggling_cases()) {
    std::vector<Fd> conn = open_connections(static_cast<std::uint16_t>(port), 1);
    if (conn.empty()) {
      std::cout << c.name << "\tconnect failed\t-\t-\n";
      continue;
    }
    (void)send_all(conn.front().get(), smuggling_request(c, path));
    const Drained d = read_until_close(conn.front().get(), 3s);
    const Responses r = split_responses(d.bytes);
    std::string statuses;
    for (const int s : r.statuses) statuses += (statuses.empty() ? "" : "+") + std::to_string(s);
    if (statuses.empty()) statuses = "none";
    if (!r.rest.empty()) statuses += "+garbage";
    std::cout << c.name << '\t' << statuses << '\t' << (d.closed ? "closed" : "open") << '\t'
              << (r.statuses.size() > 1 ? "smuggled" : "-") << '\n';
  }
  return 0;
}
