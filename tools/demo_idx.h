/* demo_idx.h: Fashion-MNIST in IDX format (gzipped or not), read through zlib, and its class names. */
#ifndef NNCL_DEMO_IDX_H
#define NNCL_DEMO_IDX_H

#include <stddef.h>
#include <stdint.h>

#define DEMO_NUM_CLASSES 10

/* The ten Fashion-MNIST class names, indexed by label. */
extern const char *const demo_class_names[DEMO_NUM_CLASSES];

/* An IDX file of unsigned bytes: dims[0] items of dims[1] x ... bytes each. */
typedef struct demo_idx {
  int rank;
  uint32_t dims[4];
  size_t count;     /* dims[0] */
  size_t item_size; /* product of dims[1..] */
  uint8_t *data;    /* count * item_size bytes */
} demo_idx;

/* Reads path (gzip or plain; zlib reads both). Returns 0 on success; otherwise -1 with a message
   naming the file and the problem in err. */
int demo_idx_read(const char *path, demo_idx *out, char *err, size_t err_len);
void demo_idx_free(demo_idx *idx);

/* Reads DIR/<prefix>-images-idx3-ubyte.gz and DIR/<prefix>-labels-idx1-ubyte.gz (prefix "t10k" or
   "train") and checks that they agree: images [n, 28, 28], labels [n] below DEMO_NUM_CLASSES. */
int demo_idx_read_split(const char *dir, const char *prefix, demo_idx *images, demo_idx *labels,
                        char *err, size_t err_len);

#endif
