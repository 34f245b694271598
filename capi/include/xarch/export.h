/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: the export macro. Part of the stable C ABI (libxarch.so.0). */
#ifndef XARCH_EXPORT_H
#define XARCH_EXPORT_H

/* XARCH_API marks the functions libxarch exports. The library is built with hidden visibility and
 * a linker version script, so nothing else leaves it. XARCH_BUILDING_C_API is defined only while
 * the library itself is compiled; consumers see a plain declaration. */
#if defined(_WIN32)
#if defined(XARCH_BUILDING_C_API)
#define XARCH_API __declspec(dllexport)
#else
#define XARCH_API __declspec(dllimport)
#endif
#elif defined(XARCH_BUILDING_C_API) && (defined(__GNUC__) || defined(__clang__))
#define XARCH_API __attribute__((visibility("default")))
#else
#define XARCH_API
#endif

#ifdef __cplusplus
#define XARCH_EXTERN_C_BEGIN extern "C" {
#define XARCH_EXTERN_C_END }
#else
#define XARCH_EXTERN_C_BEGIN
#define XARCH_EXTERN_C_END
#endif

#endif /* XARCH_EXPORT_H */
