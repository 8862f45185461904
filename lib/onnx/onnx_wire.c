/* onnx_wire.c: a pre-pass over protobuf wire data before protobuf-c unpacks it. protobuf-c
   recurses once per nested message, so a small hostile file of deeply nested GraphProto /
   AttributeProto fields could overflow the stack; this walk (bounded recursion, using the
   generated descriptors to know which fields are messages) rejects such files, and truncated
   keys or lengths, with a precise reason. */
#include <stdio.h>

#include "onnx_internal.h"

/* Reads a varint at *pos; 0 when it is truncated or longer than 10 bytes. */
static int read_varint(const uint8_t *b, size_t len, size_t *pos, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*pos >= len) return 0;
    uint8_t c = b[(*pos)++];
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

static int walk(const ProtobufCMessageDescriptor *desc, const uint8_t *b, size_t len, int depth,
                char *msg, size_t msg_len) {
  if (depth > ONNX_MAX_NESTING) {
    snprintf(msg, msg_len, "messages nested deeper than %d levels", ONNX_MAX_NESTING);
    return -1;
  }
  size_t pos = 0;
  while (pos < len) {
    size_t key_at = pos;
    uint64_t key, v;
    if (!read_varint(b, len, &pos, &key)) {
      snprintf(msg, msg_len, "truncated field key at byte %zu of a %s", key_at, desc->name);
      return -1;
    }
    uint64_t field = key >> 3;
    unsigned wire = (unsigned)(key & 7);
    if (field == 0 || field > 0x1fffffff) {
      snprintf(msg, msg_len, "invalid field number %llu at byte %zu of a %s",
               (unsigned long long)field, key_at, desc->name);
      return -1;
    }
    switch (wire) {
    case 0:
      if (!read_varint(b, len, &pos, &v)) {
        snprintf(msg, msg_len, "truncated varint in field %llu of a %s", (unsigned long long)field,
                 desc->name);
        return -1;
      }
      break;
    case 1:
    case 5: {
      size_t n = wire == 1 ? 8 : 4;
      if (len - pos < n) {
        snprintf(msg, msg_len, "truncated fixed-size field %llu of a %s", (unsigned long long)field,
                 desc->name);
        return -1;
      }
      pos += n;
      break;
    }
    case 2: {
      if (!read_varint(b, len, &pos, &v) || v > len - pos) {
        snprintf(msg, msg_len, "field %llu of a %s claims more bytes than the data holds",
                 (unsigned long long)field, desc->name);
        return -1;
      }
      const ProtobufCFieldDescriptor *fd =
          protobuf_c_message_descriptor_get_field(desc, (unsigned)field);
      if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
          walk(fd->descriptor, b + pos, (size_t)v, depth + 1, msg, msg_len) != 0)
        return -1;
      pos += (size_t)v;
      break;
    }
    default:
      snprintf(msg, msg_len, "unsupported wire type %u (field %llu of a %s)", wire,
               (unsigned long long)field, desc->name);
      return -1;
    }
  }
  return 0;
}

int onnx_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *bytes, size_t len,
                    char *msg, size_t msg_len) {
  if (len && !bytes) {
    snprintf(msg, msg_len, "no data");
    return -1;
  }
  return walk(desc, bytes, len, 0, msg, msg_len);
}
