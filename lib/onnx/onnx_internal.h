/* onnx_internal.h: what the ONNX importer's files share: TensorProto conversion, file reading,
   external-data resolution and the pre-parse wire check. Nothing here is public. */
#ifndef NNCL_ONNX_INTERNAL_H
#define NNCL_ONNX_INTERNAL_H

#include <stddef.h>

#include "nncl/onnx.h"
#include "onnx.pb-c.h"

/* Files larger than this are refused before reading (protobuf itself caps messages at 2 GiB;
   bigger weights must use external data). */
#define ONNX_MAX_FILE_BYTES ((size_t)1 << 31)

/* Largest dense tensor a sparse one may expand to (its size is not bounded by the file's). */
#define ONNX_MAX_SPARSE_DENSE_BYTES ((size_t)1 << 30)

/* Deepest message nesting accepted (GraphProto in AttributeProto in NodeProto ...); protobuf-c's
   unpacker recurses once per level, so a hostile file could otherwise exhaust the stack. */
#define ONNX_MAX_NESTING 64

/* ONNX TensorProto.DataType of an nncl dtype (0 for NNCL_UNDEFINED). */
int32_t onnx_dtype_from_nncl(nncl_dtype dt);
/* Name of an ONNX TensorProto.DataType ("double", "string", ...), for messages. */
const char *onnx_dtype_name(int32_t onnx_type);

/* The allocator of every unpack in lib/onnx: blocks of ONNX_TAKE_MIN_BYTES or more are aligned
   and padded as nncl_array_alloc's arrays (NNCL_ARRAY_ALIGN, zeroed tail), so a large raw_data
   can become its array as it is (onnx_tensor_to_array takes it) instead of being copied again. */
#define ONNX_TAKE_MIN_BYTES 4096
ProtobufCAllocator *onnx_allocator(void);

/* Converts a TensorProto into a host array (raw_data, typed fields or external data; base_dir
   locates external files and may be NULL, which makes external data an error). `where` names
   the tensor in messages, e.g. "m.onnx: initializer 'w'". A raw_data block that onnx_allocator
   aligned is moved into the array (t->raw_data is left empty), so t must come from an unpack
   with onnx_allocator() and be converted once. Errors: NNCL_ERR_FORMAT (malformed),
   NNCL_ERR_DTYPE (type nncl lacks), NNCL_ERR_IO (external file). On error *out is empty. */
nncl_status onnx_tensor_to_array(nncl_context *ctx, Onnx__TensorProto *t, const char *base_dir,
                                 const char *where, nncl_array *out);
/* Densifies a SparseTensorProto (Constant's sparse_value, sparse initializers). */
nncl_status onnx_sparse_to_array(nncl_context *ctx, const Onnx__SparseTensorProto *s,
                                 const char *base_dir, const char *where, nncl_array *out);

/* Reads a whole file into a malloc'ed buffer (*len bytes; a zero byte is appended). */
nncl_status onnx_read_file(nncl_context *ctx, const char *path, void **bytes, size_t *len);

/* Whether `name` is one of the graph's (dense or sparse) initializers: such a graph input is a
   weight with a default, not an input the caller feeds. */
int onnx_name_is_initializer(const Onnx__GraphProto *g, const char *name);

/* Checks and unpacks a ModelProto (free with onnx__model_proto__free_unpacked); `file` names it in
   messages. NNCL_ERR_FORMAT for empty, corrupt or too deeply nested data. */
nncl_status onnx_unpack_model(nncl_context *ctx, const void *bytes, size_t len, const char *file,
                              Onnx__ModelProto **out);

/* Checks that `bytes` is well-formed protobuf wire data for message type `desc` with nesting no
   deeper than ONNX_MAX_NESTING, before protobuf-c unpacks it. Returns 0 when fine, else writes a
   reason into msg. */
int onnx_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *bytes, size_t len,
                    char *msg, size_t msg_len);

#endif
