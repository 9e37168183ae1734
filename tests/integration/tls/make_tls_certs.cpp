// make_tls_certs DIR: the ctest fixture that makes the TLS tests' certificates once per run
// (support/tls_certs.hpp); DIR is emptied first.

#include <exception>
#include <iostream>

#include "support/tls_certs.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_tls_certs DIR\n";
    return 2;
  }
  try {
    const weft::test::TlsCerts certs = weft::test::make_tls_certs(argv[1]);
    std::cout << "TLS test certificates in " << certs.dir << "\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "make_tls_certs: " << error.what() << "\n";
    return 1;
  }
}
