/* nncl/export.h: symbol visibility; the library builds with -fvisibility=hidden. */
#ifndef NNCL_EXPORT_H
#define NNCL_EXPORT_H
#if defined(NNCL_BUILDING_LIBRARY) && defined(__GNUC__)
#define NNCL_API __attribute__((visibility("default")))
#else
#define NNCL_API
#endif
#endif
