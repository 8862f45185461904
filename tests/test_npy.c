/* test_npy.c: .npy save/load round trips and strict rejection of malformed or unsupported files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static void tmp_path(char *buf, size_t n, const char *name) {
  snprintf(buf, n, "/tmp/nncl-npy-%ld-%s", (long)getpid(), name);
}

Test(npy, float32_round_trip_ranks_0_to_5) {
  for (int rank = 0; rank <= 5; rank++) {
    int64_t dims[5] = {2, 3, 1, 4, 5};
    nncl_array a = tu_rand(42 + (uint32_t)rank, rank, dims), b;
    char path[256];
    tmp_path(path, sizeof path, "f32.npy");
    cr_assert_eq(nncl_npy_save(NULL, path, &a), NNCL_OK);
    cr_assert_eq(nncl_npy_load(NULL, path, &b), NNCL_OK);
    cr_assert_eq(b.dtype, NNCL_FLOAT32);
    cr_assert_eq(b.shape.rank, rank);
    for (int i = 0; i < rank; i++) cr_assert_eq(b.shape.dims[i], dims[i]);
    cr_assert_arr_eq(a.data, b.data, nncl_array_bytes(&a));
    /* the header is a multiple of 64 bytes, as NumPy writes it */
    FILE *f = fopen(path, "rb");
    unsigned char h[10];
    cr_assert_eq(fread(h, 1, 10, f), 10);
    fclose(f);
    cr_assert_eq((10 + h[8] + 256 * h[9]) % 64, 0);
    unlink(path);
    nncl_array_free(&a);
    nncl_array_free(&b);
  }
}

Test(npy, int64_round_trip) {
  nncl_array a = TU_I64(1, -2, 3, 1LL << 50), b;
  char path[256];
  tmp_path(path, sizeof path, "i64.npy");
  cr_assert_eq(nncl_npy_save(NULL, path, &a), NNCL_OK);
  cr_assert_eq(nncl_npy_load(NULL, path, &b), NNCL_OK);
  cr_assert_eq(b.dtype, NNCL_INT64);
  cr_assert_arr_eq(a.data, b.data, 32);
  unlink(path);
  nncl_array_free(&a);
  nncl_array_free(&b);
}

static nncl_status parse_text(const char *hdr, size_t data_bytes, nncl_array *out) {
  unsigned char buf[1024] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  size_t hl = strlen(hdr);
  buf[8] = (unsigned char)hl;
  buf[9] = 0;
  memcpy(buf + 10, hdr, hl);
  return nncl_npy_parse(tu_ctx(), buf, 10 + hl + data_bytes, out);
}

Test(npy, malformed_and_unsupported_files_are_named_errors) {
  nncl_array a;
  nncl_context *ctx = tu_ctx();
  cr_assert_eq(nncl_npy_parse(ctx, "hello world", 11, &a), NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(ctx), "magic"));
  cr_assert_eq(parse_text("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", 16, &a),
               NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(ctx), "<f8"), "%s", nncl_context_last_error(ctx));
  cr_assert_eq(parse_text("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 16, &a),
               NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(ctx), "Fortran"));
  cr_assert_eq(parse_text("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 15, &a),
               NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(ctx), "truncated"));
  cr_assert_eq(parse_text("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n", 16, &a),
               NNCL_ERR_FORMAT);
  cr_assert_eq(parse_text("{'descr': '<f4', 'shape': (2,), }\n", 8, &a), NNCL_ERR_FORMAT);
  cr_assert_eq(
      parse_text("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n", 4,
                 &a),
      NNCL_ERR_FORMAT);
  cr_assert_eq(nncl_npy_load(ctx, "/nonexistent/x.npy", &a), NNCL_ERR_IO);
  cr_assert(strstr(nncl_context_last_error(ctx), "/nonexistent/x.npy"));
  /* a valid one parses */
  cr_assert_eq(parse_text("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 16, &a),
               NNCL_OK);
  cr_assert_eq(a.shape.rank, 2);
  nncl_array_free(&a);
}

Test(npy, every_truncation_of_a_valid_file_fails_cleanly) {
  nncl_array a = TU_RAND(3, 3, 4), b;
  char path[256];
  tmp_path(path, sizeof path, "trunc.npy");
  cr_assert_eq(nncl_npy_save(NULL, path, &a), NNCL_OK);
  FILE *f = fopen(path, "rb");
  unsigned char buf[512];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  unlink(path);
  for (size_t len = 0; len < n; len++)
    cr_assert_neq(nncl_npy_parse(NULL, buf, len, &b), NNCL_OK, "len %zu", len);
  cr_assert_eq(nncl_npy_parse(NULL, buf, n, &b), NNCL_OK);
  nncl_array_free(&a);
  nncl_array_free(&b);
}
