// Built against an installed weft by tests/install/find_package_test.sh.
#include <weft/thread_pool.hpp>

#include <cstdio>

int main() {
  weft::ThreadPool pool(2);
  auto answer = pool.submit([] { return 6 * 7; });
  const int value = answer.get();
  std::printf("installed weft answered %d\n", value);
  return value == 42 ? 0 : 1;
}
