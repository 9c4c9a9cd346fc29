/* The MS-CAB header layout (reference section 5), shared by the reader, writer and signer. */
#ifndef DRVSIGN_CAB_LAYOUT_H
#define DRVSIGN_CAB_LAYOUT_H

#define CAB_HEADER 36
#define FLAG_PREV 0x0001
#define FLAG_NEXT 0x0002
#define FLAG_RESERVE 0x0004
#define ATTR_ARCH 0x20
#define ATTR_NAME_IS_UTF 0x80
#define COMPRESS_NONE 0
#define COMPRESS_MSZIP 1
/* the signature slot: cbCFHeader 20, then 00 00 10 00 | offset | size | 8 zero bytes */
#define SLOT 20
#define SLOT_SHIFT (4 + SLOT)
#define MAX_SIGNATURE (16u << 20)

#endif
