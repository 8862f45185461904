/* profile_util.c: text helpers the profile writers share. */
#include <stdio.h>
#include <string.h>

#include "profile_write.h"

char *profile_shapes(const nncl_node_info *n, int outputs, char *buf, size_t len) {
  if (!len) return buf;
  buf[0] = 0;
  int count = outputs ? n->n_out : n->n_in;
  int cap = outputs ? (int)(sizeof n->out_shapes / sizeof *n->out_shapes)
                    : (int)(sizeof n->in_shapes / sizeof *n->in_shapes);
  if (count > cap) count = cap;
  size_t used = 0;
  for (int i = 0; i < count && used + 1 < len; i++) {
    char s[160];
    nncl_shape_format(outputs ? &n->out_shapes[i] : &n->in_shapes[i], s, sizeof s);
    int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", s);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (used >= len) buf[len - 1] = 0;
  return buf;
}
