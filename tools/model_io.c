/* model_io.c: shared helpers of the model-level commands (see model_io.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"

nncl_graph *mi_load_model(nncl_context *ctx, const char *path) {
  nncl_graph *g = NULL;
  nncl_status st = nncl_onnx_load(ctx, path, &g);
  if (st != NNCL_OK) {
    cli_fail(ctx, st, path);
    return NULL;
  }
  return g;
}

int mi_ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

uint64_t mi_checked_bytes(nncl_dtype dt, const nncl_shape *shape) {
  uint64_t n = nncl_dtype_size(dt);
  for (int d = 0; d < shape->rank; d++) {
    if (shape->dims[d] < 0) return 0;
    if (shape->dims[d] && n > ((uint64_t)1 << 62) / (uint64_t)shape->dims[d]) return 0;
    n *= (uint64_t)shape->dims[d];
  }
  return n;
}

/* D0,D1,... (or D0xD1x...) into s; -1 when malformed. */
static int parse_dims(const char *text, nncl_shape *s) {
  int rank = 0;
  const char *p = text;
  while (*p) {
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 0 || errno == ERANGE || rank >= NNCL_MAX_RANK) return -1;
    s->dims[rank++] = v;
    p = end;
    if (*p == ',' || *p == 'x')
      p++;
    else if (*p)
      return -1;
  }
  s->rank = rank;
  return 0;
}

/* The DIMS of the --shape NAME=DIMS naming this input, or NULL. */
static const char *shape_spec(const mi_sizes *sz, const char *name) {
  size_t len = strlen(name);
  for (int k = 0; sz && k < sz->n_shapes; k++) {
    const char *eq = strrchr(sz->shapes[k], '=');
    if (eq && (size_t)(eq - sz->shapes[k]) == len && strncmp(sz->shapes[k], name, len) == 0)
      return eq + 1;
  }
  return NULL;
}

int mi_parse_size_option(int argc, char **argv, int *i, mi_sizes *sz, const char *cmd) {
  const char *v;
  if ((v = cli_value(argc, argv, i, "--batch"))) {
    char *end;
    errno = 0;
    long long b = strtoll(v, &end, 10);
    if (*v == 0 || *end || errno == ERANGE || b < 1 || b > ((long long)1 << 40)) {
      fprintf(stderr, "nncl %s: --batch takes a whole number from 1 to 2^40, not \"%s\"\n", cmd, v);
      return -1;
    }
    sz->batch = b;
    return 1;
  }
  if ((v = cli_value(argc, argv, i, "--shape"))) {
    nncl_shape s;
    const char *eq = strrchr(v, '=');
    if (!eq || eq == v || parse_dims(eq + 1, &s) != 0) {
      fprintf(stderr, "nncl %s: --shape %s: expected NAME=D0,D1,... (whole numbers >= 0)\n", cmd,
              v);
      return -1;
    }
    if (sz->n_shapes == (int)(sizeof sz->shapes / sizeof *sz->shapes)) {
      fprintf(stderr, "nncl %s: at most 16 --shape options\n", cmd);
      return -1;
    }
    sz->shapes[sz->n_shapes++] = v;
    return 1;
  }
  return 0;
}

void mi_list_inputs(const nncl_graph *g, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = 0;
  for (int i = 0; i < nncl_graph_num_inputs(g) && off < len; i++) {
    nncl_dtype dt = NNCL_UNDEFINED;
    nncl_shape s = {0};
    char sb[128] = "(shape unknown)";
    nncl_graph_input_info(g, i, &dt, &s);
    if (s.rank >= 0) nncl_shape_format(&s, sb, sizeof sb);
    int w = snprintf(buf + off, len - off, "%s'%s' %s %s", i ? ", " : "",
                     nncl_graph_input_name(g, i), nncl_dtype_name(dt), sb);
    if (w < 0) break;
    off += (size_t)w;
  }
}

int mi_batch_axis(const nncl_shape *declared) {
  if (declared->rank < 1 || declared->rank > NNCL_MAX_RANK) return -1;
  for (int d = 0; d < declared->rank; d++)
    if (declared->dims[d] < 0) return d; /* dim 0 when open, else the first open one */
  return -1;
}

int mi_check_sizes(const nncl_graph *g, const mi_sizes *sz, const char *cmd) {
  char list[1024];
  for (int k = 0; k < sz->n_shapes; k++) {
    const char *eq = strrchr(sz->shapes[k], '=');
    int found = -1;
    for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
      const char *nm = nncl_graph_input_name(g, i);
      if (strlen(nm) == (size_t)(eq - sz->shapes[k]) &&
          strncmp(nm, sz->shapes[k], (size_t)(eq - sz->shapes[k])) == 0)
        found = i;
    }
    if (found < 0) {
      mi_list_inputs(g, list, sizeof list);
      fprintf(stderr, "nncl %s: --shape %s: the model has no input \"%.*s\"; its inputs: %s\n", cmd,
              sz->shapes[k], (int)(eq - sz->shapes[k]), sz->shapes[k], list);
      return 1;
    }
  }
  if (sz->batch <= 0) return 0;
  int applies = 0, n = 0;
  const char *fixed_name = NULL;
  char fixed[128] = "";
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt;
    nncl_shape s;
    if (shape_spec(sz, nncl_graph_input_name(g, i)) ||
        nncl_graph_input_info(g, i, &dt, &s) != NNCL_OK || s.rank < 1)
      continue;
    n++;
    if (mi_batch_axis(&s) >= 0)
      applies = 1;
    else if (!fixed_name)
      fixed_name = nncl_graph_input_name(g, i), nncl_shape_format(&s, fixed, sizeof fixed);
  }
  if (n && !applies)
    fprintf(stderr,
            "nncl %s: --batch %lld does not apply: the model fixes every dim of its inputs ('%s' "
            "is %s); its own sizes are used\n",
            cmd, (long long)sz->batch, fixed_name ? fixed_name : "?", fixed);
  return 0;
}

nncl_status mi_input_shape(const nncl_graph *g, int i, const mi_sizes *sz, nncl_shape *shape,
                           char *note, size_t note_len) {
  nncl_dtype dt;
  if (note && note_len) note[0] = 0;
  nncl_status st = nncl_graph_input_info(g, i, &dt, shape);
  if (st != NNCL_OK) return st;
  const char *spec = shape_spec(sz, nncl_graph_input_name(g, i));
  if (spec) {
    parse_dims(spec, shape); /* checked by mi_parse_size_option */
    if (note) snprintf(note, note_len, "from --shape");
    return NNCL_OK;
  }
  if (shape->rank < 0 || shape->rank > NNCL_MAX_RANK) return NNCL_ERR_UNSUPPORTED;
  int64_t batch = sz && sz->batch > 0 ? sz->batch : 1;
  const int axis = mi_batch_axis(shape);
  int filled = 0;
  for (int d = 0; d < shape->rank; d++)
    if (shape->dims[d] < 0) {
      shape->dims[d] = d == axis ? batch : 1;
      filled |= d == axis ? 1 : 2;
    }
  char d0[64];
  snprintf(d0, sizeof d0,
           sz && sz->batch > 0 ? "dim %d to --batch %lld" : "dim %d to %lld (--batch sets it)",
           axis, (long long)batch);
  if (note && filled)
    snprintf(note, note_len, "unknown dims set: %s%s%s", filled & 1 ? d0 : "",
             filled == 3 ? ", " : "", filled & 2 ? "others to 1 (--shape sets them)" : "");
  return NNCL_OK;
}

int mi_generate(nncl_context *ctx, const char *cmd, const char *name, nncl_dtype dt,
                const nncl_shape *shape, uint32_t seed, nncl_array *out) {
  char sb[128];
  uint64_t bytes = mi_checked_bytes(dt, shape);
  int zero = 0;
  for (int d = 0; d < shape->rank; d++) zero |= shape->dims[d] == 0;
  if (!bytes && !zero) {
    fprintf(stderr, "nncl %s: input '%s' %s is too large to generate (over 2^62 bytes)\n", cmd,
            name, nncl_shape_format(shape, sb, sizeof sb));
    return 1;
  }
  /* refused here rather than after filling gigabytes the device could never hold */
  const nncl_device_info *dev = nncl_context_device(ctx);
  if (dev && dev->max_alloc_bytes && bytes > dev->max_alloc_bytes) {
    fprintf(stderr,
            "nncl %s: input '%s' %s needs %.3g GB, more than the %.3g GB that %s allows in one "
            "buffer\n",
            cmd, name, nncl_shape_format(shape, sb, sizeof sb), (double)bytes / 1e9,
            (double)dev->max_alloc_bytes / 1e9, dev->name);
    return 1;
  }
  if (nncl_array_alloc(out, dt, shape) != NNCL_OK) {
    fprintf(stderr, "nncl %s: cannot allocate %.3g GB of host memory for input '%s' %s %s\n", cmd,
            (double)bytes / 1e9, name, nncl_dtype_name(dt),
            nncl_shape_format(shape, sb, sizeof sb));
    return 1;
  }
  size_t n = (size_t)nncl_shape_numel(shape);
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n && dt == NNCL_FLOAT32; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    ((float *)out->data)[i] = -1.0f + 2.0f * (float)(s >> 8) / 16777216.0f;
  }
  return 0;
}

/* Whole file into memory; NULL (errno set) when unreadable. */
static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 1 << 16;
      unsigned char *nb = realloc(buf, nc);
      if (!nb) {
        free(buf);
        fclose(f);
        errno = ENOMEM;
        return NULL;
      }
      buf = nb;
      cap = nc;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  fclose(f);
  *len = n;
  return buf;
}

/* .npy payloads of other dtypes become float32 ('<f8', '<f2' ... '<f4') or int64 (integers and
   bool -> '<i8') in place of a copy, so the library's parser (float32/int64) reads them. Every
   such descr has 4 characters, so the header keeps its length. Returns 0, or -1 with *why set. */
static int npy_widen(unsigned char **buf, size_t *len, const char **why) {
  unsigned char *b = *buf;
  if (*len < 10) return 0;
  size_t hlen = b[6] == 1 ? (size_t)(b[8] | b[9] << 8)
                          : (size_t)(b[8] | b[9] << 8 | b[10] << 16 | (size_t)b[11] << 24);
  size_t start = (b[6] == 1 ? 10 : 12) + hlen;
  if (start > *len) return 0; /* the library names the damage */
  char *hdr = (char *)b + (b[6] == 1 ? 10 : 12);
  char *d = NULL;
  for (size_t k = 0; k + 12 < hlen && !d; k++)
    if (memcmp(hdr + k, "'descr'", 7) == 0) d = hdr + k + 7;
  if (!d) return 0;
  while (*d == ' ' || *d == ':') d++;
  if (d + 5 > hdr + hlen || d[0] != '\'' || d[4] != '\'') return 0;
  static const struct {
    char code[5];
    int size, is_float, is_signed;
  } kinds[] = {{"<f8", 8, 1, 1}, {"<i4", 4, 0, 1}, {"<i2", 2, 0, 1}, {"|i1", 1, 0, 1},
               {"|u1", 1, 0, 0}, {"<u2", 2, 0, 0}, {"<u4", 4, 0, 0}, {"|b1", 1, 0, 0}};
  int k = -1;
  for (int j = 0; j < (int)(sizeof kinds / sizeof *kinds); j++)
    if (memcmp(d + 1, kinds[j].code, 3) == 0) k = j;
  if (k < 0) return 0; /* float32, int64, or one the library refuses by name */
  size_t n = (*len - start) / (size_t)kinds[k].size, out_size = kinds[k].is_float ? 4 : 8;
  unsigned char *nb = malloc(start + n * out_size + 1);
  if (!nb) {
    *why = "out of host memory converting it";
    return -1;
  }
  memcpy(nb, b, start);
  memcpy(nb + (d - (char *)b) + 1, kinds[k].is_float ? "<f4" : "<i8", 3);
  const unsigned char *src = b + start;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *e = src + i * (size_t)kinds[k].size;
    if (kinds[k].is_float) {
      double v;
      memcpy(&v, e, 8);
      float f = (float)v;
      memcpy(nb + start + 4 * i, &f, 4);
      continue;
    }
    int64_t v = 0;
    switch (kinds[k].size) {
    case 1: v = kinds[k].is_signed ? (int64_t)(int8_t)e[0] : (int64_t)e[0]; break;
    case 2: {
      uint16_t u;
      memcpy(&u, e, 2);
      v = kinds[k].is_signed ? (int64_t)(int16_t)u : (int64_t)u;
      break;
    }
    default: {
      uint32_t u;
      memcpy(&u, e, 4);
      v = kinds[k].is_signed ? (int64_t)(int32_t)u : (int64_t)u;
      break;
    }
    }
    memcpy(nb + start + 8 * i, &v, 8);
  }
  free(b);
  *buf = nb;
  *len = start + n * out_size;
  return 0;
}

/* a converted to dtype dt (numeric types; values as mi_get reads them). */
static nncl_status convert(const nncl_array *a, nncl_dtype dt, nncl_array *out) {
  nncl_status st = nncl_array_alloc(out, dt, &a->shape);
  if (st != NNCL_OK) return st;
  size_t n = (size_t)nncl_shape_numel(&a->shape);
  for (size_t i = 0; i < n; i++) {
    double v = mi_get(a, i);
    switch (dt) {
    case NNCL_FLOAT32: ((float *)out->data)[i] = (float)v; break;
    case NNCL_INT64: ((int64_t *)out->data)[i] = (int64_t)v; break;
    case NNCL_INT32: ((int32_t *)out->data)[i] = (int32_t)v; break;
    case NNCL_INT8: ((int8_t *)out->data)[i] = (int8_t)v; break;
    case NNCL_UINT8: ((uint8_t *)out->data)[i] = (uint8_t)v; break;
    case NNCL_BOOL: ((uint8_t *)out->data)[i] = v != 0; break;
    default: nncl_array_free(out); return NNCL_ERR_DTYPE;
    }
  }
  return NNCL_OK;
}

int mi_read_input(nncl_context *ctx, const nncl_graph *g, int slot, const char *path,
                  nncl_array *out) {
  const char *name = nncl_graph_input_name(g, slot);
  size_t len = 0;
  unsigned char *buf = read_all(path, &len);
  if (!buf) {
    fprintf(stderr, "nncl: input '%s': cannot read %s: %s\n", name, path, strerror(errno));
    return 1;
  }
  static const struct {
    const char *magic;
    size_t n;
    const char *what;
  } images[] = {{"\x89PNG", 4, "a PNG image"},
                {"\xff\xd8\xff", 3, "a JPEG image"},
                {"BM", 2, "a BMP image"},
                {"GIF8", 4, "a GIF image"}};
  for (size_t k = 0; k < sizeof images / sizeof *images; k++)
    if (len >= images[k].n && memcmp(buf, images[k].magic, images[k].n) == 0) {
      fprintf(stderr,
              "nncl: input '%s': %s is %s; --input reads .npy and ONNX TensorProto .pb files "
              "(nncl classify takes images)\n",
              name, path, images[k].what);
      free(buf);
      return 1;
    }
  int is_npy = len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0;
  const char *why = NULL;
  nncl_status st;
  if (is_npy && npy_widen(&buf, &len, &why) != 0) {
    fprintf(stderr, "nncl: input '%s': %s: %s\n", name, path, why);
    free(buf);
    return 1;
  }
  nncl_array a;
  if (is_npy)
    st = nncl_npy_parse(ctx, buf, len, &a);
  else
    st = nncl_onnx_load_tensor(ctx, path, &a, NULL);
  free(buf);
  if (st != NNCL_OK) {
    char what[4200];
    snprintf(what, sizeof what, "input '%s': %s%s", name, path,
             is_npy ? "" : " (read as an ONNX TensorProto .pb; --input reads those and .npy)");
    return cli_fail(ctx, st, what);
  }
  nncl_dtype want = NNCL_UNDEFINED;
  nncl_shape ws;
  nncl_graph_input_info(g, slot, &want, &ws);
  if (want == NNCL_UNDEFINED || a.dtype == want) {
    *out = a;
    return 0;
  }
  st = convert(&a, want, out);
  if (st != NNCL_OK) {
    fprintf(stderr, "nncl: input '%s' is %s: %s holds %s, which nncl does not convert to it\n",
            name, nncl_dtype_name(want), path, nncl_dtype_name(a.dtype));
    nncl_array_free(&a);
    return 1;
  }
  nncl_array_free(&a);
  return 0;
}

/* IEEE half -> float (denormals, infinities and NaN included). */
static float half_to_float(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
  float v;
  if (exp == 0)
    v = ldexpf((float)man, -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = ldexpf((float)(man | 1024), exp - 25);
  return sign ? -v : v;
}

double mi_get(const nncl_array *a, size_t i) {
  switch (a->dtype) {
  case NNCL_FLOAT32: return ((const float *)a->data)[i];
  case NNCL_FLOAT16: return half_to_float(((const uint16_t *)a->data)[i]);
  case NNCL_INT8: return ((const int8_t *)a->data)[i];
  case NNCL_UINT8:
  case NNCL_BOOL: return ((const uint8_t *)a->data)[i];
  case NNCL_INT32: return ((const int32_t *)a->data)[i];
  case NNCL_INT64: return (double)((const int64_t *)a->data)[i];
  default: return NAN;
  }
}

void mi_compare(const nncl_array *got, const nncl_array *want, double rtol, double atol,
                mi_compare_result *r) {
  memset(r, 0, sizeof *r);
  char a[128], b[128];
  if (got->dtype != want->dtype) {
    snprintf(r->problem, sizeof r->problem, "dtype %s, expected %s", nncl_dtype_name(got->dtype),
             nncl_dtype_name(want->dtype));
    return;
  }
  int same = got->shape.rank == want->shape.rank;
  for (int d = 0; same && d < got->shape.rank; d++)
    same = got->shape.dims[d] == want->shape.dims[d];
  if (!same) {
    snprintf(r->problem, sizeof r->problem, "shape %s, expected %s",
             nncl_shape_format(&got->shape, a, sizeof a),
             nncl_shape_format(&want->shape, b, sizeof b));
    return;
  }
  int exact = got->dtype != NNCL_FLOAT32 && got->dtype != NNCL_FLOAT16;
  size_t n = (size_t)nncl_shape_numel(&want->shape);
  double worst_ratio = -1;
  for (size_t i = 0; i < n; i++) {
    double g = mi_get(got, i), w = mi_get(want, i);
    double err, ratio;
    if (isnan(g) || isnan(w)) {
      err = isnan(g) && isnan(w) ? 0 : INFINITY;
    } else if (isinf(g) || isinf(w)) {
      err = g == w ? 0 : INFINITY;
    } else {
      err = fabs(g - w);
    }
    double tol = exact ? 0 : atol + rtol * fabs(w);
    ratio = err == 0 ? 0 : (tol > 0 ? err / tol : INFINITY);
    if (err > tol) r->n_bad++;
    if (err > r->max_abs) r->max_abs = err;
    double rel = err == 0 ? 0 : err / (fabs(w) > 0 ? fabs(w) : 1e-30);
    if (rel > r->max_rel) r->max_rel = rel;
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      r->worst = i;
      r->got_worst = g;
      r->want_worst = w;
    }
  }
  r->ok = r->n_bad == 0;
}
