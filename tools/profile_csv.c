/* profile_csv.c: writes a profile as CSV, one row per planned node (RFC 4180 quoting: shapes
   hold commas), for spreadsheets and scripts. Times in microseconds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile_write.h"

/* A field, quoted when it holds a comma, quote or line break. */
static void field(FILE *f, const char *s, int last) {
  if (!s) s = "";
  if (strpbrk(s, ",\"\r\n")) {
    fputc('"', f);
    for (; *s; s++) {
      if (*s == '"') fputc('"', f);
      fputc(*s, f);
    }
    fputc('"', f);
  } else {
    fputs(s, f);
  }
  fputc(last ? '\n' : ',', f);
}

static void number(FILE *f, const char *fmt, double v) {
  fprintf(f, fmt, v);
  fputc(',', f);
}

int profile_write_csv(const nncl_profile *p, const char *path, char *err, size_t err_len) {
  FILE *f = fopen(path, "w");
  if (!f) {
    if (err && err_len) snprintf(err, err_len, "%s: %s", path, strerror(errno));
    return -1;
  }
  fputs("index,name,op_type,fused,algo,kernels,n_kernels,inputs,outputs,device_us,share_pct,"
        "flops,bytes,gflops,gbps,intensity,bound,roof_pct,host_us\n",
        f);
  for (int i = 0; i < p->n_nodes; i++) {
    const nncl_profile_node *n = &p->nodes[i];
    char buf[1024], kernels[1024] = "";
    size_t used = 0;
    for (int k = 0; k < p->n_kernels && used + 1 < sizeof kernels; k++) {
      if (p->kernels[k].node != i) continue;
      int w = snprintf(kernels + used, sizeof kernels - used, "%s%s", used ? " " : "",
                       p->kernels[k].name);
      if (w > 0) used += (size_t)w;
    }
    fprintf(f, "%d,", i);
    field(f, n->info.name, 0);
    field(f, n->info.op_type, 0);
    field(f, n->info.fused, 0);
    field(f, n->info.algo, 0);
    field(f, kernels, 0);
    fprintf(f, "%d,", n->n_kernels);
    field(f, nncl_node_shapes_format(&n->info, 0, buf, sizeof buf), 0);
    field(f, nncl_node_shapes_format(&n->info, 1, buf, sizeof buf), 0);
    number(f, "%.3f", n->device_ns * 1e-3);
    number(f, "%.3f", 100.0 * n->share);
    number(f, "%.0f", n->info.flops);
    number(f, "%.0f", n->info.bytes);
    number(f, "%.4f", n->gflops);
    number(f, "%.4f", n->gbps);
    number(f, "%.4f", n->intensity);
    field(f, nncl_bound_name(n->bound), 0);
    number(f, "%.3f", n->roof_pct);
    fprintf(f, "%.3f\n", n->host_ns * 1e-3);
  }
  int saved = errno;
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  if (bad) {
    if (err && err_len) snprintf(err, err_len, "%s: %s", path, strerror(saved ? saved : EIO));
    return -1;
  }
  return 0;
}
