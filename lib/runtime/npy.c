/* npy.c: NumPy .npy files in and out (float32 and int64, little-endian, C order), so tools and
   tests exchange tensors with NumPy. Parsing is strict: anything unexpected is a named error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static const unsigned char NPY_MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Finds 'key': in the header dict and returns a pointer just past the colon and spaces. */
static const char *dict_value(const char *hdr, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(hdr, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

nncl_status nncl_npy_parse(nncl_context *ctx, const void *bytes, size_t len, nncl_array *out) {
  if (!bytes || !out) return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  const unsigned char *b = bytes;
  if (len < 10 || memcmp(b, NPY_MAGIC, 6) != 0)
    return nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: missing \\x93NUMPY magic (not an .npy file)");
  unsigned major = b[6];
  size_t hlen, pos;
  if (major == 1) {
    hlen = (size_t)b[8] | ((size_t)b[9] << 8);
    pos = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12) return nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: truncated header");
    hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
    pos = 12;
  } else {
    return nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: unsupported format version %u", major);
  }
  if (hlen > len - pos || hlen > 65536)
    return nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: header length %zu exceeds the file", hlen);
  char *hdr = malloc(hlen + 1);
  if (!hdr) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, ".npy header");
  memcpy(hdr, b + pos, hlen);
  hdr[hlen] = 0;
  pos += hlen;
  nncl_status st = NNCL_OK;
  const char *descr = dict_value(hdr, "descr");
  const char *order = dict_value(hdr, "fortran_order");
  const char *shape = dict_value(hdr, "shape");
  nncl_dtype dt = NNCL_UNDEFINED;
  nncl_shape sh = {0};
  if (!descr || !order || !shape) {
    st = nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: header lacks descr, fortran_order or shape: %s",
                     hdr);
  } else if (strncmp(descr, "'<f4'", 5) == 0) {
    dt = NNCL_FLOAT32;
  } else if (strncmp(descr, "'<i8'", 5) == 0) {
    dt = NNCL_INT64;
  } else {
    char d[16] = {0};
    sscanf(descr, "'%15[^']", d);
    st = nncl__error(ctx, NNCL_ERR_FORMAT,
                     ".npy: dtype '%s' unsupported (float32 '<f4' or int64 '<i8' only)", d);
  }
  if (st == NNCL_OK && strncmp(order, "False", 5) != 0)
    st = nncl__error(ctx, NNCL_ERR_FORMAT,
                     ".npy: Fortran-order arrays are unsupported; save with C order");
  if (st == NNCL_OK) {
    const char *p = shape;
    if (*p != '(') st = nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: malformed shape in header");
    p++;
    while (st == NNCL_OK) {
      while (*p == ' ' || *p == ',') p++;
      if (*p == ')') break;
      char *end;
      long long v = strtoll(p, &end, 10);
      if (end == p || v < 0) {
        st = nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: malformed shape in header");
      } else if (sh.rank == NNCL_MAX_RANK) {
        st = nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: rank above %d", NNCL_MAX_RANK);
      } else {
        sh.dims[sh.rank++] = v;
        p = end;
      }
    }
  }
  free(hdr);
  if (st != NNCL_OK) return st;
  NNCL_TRY(nncl__shape_check(ctx, NNCL_ERR_SHAPE, &sh, dt, ".npy"));
  size_t need = nncl_array_bytes(&(nncl_array){.dtype = dt, .shape = sh});
  if (len - pos < need)
    return nncl__error(ctx, NNCL_ERR_FORMAT, ".npy: data truncated (%zu of %zu bytes)", len - pos,
                       need);
  if (nncl_array_alloc(out, dt, &sh) != NNCL_OK)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, ".npy data of %zu bytes", need);
  memcpy(out->data, b + pos, need);
  return NNCL_OK;
}

nncl_status nncl_npy_load(nncl_context *ctx, const char *path, nncl_array *out) {
  if (!path || !out) return NNCL_ERR_INVALID_ARGUMENT;
  FILE *f;
  uint64_t size;
  NNCL_TRY(nncl__open_regular(ctx, path, ".npy", &f, &size));
  if (size >= SIZE_MAX) {
    fclose(f);
    return nncl__error(ctx, NNCL_ERR_IO, "%s: %llu bytes do not fit in memory", path,
                       (unsigned long long)size);
  }
  size_t n = (size_t)size;
  unsigned char *buf = malloc(n + 1);
  size_t got = buf ? fread(buf, 1, n, f) : 0;
  fclose(f);
  if (!buf || got != n) {
    free(buf);
    return buf ? nncl__error(ctx, NNCL_ERR_IO, "cannot read %s", path)
               : nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: %zu bytes", path, n);
  }
  nncl_status st = nncl_npy_parse(ctx, buf, n, out);
  free(buf);
  if (st != NNCL_OK && ctx) {
    char msg[sizeof ctx->last_error];
    memcpy(msg, ctx->last_error, sizeof msg);
    snprintf(ctx->last_error, sizeof ctx->last_error, "%.1024s: %.3000s", path, msg);
  }
  return st;
}

nncl_status nncl_npy_save(nncl_context *ctx, const char *path, const nncl_array *a) {
  if (!path || !a)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_npy_save: %s is NULL",
                       !path ? "path" : "array");
  NNCL_TRY(nncl__shape_check(ctx, NNCL_ERR_SHAPE, &a->shape, a->dtype, path));
  if (!a->data && nncl_array_bytes(a))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "%s: array has no data", path);
  const char *descr = a->dtype == NNCL_FLOAT32 ? "<f4" : a->dtype == NNCL_INT64 ? "<i8" : NULL;
  if (!descr)
    return nncl__error(ctx, NNCL_ERR_DTYPE, "%s: .npy output supports float32 and int64, not %s",
                       path, nncl_dtype_name(a->dtype));
  char dict[512];
  int w = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < a->shape.rank; i++)
    w += snprintf(dict + w, sizeof dict - (size_t)w, "%lld%s", (long long)a->shape.dims[i],
                  a->shape.rank == 1      ? ","
                  : i + 1 < a->shape.rank ? ", "
                                          : "");
  w += snprintf(dict + w, sizeof dict - (size_t)w, "), }");
  /* Pad with spaces so magic + header is a multiple of 64 bytes, ending in '\n'. */
  size_t total = 10 + (size_t)w + 1;
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)w + pad + 1;
  FILE *f = fopen(path, "wb");
  if (!f) return nncl__error(ctx, NNCL_ERR_IO, "cannot create %s", path);
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)w, f) == (size_t)w;
  for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  size_t bytes = nncl_array_bytes(a);
  ok = ok && fwrite(a->data, 1, bytes, f) == bytes;
  if (fclose(f) != 0) ok = 0;
  if (!ok) return nncl__error(ctx, NNCL_ERR_IO, "cannot write %s", path);
  return NNCL_OK;
}
