# Install rules: headers, xarch::cpp (static core), xarch::c (libxarch.so.N), the CMake package
# (find_package(xarch CONFIG)) and xarch.pc for the C library.
include(CMakePackageConfigHelpers)

set(XARCH_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/xarch" CACHE STRING
    "Where the CMake package files go, relative to the prefix")
set(XARCH_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig" CACHE STRING
    "Where xarch.pc goes, relative to the prefix")

install(DIRECTORY include/ capi/include/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    COMPONENT devel
    FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

install(TARGETS xarch_core xarch_c
    EXPORT xarch-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT devel
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

install(EXPORT xarch-targets
    NAMESPACE xarch::
    DESTINATION ${XARCH_INSTALL_CMAKEDIR}
    COMPONENT devel)

configure_package_config_file(cmake/xarch-config.cmake.in
    ${PROJECT_BINARY_DIR}/xarch-config.cmake
    INSTALL_DESTINATION ${XARCH_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xarch-config-version.cmake
    COMPATIBILITY SameMajorVersion)
install(FILES
        ${PROJECT_BINARY_DIR}/xarch-config.cmake
        ${PROJECT_BINARY_DIR}/xarch-config-version.cmake
    DESTINATION ${XARCH_INSTALL_CMAKEDIR}
    COMPONENT devel)

# The prefix is found from the .pc file's own place (${pcfiledir}), so that the installed tree
# works wherever it is put (cmake --install --prefix, a package manager's staging folder).
file(RELATIVE_PATH XARCH_PC_TO_PREFIX "/${XARCH_INSTALL_PKGCONFIGDIR}" "/")
string(REGEX REPLACE "/$" "" XARCH_PC_TO_PREFIX "${XARCH_PC_TO_PREFIX}")
configure_file(cmake/xarch.pc.in ${PROJECT_BINARY_DIR}/xarch.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/xarch.pc
    DESTINATION ${XARCH_INSTALL_PKGCONFIGDIR}
    COMPONENT devel)

# Consumers of the build tree (add_subdirectory users get the targets directly).
export(EXPORT xarch-targets NAMESPACE xarch:: FILE ${PROJECT_BINARY_DIR}/xarch-targets.cmake)
