# context-scan (issue 4): scan + hash a 20,000-file / 200 MB context against openssl's SHA-256
# figure, and a warm re-scan with the stat cache. Run it by hand (the context is made once, in
# TMPDIR):
#   build/tests/bench_context_scan
# ctest runs it on a tiny context (label bench) to check that cached and uncached scans agree;
# nothing is timed.
add_executable(bench_context_scan ${CMAKE_CURRENT_LIST_DIR}/context-scan.cpp)
xarch_set_compile_options(bench_context_scan)
target_link_libraries(bench_context_scan PRIVATE xarch::cpp)
add_test(NAME bench_context_scan_smoke
    COMMAND bench_context_scan --smoke --files 300 --mb 2 --rounds 1
        --dir ${CMAKE_CURRENT_BINARY_DIR}/context-scan-smoke)
set_tests_properties(bench_context_scan_smoke PROPERTIES LABELS bench TIMEOUT 120
    PASS_REGULAR_EXPRESSION "correct: yes")
