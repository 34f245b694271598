# xarch_set_compile_options(target): the warnings, language level and sanitizers every xarch
# target is built with.
function(xarch_set_compile_options target)
    target_compile_features(${target} PRIVATE cxx_std_20)
    target_compile_options(${target} PRIVATE
        $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion
            -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual>
        $<$<COMPILE_LANG_AND_ID:C,GNU,Clang>:-Wall -Wextra -Wpedantic>)
    # GCC 12 reports -Wrestrict inside libstdc++'s std::string operator+ at -O2 (GCC bug 105329,
    # a false positive fixed in GCC 13): keep it from failing -Werror builds.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
    endif()
    if(XARCH_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

# Sanitizers apply to everything in the tree (the library, tests and the extension alike), so
# they are set globally.
if(XARCH_SANITIZE)
    add_compile_options(-fsanitize=${XARCH_SANITIZE} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${XARCH_SANITIZE})
endif()
