#include "privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace weft::app {
namespace {

std::optional<unsigned long> parse_id(std::string_view text) {
  unsigned long value = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  // (uid_t)-1 means "unchanged" to the set*id calls: never a real id.
  if (text.empty() || ec != std::errc{} || end != last || value >= 0xffffffffUL) return std::nullopt;
  return value;
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// getpwnam_r / getpwuid_r / getgrnam_r with a buffer that grows until the entry fits.
template <typename Entry, typename Key, typename Lookup>
std::optional<Entry> lookup(Key key, Lookup call, std::vector<char>& buffer) {
  buffer.resize(4096);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    const int rc = call(key, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (std::size_t{1} << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return std::nullopt;
    return entry;
  }
}

// The supplementary groups the kernel holds for this process, sorted.
std::vector<gid_t> current_groups() {
  const int n = ::getgroups(0, nullptr);
  std::vector<gid_t> groups(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n > 0 && ::getgroups(n, groups.data()) != n) groups.clear();
  std::sort(groups.begin(), groups.end());
  return groups;
}

// The groups initgroups() gives `who`, sorted and without duplicates.
std::vector<gid_t> expected_groups(const Identity& who) {
  std::vector<gid_t> groups{who.gid};
  if (who.named) {
    int n = 64;
    for (int tries = 0; tries < 8; ++tries) {
      groups.assign(static_cast<std::size_t>(n), 0);
      int count = n;
      if (::getgrouplist(who.user.c_str(), who.gid, groups.data(), &count) >= 0) {
        groups.resize(static_cast<std::size_t>(count));
        break;
      }
      n = count > n ? count : n * 2;
    }
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  return groups;
}

// The capability sets of this process that are not empty, e.g. "CapEff 00000000a80425fb".
std::string capabilities_left() {
  std::ifstream status("/proc/self/status");
  std::string line;
  std::string left;
  while (std::getline(status, line)) {
    for (const char* field : {"CapPrm:", "CapEff:", "CapAmb:"}) {
      if (line.rfind(field, 0) != 0) continue;
      const std::string value = line.substr(line.find_first_not_of(" \t", std::strlen(field)));
      if (value.find_first_not_of('0') != std::string::npos) {
        left += (left.empty() ? "" : ", ") + std::string(field, std::strlen(field) - 1) + " " + value;
      }
    }
  }
  return left;
}

bool already(const Identity& who) {
  uid_t ruid = 0;
  uid_t euid = 0;
  uid_t suid = 0;
  gid_t rgid = 0;
  gid_t egid = 0;
  gid_t sgid = 0;
  ::getresuid(&ruid, &euid, &suid);
  ::getresgid(&rgid, &egid, &sgid);
  return ruid == who.uid && euid == who.uid && suid == who.uid && rgid == who.gid && egid == who.gid &&
         sgid == who.gid;
}

}  // namespace

std::variant<Identity, std::string> resolve_identity(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  const std::string_view user_part = spec.substr(0, colon);
  const std::string_view group_part =
      colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  if (user_part.empty() || (colon != std::string_view::npos && group_part.empty()) ||
      group_part.find(':') != std::string_view::npos) {
    return "--user: expected NAME or NAME:GROUP, got '" + std::string(spec) + "'";
  }
  Identity who;
  std::vector<char> buffer;
  const std::string user_text(user_part);
  std::optional<passwd> pw = lookup<passwd>(user_text.c_str(), ::getpwnam_r, buffer);
  if (!pw) {
    const auto id = parse_id(user_part);
    if (!id) return "--user: no user '" + user_text + "'";
    pw = lookup<passwd>(static_cast<uid_t>(*id), ::getpwuid_r, buffer);
    if (!pw && group_part.empty()) {
      return "--user: uid " + user_text + " has no passwd entry, so no group: name it (" + user_text +
             ":GROUP)";
    }
    who.uid = static_cast<uid_t>(*id);
  }
  if (pw) {
    who.uid = pw->pw_uid;
    who.gid = pw->pw_gid;
    who.user = pw->pw_name;
    who.named = true;
  } else {
    who.user = user_text;
  }
  const std::string group_text(group_part);
  if (group_part.empty()) {
    who.gid = pw->pw_gid;  // pw exists: checked above
    const std::optional<::group> gr = lookup<::group>(who.gid, ::getgrgid_r, buffer);
    who.group = gr ? gr->gr_name : std::to_string(who.gid);
    return who;
  }
  if (const std::optional<::group> gr = lookup<::group>(group_text.c_str(), ::getgrnam_r, buffer)) {
    who.gid = gr->gr_gid;
    who.group = gr->gr_name;
    return who;
  }
  const auto id = parse_id(group_part);
  if (!id) return "--user: no group '" + group_text + "'";
  who.gid = static_cast<gid_t>(*id);
  who.group = group_text;
  return who;
}

std::string check_can_become(const Identity& who) {
  if (::geteuid() == 0 || already(who)) return {};
  return "--user " + who.user + ": changing users needs root (weft runs as uid " +
         std::to_string(::geteuid()) + ")";
}

std::string hand_over_file(const std::string& path, const Identity& who) {
  struct stat st {};
  if (::geteuid() != 0 || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid == who.uid) {
    return {};
  }
  if (::chown(path.c_str(), who.uid, static_cast<gid_t>(-1)) != 0) {
    return "--user " + who.user + ": cannot make it the owner of " + path + " (" + errno_text(errno) +
           "): a new process after SIGUSR2 will not be able to open it";
  }
  return {};
}

std::string become(const Identity& who) {
  if (::geteuid() != 0) return check_can_become(who);  // nothing to do, or not allowed
  const std::string name = "--user " + who.user + ":" + who.group + ": ";
  // Groups first: once the uid is not root, neither they nor the gid can change any more.
  if (who.named) {
    if (::initgroups(who.user.c_str(), who.gid) != 0) return name + "initgroups: " + errno_text(errno);
  } else if (::setgroups(1, &who.gid) != 0) {
    return name + "setgroups: " + errno_text(errno);
  }
  if (::setresgid(who.gid, who.gid, who.gid) != 0) return name + "setresgid: " + errno_text(errno);
  if (::setresuid(who.uid, who.uid, who.uid) != 0) return name + "setresuid: " + errno_text(errno);

  // Trust nothing: read back what the kernel holds.
  if (!already(who)) return name + "the user and group ids did not all change";
  if (current_groups() != expected_groups(who)) return name + "the supplementary groups are not the ones set";
  if (who.uid != 0) {
    if (const std::string caps = capabilities_left(); !caps.empty()) {
      return name + "capabilities remain after the change (" + caps + ")";
    }
    // Each of these must fail now; one that succeeds means root is still within reach.
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return name + "root's uid could be taken back";
    if (who.gid != 0 && (::setgid(0) == 0 || ::setegid(0) == 0))
      return name + "root's gid could be taken back";
  }
  return {};
}

}  // namespace weft::app
