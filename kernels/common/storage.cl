/* common/storage.cl: the one definition of how kernels hold float tensors in device memory.
   Default: float32. -D NNCL_HALF_STORE (graph.precision=fp16-storage or fp16): float16 storage,
   read and written through core OpenCL's vload_half / vstore_half, so every kernel still computes
   and accumulates in float and no cl_khr_fp16 is needed (OpenCL C lets a kernel declare a half
   pointer without the extension, only not dereference it). Stores round to nearest even.

   FBUF                the element type of a float tensor's buffer (float, or half)
   FLOAD(p, i)         element i of such a buffer, as float
   FSTORE(p, i, v)     stores float v as element i
   FLOAD8, FSTORE8, FLOAD16, FSTORE16   8- and 16-element forms (vload8 / vstore8 shape)

   Kernels with several element types name each buffer's type T and use the token-dispatched
   forms, where T = half means float16 storage of a float value:
   NVAL(T)             the value type a T element computes in (half -> float)
   NLOAD(T, p, i), NSTORE(T, p, i, v), NLOAD4(T, p), NSTORE4(T, p, v) (4 elements at p) */
#ifndef NNCL_COMMON_STORAGE_CL
#define NNCL_COMMON_STORAGE_CL

#define NNCL_ST_CAT_(a, b) a##b
#define NNCL_ST_CAT(a, b) NNCL_ST_CAT_(a, b)
#define NVAL(T) NNCL_ST_CAT(NNCL_VAL_, T)
#define NLOAD(T, p, i) NNCL_ST_CAT(NNCL_LOAD_, T)(p, i)
#define NSTORE(T, p, i, v) NNCL_ST_CAT(NNCL_STORE_, T)(p, i, v)
#define NLOAD4(T, p) NNCL_ST_CAT(NNCL_LOAD4_, T)(p)
#define NSTORE4(T, p, v) NNCL_ST_CAT(NNCL_STORE4_, T)(p, v)

/* half: storage only, arithmetic in float */
#define NNCL_VAL_half float
#define NNCL_LOAD_half(p, i) vload_half((i), (p))
#define NNCL_STORE_half(p, i, v) vstore_half((v), (i), (p))
#define NNCL_LOAD4_half(p) vload_half4(0, (p))
#define NNCL_STORE4_half(p, v) vstore_half4((v), 0, (p))

/* every other element type is its own value type, read and written directly */
#define NNCL_VAL_float float
#define NNCL_VAL_long long
#define NNCL_VAL_int int
#define NNCL_VAL_uchar uchar
#define NNCL_VAL_char char
#define NNCL_LOAD_float(p, i) ((p)[i])
#define NNCL_LOAD_long(p, i) ((p)[i])
#define NNCL_LOAD_int(p, i) ((p)[i])
#define NNCL_LOAD_uchar(p, i) ((p)[i])
#define NNCL_LOAD_char(p, i) ((p)[i])
#define NNCL_STORE_float(p, i, v) ((p)[i] = (v))
#define NNCL_STORE_long(p, i, v) ((p)[i] = (v))
#define NNCL_STORE_int(p, i, v) ((p)[i] = (v))
#define NNCL_STORE_uchar(p, i, v) ((p)[i] = (v))
#define NNCL_STORE_char(p, i, v) ((p)[i] = (v))
#define NNCL_LOAD4_float(p) vload4(0, (p))
#define NNCL_LOAD4_long(p) vload4(0, (p))
#define NNCL_LOAD4_int(p) vload4(0, (p))
#define NNCL_LOAD4_uchar(p) vload4(0, (p))
#define NNCL_LOAD4_char(p) vload4(0, (p))
#define NNCL_STORE4_float(p, v) vstore4((v), 0, (p))
#define NNCL_STORE4_long(p, v) vstore4((v), 0, (p))
#define NNCL_STORE4_int(p, v) vstore4((v), 0, (p))
#define NNCL_STORE4_uchar(p, v) vstore4((v), 0, (p))
#define NNCL_STORE4_char(p, v) vstore4((v), 0, (p))

#ifdef NNCL_HALF_STORE
#define FBUF half
#define FLOAD8(i, p) vload_half8((i), (p))
#define FSTORE8(v, i, p) vstore_half8((v), (i), (p))
#define FLOAD16(i, p) vload_half16((i), (p))
#define FSTORE16(v, i, p) vstore_half16((v), (i), (p))
#else
#define FBUF float
#define FLOAD8(i, p) vload8((i), (p))
#define FSTORE8(v, i, p) vstore8((v), (i), (p))
#define FLOAD16(i, p) vload16((i), (p))
#define FSTORE16(v, i, p) vstore16((v), (i), (p))
#endif
#define FLOAD(p, i) NLOAD(FBUF, p, i)
#define FSTORE(p, i, v) NSTORE(FBUF, p, i, v)

#endif
