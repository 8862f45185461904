/* demo_idx.c: reads the IDX files of (Fashion-)MNIST straight from their .gz through zlib. */
#include "demo_idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *const demo_class_names[DEMO_NUM_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* gzread takes an unsigned count; read large files in pieces. Returns bytes read or -1. */
static long long read_all(gzFile f, void *dst, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t chunk = n - done > (1u << 30) ? (1u << 30) : n - done;
    int got = gzread(f, (char *)dst + done, (unsigned)chunk);
    if (got < 0) return -1;
    if (got == 0) break;
    done += (size_t)got;
  }
  return (long long)done;
}

int demo_idx_read(const char *path, demo_idx *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  gzFile f = gzopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: cannot open", path);
    return -1;
  }
  unsigned char head[4 + 4 * 4];
  int rc = -1;
  if (read_all(f, head, 4) != 4 || head[0] != 0 || head[1] != 0) {
    snprintf(err, err_len, "%s: not an IDX file (bad magic)", path);
    goto done;
  }
  if (head[2] != 0x08) {
    snprintf(err, err_len, "%s: IDX element type 0x%02x, expected 0x08 (unsigned byte)", path,
             head[2]);
    goto done;
  }
  out->rank = head[3];
  if (out->rank < 1 || out->rank > 4) {
    snprintf(err, err_len, "%s: IDX rank %d, expected 1 to 4", path, out->rank);
    goto done;
  }
  if (read_all(f, head + 4, 4 * (size_t)out->rank) != 4 * out->rank) {
    snprintf(err, err_len, "%s: truncated IDX header", path);
    goto done;
  }
  out->item_size = 1;
  for (int i = 0; i < out->rank; i++) {
    out->dims[i] = be32(head + 4 + 4 * i);
    if (i > 0) out->item_size *= out->dims[i];
  }
  out->count = out->dims[0];
  size_t bytes = out->count * out->item_size;
  if (out->item_size > (1u << 24) || out->count > (1u << 28)) {
    snprintf(err, err_len, "%s: implausible IDX dims", path);
    goto done;
  }
  out->data = malloc(bytes ? bytes : 1);
  if (!out->data) {
    snprintf(err, err_len, "%s: out of memory for %zu bytes", path, bytes);
    goto done;
  }
  long long got = read_all(f, out->data, bytes);
  if (got != (long long)bytes) {
    snprintf(err, err_len, "%s: truncated: %lld of %zu data bytes", path, got < 0 ? 0 : got, bytes);
    goto done;
  }
  rc = 0;
done:
  gzclose(f);
  if (rc != 0) demo_idx_free(out);
  return rc;
}

void demo_idx_free(demo_idx *idx) {
  free(idx->data);
  memset(idx, 0, sizeof *idx);
}

int demo_idx_read_split(const char *dir, const char *prefix, demo_idx *images, demo_idx *labels,
                        char *err, size_t err_len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
  if (demo_idx_read(path, images, err, err_len) != 0) return -1;
  if (images->rank != 3 || images->dims[1] != 28 || images->dims[2] != 28 || images->count == 0) {
    snprintf(err, err_len, "%s: expected images [n > 0, 28, 28], got rank %d, %zu items", path,
             images->rank, images->count);
    demo_idx_free(images);
    return -1;
  }
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  if (demo_idx_read(path, labels, err, err_len) != 0) {
    demo_idx_free(images);
    return -1;
  }
  const char *bad = NULL;
  if (labels->rank != 1 || labels->count != images->count)
    bad = "label count differs from image count";
  for (size_t i = 0; !bad && i < labels->count; i++)
    if (labels->data[i] >= DEMO_NUM_CLASSES) bad = "label out of range 0-9";
  if (bad) {
    snprintf(err, err_len, "%s: %s", path, bad);
    demo_idx_free(images);
    demo_idx_free(labels);
    return -1;
  }
  return 0;
}
