/* checkpoint.c: trainer checkpoints. One little-endian binary file: magic "NNCLCKP1", optimizer
   kind (int32), steps (int64), parameter count and state buffers per parameter (int32 each);
   then per parameter: name length (uint32), name, element count (int64), the values and each
   optimizer state buffer (float32); then each BatchNorm's running mean and variance (float32).
   Written to a temporary file and renamed, so a crash never leaves half a checkpoint under the
   real name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "trainer_internal.h"

#define MAGIC "NNCLCKP1"

static nncl_status io_error(nncl_trainer *t, const char *what, const char *path) {
  return nncl__error(t->ctx, NNCL_ERR_IO, "checkpoint: cannot %s '%s'", what, path);
}

nncl_status nncl_trainer_save_checkpoint(nncl_trainer *t, const char *path) {
  if (!t || !path) return NNCL_ERR_INVALID_ARGUMENT;
  size_t len = strlen(path) + 8;
  char *tmp = malloc(len);
  if (!tmp) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "checkpoint");
  snprintf(tmp, len, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    nncl_status st = io_error(t, "write", tmp);
    free(tmp);
    return st;
  }
  int32_t kind = (int32_t)t->optim.kind, n = t->n_params, ns = nncl__optim_state_count(t->opt);
  int64_t steps = nncl__optim_steps(t->opt);
  int ok = fwrite(MAGIC, 1, 8, f) == 8 && fwrite(&kind, 4, 1, f) == 1 &&
           fwrite(&steps, 8, 1, f) == 1 && fwrite(&n, 4, 1, f) == 1 && fwrite(&ns, 4, 1, f) == 1;
  nncl_status st = NNCL_OK;
  for (int i = 0; i < n && ok && st == NNCL_OK; i++) {
    nncl_array a;
    st = nncl_trainer_get_param(t, i, &a);
    if (st != NNCL_OK) break;
    uint32_t nl = (uint32_t)strlen(t->param[i]);
    int64_t numel = nncl_shape_numel(&a.shape);
    ok = fwrite(&nl, 4, 1, f) == 1 && fwrite(t->param[i], 1, nl, f) == nl &&
         fwrite(&numel, 8, 1, f) == 1 && fwrite(a.data, 4, (size_t)numel, f) == (size_t)numel;
    for (int k = 0; k < ns && ok && st == NNCL_OK; k++) {
      st = nncl__optim_state_read(t->opt, i, k, a.data);
      ok = st == NNCL_OK && fwrite(a.data, 4, (size_t)numel, f) == (size_t)numel;
    }
    nncl_array_free(&a);
  }
  for (int b = 0; b < t->n_bn && ok; b++) /* BatchNorm running statistics */
    ok = fwrite(t->bn[b].mean.data, 1, nncl_array_bytes(&t->bn[b].mean), f) ==
             nncl_array_bytes(&t->bn[b].mean) &&
         fwrite(t->bn[b].var.data, 1, nncl_array_bytes(&t->bn[b].var), f) ==
             nncl_array_bytes(&t->bn[b].var);
  if (fclose(f) != 0) ok = 0;
  if (st == NNCL_OK && (!ok || rename(tmp, path) != 0)) st = io_error(t, "write", path);
  if (st != NNCL_OK) remove(tmp);
  free(tmp);
  return st;
}

static nncl_status load(nncl_trainer *t, FILE *f, const char *path) {
  char magic[8];
  int32_t kind, n, ns;
  int64_t steps;
  if (fread(magic, 1, 8, f) != 8 || memcmp(magic, MAGIC, 8) != 0 || fread(&kind, 4, 1, f) != 1 ||
      fread(&steps, 8, 1, f) != 1 || fread(&n, 4, 1, f) != 1 || fread(&ns, 4, 1, f) != 1)
    return nncl__error(t->ctx, NNCL_ERR_FORMAT, "checkpoint '%s' is not an nncl checkpoint", path);
  if (kind != (int32_t)t->optim.kind || n != t->n_params || ns != nncl__optim_state_count(t->opt) ||
      steps < 0)
    return nncl__error(t->ctx, NNCL_ERR_FORMAT,
                       "checkpoint '%s' holds %d parameters for optimizer %d with %d state "
                       "buffers; this trainer has %d, optimizer %d, %d",
                       path, n, kind, ns, t->n_params, (int)t->optim.kind,
                       nncl__optim_state_count(t->opt));
  for (int i = 0; i < n; i++) {
    uint32_t nl;
    int64_t numel, want = nncl_shape_numel(&t->init[i].shape);
    char name[512];
    if (fread(&nl, 4, 1, f) != 1 || nl >= sizeof name || fread(name, 1, nl, f) != nl ||
        fread(&numel, 8, 1, f) != 1)
      return nncl__error(t->ctx, NNCL_ERR_FORMAT, "checkpoint '%s' is truncated", path);
    name[nl] = 0;
    if (strcmp(name, t->param[i]) != 0 || numel != want)
      return nncl__error(t->ctx, NNCL_ERR_FORMAT,
                         "checkpoint '%s': parameter %d is '%s' of %lld elements, the trainer's "
                         "is '%s' of %lld",
                         path, i, name, (long long)numel, t->param[i], (long long)want);
    nncl_array a;
    if (nncl_array_alloc(&a, NNCL_FLOAT32, &t->init[i].shape) != NNCL_OK)
      return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "checkpoint");
    nncl_status st =
        fread(a.data, 4, (size_t)numel, f) == (size_t)numel
            ? nncl_trainer_set_param(t, i, &a)
            : nncl__error(t->ctx, NNCL_ERR_FORMAT, "checkpoint '%s' is truncated", path);
    for (int k = 0; k < ns && st == NNCL_OK; k++)
      st = fread(a.data, 4, (size_t)numel, f) == (size_t)numel
               ? nncl__optim_state_write(t->opt, i, k, a.data)
               : nncl__error(t->ctx, NNCL_ERR_FORMAT, "checkpoint '%s' is truncated", path);
    nncl_array_free(&a);
    NNCL_TRY(st);
  }
  for (int b = 0; b < t->n_bn; b++)
    if (fread(t->bn[b].mean.data, 1, nncl_array_bytes(&t->bn[b].mean), f) !=
            nncl_array_bytes(&t->bn[b].mean) ||
        fread(t->bn[b].var.data, 1, nncl_array_bytes(&t->bn[b].var), f) !=
            nncl_array_bytes(&t->bn[b].var))
      return nncl__error(t->ctx, NNCL_ERR_FORMAT, "checkpoint '%s' is truncated", path);
  t->bn_dirty = t->n_bn > 0;
  nncl__optim_set_steps(t->opt, steps);
  return NNCL_OK;
}

nncl_status nncl_trainer_load_checkpoint(nncl_trainer *t, const char *path) {
  if (!t || !path) return NNCL_ERR_INVALID_ARGUMENT;
  FILE *f = fopen(path, "rb");
  if (!f) return io_error(t, "read", path);
  nncl_status st = load(t, f, path);
  fclose(f);
  return st;
}
