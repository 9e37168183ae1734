# The Debian package: `cmake --preset package && cmake --build --preset package` then
# `cpack -G DEB` in build/package (README, "Running in production"; tests/package checks it).
#
# WEFT_INSTALL_SYSTEM_FILES adds what only a system-wide package installs, at absolute paths that
# no --prefix moves: the systemd units in /lib/systemd/system (where Debian 12 packages put them),
# /etc/default/weft, /etc/logrotate.d/weft, /etc/weft/weft.toml, and the Debian copyright and changelog. Off by
# default, so that `cmake --install --prefix DIR` stays inside DIR.
option(WEFT_INSTALL_SYSTEM_FILES "Install the systemd units and /etc files (for the Debian package)" OFF)

if(WEFT_INSTALL_SYSTEM_FILES)
  install(FILES packaging/weft.service packaging/weft.socket DESTINATION /lib/systemd/system)
  install(FILES packaging/weft.default DESTINATION /etc/default RENAME weft)
  install(FILES packaging/weft.logrotate DESTINATION /etc/logrotate.d RENAME weft)
  # The example configuration file, and the document root its first site serves.
  install(FILES packaging/weft.toml DESTINATION /etc/weft)
  install(FILES site/hello.html DESTINATION ${CMAKE_INSTALL_DATADIR}/weft/www RENAME index.html)
  install(FILES site/404.html DESTINATION ${CMAKE_INSTALL_DATADIR}/weft/www)
  configure_file(packaging/changelog.in ${CMAKE_CURRENT_BINARY_DIR}/changelog @ONLY)
  add_custom_command(
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz
    COMMAND gzip -9nf -k ${CMAKE_CURRENT_BINARY_DIR}/changelog
    DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog
    VERBATIM)
  add_custom_target(weft_changelog ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
  install(FILES packaging/copyright ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME weft)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the weft developers")
set(CPACK_PACKAGE_CONTACT "weft developers <dev@weft.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps turns the binary's libraries into Depends (libc6, libssl3, libstdc++6, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The synopsis, then the long description (CPack indents it and writes empty lines as " .").
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "multithreaded HTTP/1.1 and HTTPS server and C++20 library")
set(CPACK_PACKAGE_DESCRIPTION "weft serves static files (listings, validators, ranges, precompressed
variants) or a built-in demonstration site over HTTP/1.1 and HTTPS, with
event loops that own the sockets and a thread pool for handlers.

The package holds the weft program with its systemd units (a Type=notify
service and socket activation), /etc/default/weft and a logrotate
configuration, and libweft: the static library, its headers, its CMake
package and weft.pc.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
