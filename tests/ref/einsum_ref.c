/* einsum_ref.c: naive Einsum for tests/test_einsum.c (see einsum_ref.h). */
#include "einsum_ref.h"

#include <stdlib.h>
#include <string.h>

/* Every combination of every letter's index, accumulated in double. */
void ref_einsum(const char *la, const float *a, const nncl_shape *as, const char *lb,
                const float *b, const nncl_shape *bs, const char *lo, float *out) {
  char labels[52];
  int64_t dims[52], c[52] = {0};
  int n = 0;
  const char *terms[2] = {la, lb};
  const nncl_shape *shapes[2] = {as, bs};
  for (int t = 0; t < 2; t++)
    for (int i = 0; terms[t] && terms[t][i]; i++) {
      int j = 0;
      while (j < n && labels[j] != terms[t][i]) j++;
      if (j == n) {
        labels[n] = terms[t][i];
        dims[n++] = shapes[t]->dims[i];
      }
    }
  int64_t no = 1;
  for (int i = 0; lo[i]; i++)
    for (int j = 0; j < n; j++)
      if (labels[j] == lo[i]) no *= dims[j];
  double *acc = calloc((size_t)no, sizeof *acc);
  for (;;) {
    int64_t offs[3] = {0, 0, 0};
    const char *all[3] = {la, lb ? lb : "", lo};
    for (int t = 0; t < 3; t++)
      for (int i = 0; all[t][i]; i++) {
        int j = 0;
        while (labels[j] != all[t][i]) j++;
        offs[t] = offs[t] * dims[j] + c[j];
      }
    acc[offs[2]] += (double)a[offs[0]] * (lb ? (double)b[offs[1]] : 1.0);
    int k = n - 1;
    while (k >= 0 && ++c[k] == dims[k]) c[k--] = 0;
    if (k < 0) break;
  }
  for (int64_t i = 0; i < no; i++) out[i] = (float)acc[i];
  free(acc);
}
