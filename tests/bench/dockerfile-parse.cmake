# dockerfile-parse (issue 4): parse the 30 largest parser-corpus Dockerfiles 1,000 times each and
# print the time per file. Run it by hand:
#   build/tests/bench_dockerfile_parse ../shared/conformance/dockerfile-parser
# ctest runs one iteration only (label bench), to show it works; nothing is timed.
add_executable(bench_dockerfile_parse ${CMAKE_CURRENT_LIST_DIR}/dockerfile-parse.cpp)
xarch_set_compile_options(bench_dockerfile_parse)
target_include_directories(bench_dockerfile_parse PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_link_libraries(bench_dockerfile_parse PRIVATE xarch::cpp)
if(IS_DIRECTORY "${XARCH_CONFORMANCE_DIR}/dockerfile-parser")
    add_test(NAME bench_dockerfile_parse_smoke
        COMMAND bench_dockerfile_parse "${XARCH_CONFORMANCE_DIR}/dockerfile-parser" 1)
    set_tests_properties(bench_dockerfile_parse_smoke PROPERTIES LABELS bench TIMEOUT 60
        PASS_REGULAR_EXPRESSION "total: [0-9]+ files x 1 parses")
endif()
