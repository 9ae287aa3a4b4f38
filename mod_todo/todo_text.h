/* todo_text: checks on text the API receives (UTF-8, UUIDs, hex digits,
 * media types).  Free of httpd. */
#ifndef TODO_TEXT_H
#define TODO_TEXT_H

#include <apr_pools.h>

/* The value of a hexadecimal digit (either case), or -1. */
int todo_text_hex_value(unsigned char c);

/* 1 when s is exactly a UUID in 8-4-4-4-12 hex form (either case). */
int todo_text_is_uuid(const char *s);

/* Number of Unicode code points in the n bytes at s, or -1 when they are
 * not valid UTF-8 (overlongs, surrogates, > U+10FFFF included). */
long todo_text_utf8_length(const char *s, apr_size_t n);

/* 1 when s (valid UTF-8) is empty or holds only Unicode White_Space code
 * points (U+0009-000D, 0020, 0085, 00A0, 1680, 2000-200A, 2028, 2029,
 * 202F, 205F, 3000). */
int todo_text_is_blank(const char *s);

/* Case-insensitive ASCII compare of a media type against
 * "application/json", ignoring parameters (";charset=utf-8") and
 * surrounding blanks.  1 on match. */
int todo_text_is_json_type(const char *content_type);

#endif
