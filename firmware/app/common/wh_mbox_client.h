/*
 * wh_mbox_client: a small, blocking wolfHSM client for app-core firmware (hsmemu's own code).
 *
 * It speaks the wolfHSM v1.4.0 wire format (the same bytes as wolfHSM's own client) over one
 * mailbox channel of the board:
 *
 *   channel n (n = core id) = 0x2000 bytes at MBOX_CHANNEL_BASE(n) (hal.h):
 *     +0x0000  request block  (0x1000 bytes): 8-byte CSR, then the data area
 *     +0x1000  response block (0x1000 bytes): 8-byte CSR, then the data area
 *   CSR (wolfHSM generic shared-memory transport), in the core's own byte order:
 *     +0 u16 notify   +2 u16 len   +4 u16 ack   +6 u16 wait
 *   A packet (8-byte comm header + payload) is at most 0x1000 - 8 = 4088 bytes.
 *
 * Transport (wh_mbox_client.c): a request may be sent only when req.notify == resp.notify. The
 * client writes the packet into the request data area, then (after a memory barrier) the request
 * CSR with len = packet length and notify = req.notify + 1 (ack and wait untouched), then rings its
 * doorbell: HT2HSMF = 1 << n. The response is ready when resp.notify == req.notify; resp.len is its
 * length. Waiting for it is the board's business (board_reply_wait in <arch>/board.c).
 *
 * Comm packet: {u16 magic 0xA501, u16 kind = group | action, u16 seq, u16 aux = 0} + payload, every
 * integer in the core's native byte order (a big-endian PPC sends A5 01, a little-endian ARM 01 A5).
 * seq is 1 for the first request after wh_attach and grows by one per request. A response must
 * carry magic 0xA501 (native), the request's kind and the request's seq, else WH_ERROR_ABORTED.
 *
 * Every call blocks until the response is there. Return value: 0, or a negative error: a
 * transport/format error (BADARGS, NOTREADY, ABORTED) or the rc the server sent back (a wolfHSM
 * error, or for crypto also a wolfCrypt one, e.g. BAD_FUNC_ARG -173).
 * The client state lives in a struct wh_mbox owned by the caller (on the core's stack: the app
 * firmware has no writable globals).
 */
#ifndef HSMEMU_WH_MBOX_CLIENT_H
#define HSMEMU_WH_MBOX_CLIENT_H

#include <stdint.h>

/* wolfHSM error codes (wolfhsm/wh_error.h; identical at v1.4.0) */
#define WH_ERROR_OK              0
#define WH_ERROR_BADARGS         (-2000)  /* bad argument, or a packet too big for the block */
#define WH_ERROR_NOTREADY        (-2001)  /* a previous request is still outstanding */
#define WH_ERROR_ABORTED         (-2002)  /* response with a wrong magic/kind/seq/size */
#define WH_ERROR_BUFFER_SIZE     (-2006)
#define WH_ERROR_ACCESS          (-2101)
#define WH_ERROR_NOTFOUND        (-2104)
#define WH_ERROR_NOSPACE         (-2105)

/* Comm layer */
#define WH_COMM_MAGIC_NATIVE     0xA501u  /* endian marker 0xA5 (high byte), version 0x01 */
#define WH_COMM_HEADER_SIZE      8u
#define WH_MBOX_BLOCK_SIZE       0x1000u  /* request block, response block */
#define WH_MBOX_CSR_SIZE         8u
#define WH_MBOX_MTU              (WH_MBOX_BLOCK_SIZE - WH_MBOX_CSR_SIZE)      /* 4088 */
#define WH_MBOX_MAX_PAYLOAD      (WH_MBOX_MTU - WH_COMM_HEADER_SIZE)          /* 4080 */

#define WH_KIND(group, action)   ((uint16_t)(((group) & 0xFF00u) | ((action) & 0x00FFu)))
#define WH_GROUP_COMM            0x0100u
#define WH_GROUP_NVM             0x0200u
#define WH_GROUP_CRYPTO          0x0400u
#define WH_COMM_ACTION_INIT      0x01u    /* kind 0x0101 */
#define WH_COMM_ACTION_CLOSE     0x03u    /* kind 0x0103 */
#define WH_COMM_ACTION_ECHO      0x05u    /* kind 0x0105 */
#define WH_NVM_ACTION_ADDOBJECT  0x04u    /* kind 0x0204 */
#define WH_NVM_ACTION_GETMETADATA 0x06u   /* kind 0x0206 */
#define WH_NVM_ACTION_DESTROYOBJECTS 0x07u /* kind 0x0207 */
#define WH_NVM_ACTION_READ       0x08u    /* kind 0x0208 */
/* CRYPTO actions = wolfCrypt's wc_AlgoType of the operation family */
#define WH_CRYPTO_ACTION_HASH    0x01u    /* kind 0x0401 */
#define WH_CRYPTO_ACTION_CIPHER  0x02u    /* kind 0x0402 */
#define WH_CRYPTO_ACTION_RNG     0x04u    /* kind 0x0404 */

/* NVM */
#define WH_NVM_LABEL_LEN         24u
#define WH_NVM_METADATA_SIZE     32u      /* u16 id, access, flags, len; u8 label[24] */
#define WH_NVM_MAX_ADD_LEN       (WH_MBOX_MAX_PAYLOAD - WH_NVM_METADATA_SIZE) /* 4048 */
#define WH_NVM_MAX_READ_LEN      (WH_MBOX_MAX_PAYLOAD - 4u)                   /* 4076 */
#define WH_NVM_MAX_DESTROY_COUNT 19u      /* WH_MESSAGE_NVM_MAX_DESTROY_OBJECTS_COUNT */
#define WH_NVM_ACCESS_NONE       0x0000u
#define WH_NVM_ACCESS_ANY        0xFFFFu
#define WH_NVM_FLAGS_NONE        0x0000u

/*
 * Crypto (v1.4.0): every CRYPTO payload starts with the 8-byte request header {u32 algoType,
 * u32 algoSubType = 0}; the response starts with {u32 algoType (echo of the request's), i32 rc}.
 * The algorithm struct follows at payload offset 8. An error response is the 8-byte header only.
 */
#define WH_CRYPTO_HEADER_SIZE    8u
#define WH_ALGO_TYPE_RNG         4u       /* RNG: algoType = the action value */
#define WH_HASH_TYPE_SHA256      6u       /* wc_HashType WC_HASH_TYPE_SHA256 */
#define WH_CIPHER_TYPE_AES_CBC   2u       /* wc_CipherType WC_CIPHER_AES_CBC */
#define WH_KEYID_ERASED          0x0000u  /* keyId field of a request with an inline key */

#define WH_RNG_MAX_CHUNK         (WH_MBOX_MAX_PAYLOAD - WH_CRYPTO_HEADER_SIZE - 4u)   /* 4068 */
#define WH_SHA256_REQUEST_SIZE   116u     /* resumeState[40], isLastBlock, lastBlockLen, inBlock[64], pad */
#define WH_SHA2_RESPONSE_SIZE    76u      /* hiLen, loLen, hash[64], hashType */
#define WH_SHA256_BLOCK_SIZE     64u
#define WH_SHA256_DIGEST_SIZE    32u
#define WH_AES_CBC_STRUCT_SIZE   16u      /* request {enc, keyLen, sz, u16 keyId, pad}; response {sz, pad} */
#define WH_AES_BLOCK_SIZE        16u

/* One client on one mailbox channel. Fill it with wh_attach; treat the fields as read-only. */
struct wh_mbox {
    uintptr_t base;        /* channel base: request block; the response block is at +0x1000 */
    uint32_t core;         /* channel index n = core id; doorbell/reply flag bit n */
    uint16_t seq;          /* seq of the last request (0 after attach) */
    uint16_t notify;       /* req.notify of the last request */
    uint16_t kind;         /* kind of the last request */
    uint16_t pad;
    uint32_t client_id;    /* from the last successful COMM INIT (0 before) */
    uint32_t server_id;    /* from the last successful COMM INIT (0 before) */
};

/* NVM object metadata (whNvmMetadata). */
struct wh_nvm_meta {
    uint16_t id;
    uint16_t access;
    uint16_t flags;
    uint16_t len;
    uint8_t label[WH_NVM_LABEL_LEN];
};

/*
 * Attach to channel `core` (= this core's id): zero both blocks of the channel (CSRs included,
 * as wolfHSM's client does when it attaches), acknowledge a stale reply flag, enable the reply
 * interrupt (HSM2HTIE bit n under the app cores' spinlock, INTC ENABLE line 0).
 */
void wh_attach(struct wh_mbox *ch, uint32_t core);

/* Stop using the channel: mask the reply interrupt (INTC line 0, HSM2HTIE bit n) and acknowledge
 * any reply flag still set, so that the core can sleep in `idle` without being woken again. */
void wh_detach(struct wh_mbox *ch);

/* COMM INIT (0x0101): request u32 client_id; response u32 client_id, u32 server_id (both kept in
 * *ch). An empty response (the server refused the id) gives WH_ERROR_ABORTED. */
int wh_init(struct wh_mbox *ch, uint32_t client_id);

/* COMM ECHO (0x0105): sends len bytes; the answer (at most len bytes, else ABORTED) goes to out,
 * its length to *outlen. */
int wh_echo(struct wh_mbox *ch, const void *data, uint16_t len, void *out, uint16_t *outlen);

/* NVM ADDOBJECT (0x0204): metadata {id, access, flags, len, label} + len data bytes. label is a
 * NUL-terminated string (at most 24 bytes are sent, zero padded; NULL = all zero). Returns the
 * server's rc (0, ACCESS, NOSPACE, ...). */
int wh_nvm_add(struct wh_mbox *ch, uint16_t id, uint16_t access, uint16_t flags, const char *label,
               const void *data, uint16_t len);

/* NVM READ (0x0208): request {id, offset, len}; response i32 rc, then the data (the server clamps
 * it to the object). out must hold len bytes; *outlen = the number of bytes received. */
int wh_nvm_read(struct wh_mbox *ch, uint16_t id, uint16_t offset, uint16_t len, void *out,
                uint16_t *outlen);

/* NVM DESTROYOBJECTS (0x0207): request {u16 list_count, u16 list[19]} (40 bytes, always: the
 * first `count` entries are ids[0..count-1], the rest zero); response i32 rc. count > 19, or ids
 * NULL with count > 0, gives WH_ERROR_BADARGS (nothing sent). count 0 asks for a compaction only.
 * Returns the server's rc (0, ACCESS; v1.4.0: NOTFOUND if a listed id is absent, and then nothing
 * is destroyed). */
int wh_nvm_destroy(struct wh_mbox *ch, const uint16_t *ids, uint16_t count);

/* NVM GETMETADATA (0x0206): request u16 id; response i32 rc + metadata (36 bytes). */
int wh_nvm_getmetadata(struct wh_mbox *ch, uint16_t id, struct wh_nvm_meta *meta);

/*
 * CRYPTO RNG (0x0404, algoType 4): request {u32 sz}; response {u32 sz} + sz random bytes.
 * Fills out[0..len) asking at most WH_RNG_MAX_CHUNK bytes per message (what fits the 4088-byte
 * packet); an answer shorter than asked is accepted and the rest asked for again. An answer of 0
 * bytes, more bytes than asked, or a size that disagrees with its sz field gives ABORTED. len 0
 * sends nothing.
 */
int wh_rng(struct wh_mbox *ch, void *out, uint32_t len);

/*
 * CRYPTO HASH (0x0401, algoType 6 = SHA-256), v1.4.0: one 64-byte block per message. The client
 * keeps wolfCrypt's midstate {u32 hiLen, u32 loLen (bytes compressed so far, 64-bit count split
 * in halves), u32 H0..H7 in the core's byte order} and sends it in every request [116]:
 *   {hiLen, loLen, hash[32], u32 isLastBlock, u32 lastBlockLen, u8 inBlock[64], pad[4]}.
 * Each whole block of data goes in a non-final message (isLastBlock 0, lastBlockLen 0); the
 * server answers [76] {hiLen, loLen, hash[64] (new H words in the first 32 bytes), hashType}
 * and the client carries those counters and words into the next request. The last message
 * (always sent, also for len 0 or a multiple of 64) has isLastBlock 1 and the remaining
 * 0..63 bytes (lastBlockLen, the rest of inBlock zero); its answer's hash[0..32) is the digest.
 * The first request carries hiLen = loLen = 0 and the SHA-256 IV. The answer's hashType is not
 * looked at (the v1.4.0 server leaves it unset). data may be NULL only when len is 0.
 */
int wh_sha256(struct wh_mbox *ch, const void *data, uint32_t len, uint8_t digest[32]);

/*
 * CRYPTO CIPHER (0x0402, algoType 2 = AES-CBC), v1.4.0, inline key (keyId = WH_KEYID_ERASED):
 * request {u32 enc (1 encrypt, 0 decrypt), u32 keyLen, u32 sz, u16 keyId, pad[2]} + in[sz] +
 * key[keyLen] + iv[16]; response {u32 sz, pad[12]} + out[sz] (no IV at v1.4.0). keylen must be
 * 16, 24 or 32 and len a multiple of 16 (else BADARGS, nothing sent); longer data is sent in
 * several messages of whole blocks. The client chains the IV itself, as wolfHSM's v1.4.0 client
 * does: after each message iv = the last ciphertext block (encrypt: the last output block;
 * decrypt: the last input block), so on return iv[] holds the IV for a following call (after an
 * error: the IV after the messages that succeeded). in and out may be the same buffer.
 */
int wh_aes_cbc(struct wh_mbox *ch, int enc, const void *key, uint32_t keylen, uint8_t iv[16],
               const void *in, void *out, uint32_t len);

/* COMM CLOSE (0x0103): empty request, empty response (its size is not checked, as at v1.4.0). */
int wh_close(struct wh_mbox *ch);

/* Native-order accessors of channel memory (volatile: the HSM reads and writes it too). */
static inline void wh_put8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void wh_put16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void wh_put32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint8_t wh_get8(uintptr_t a) { return *(const volatile uint8_t *)a; }
static inline uint16_t wh_get16(uintptr_t a) { return *(const volatile uint16_t *)a; }
static inline uint32_t wh_get32(uintptr_t a) { return *(const volatile uint32_t *)a; }

/*
 * The raw layer under the calls above, for messages this file has no call for: check wh_begin(ch)
 * (0, or NOTREADY while a request is outstanding), write the payload with the wh_put* helpers at
 * wh_req_payload(ch), then wh_call() adds the header (next seq), sends and waits; on success the
 * response payload (header checked) is at wh_resp_payload(ch), *resp_len bytes.
 */
int wh_begin(const struct wh_mbox *ch);
uintptr_t wh_req_payload(const struct wh_mbox *ch);
uintptr_t wh_resp_payload(const struct wh_mbox *ch);
int wh_call(struct wh_mbox *ch, uint16_t kind, uint16_t req_len, uint16_t *resp_len);

#endif
