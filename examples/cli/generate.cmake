# SPDX-License-Identifier: Apache-2.0
# Runs TOOL with ARGS (comma-separated) and writes what it prints to OUTPUT; fails the build when
# the tool fails. Used for the files the xarch tool generates from its command tree.
string(REPLACE "," ";" ARGS "${ARGS}")
execute_process(COMMAND ${TOOL} ${ARGS}
    OUTPUT_FILE ${OUTPUT}.tmp
    RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    file(REMOVE ${OUTPUT}.tmp)
    message(FATAL_ERROR "${TOOL} ${ARGS} failed: ${status}")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
