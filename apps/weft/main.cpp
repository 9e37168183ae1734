// weft command line. Issue 3 turns this into the full CLI (Config -> Server);
// for now it reports its version and usage and refuses what it cannot do yet.
#include <cstdio>
#include <cstring>

namespace {

constexpr const char* kUsage =
    "usage: weft [-h|--help] [-V|--version]\n"
    "  The HTTP server lands with issue 3; this build only provides libweft's ThreadPool.\n";

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "-h") == 0 || std::strcmp(arg, "--help") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (std::strcmp(arg, "-V") == 0 || std::strcmp(arg, "--version") == 0) {
      std::puts("weft " WEFT_VERSION);
      return 0;
    }
    std::fprintf(stderr, "weft: unknown argument '%s' (try --help)\n", arg);
    return 2;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
