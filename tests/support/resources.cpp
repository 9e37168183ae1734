#include "support/resources.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace weft::test {

std::size_t raise_fd_limit(std::size_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min<rlim_t>(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return 0;
}

long cpu_ticks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  long total = 0;
  // Fields 14 (utime) and 15 (stime) of proc(5); the stream starts at field 3.
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i >= 14) total += std::stol(field);
  }
  return total;
}

namespace {

// The entries of /proc/PID/fd: the numbers of the descriptors open in `pid`.
std::vector<std::string> fd_numbers(pid_t pid) {
  std::vector<std::string> numbers;
  if (DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') numbers.emplace_back(entry->d_name);
    }
    ::closedir(dir);
  }
  return numbers;
}

}  // namespace

std::size_t open_fds(pid_t pid) { return fd_numbers(pid).size(); }

namespace {

// inode -> "STATE local_port->remote_port" for every TCP socket of the host (both families).
std::map<std::string, std::string> tcp_sockets() {
  static constexpr std::array<const char*, 12> kStates = {
      "?",         "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
      "TIME_WAIT", "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING"};
  std::map<std::string, std::string> sockets;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the column names
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      const auto port = [](const std::string& address) {
        const std::size_t colon = address.rfind(':');
        return colon == std::string::npos
                   ? std::string("?")
                   : std::to_string(std::stoul(address.substr(colon + 1), nullptr, 16));
      };
      const unsigned long code = state.empty() ? 0 : std::stoul(state, nullptr, 16);
      sockets[inode] =
          std::string(code < kStates.size() ? kStates[code] : "?") + " " + port(local) + "->" + port(remote);
    }
  }
  return sockets;
}

}  // namespace

std::string describe_fds(pid_t pid) {
  const std::string dir_path = "/proc/" + std::to_string(pid) + "/fd";
  const std::map<std::string, std::string> sockets = tcp_sockets();
  std::string text;
  for (const std::string& number : fd_numbers(pid)) {
    std::array<char, 256> target{};
    const ssize_t n = ::readlink((dir_path + "/" + number).c_str(), target.data(), target.size() - 1);
    std::string line = number + " " + (n > 0 ? std::string(target.data(), static_cast<std::size_t>(n)) : "?");
    if (line.find("socket:[") != std::string::npos) {
      const std::size_t open = line.find('[') + 1;
      const auto found = sockets.find(line.substr(open, line.find(']') - open));
      if (found != sockets.end()) line += " tcp " + found->second;
    }
    text += line + "\n";
  }
  return text;
}

}  // namespace weft::test
