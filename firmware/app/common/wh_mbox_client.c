/*
 * wh_mbox_client: blocking wolfHSM client over an hsmemu mailbox channel (see wh_mbox_client.h).
 *
 * Written for hsmemu from the wire specification (shared/spec/wolfhsm-wire-core.md sections 1.3,
 * 2, 3, 4, wolfhsm-wire-crypto.md sections 1, 3.1, 3.4, 3.7 and the v1.4.0 differences in
 * wolfhsm-v1.4.0-diff.md); it produces the same bytes as wolfHSM's own client (except for the
 * bytes wolfHSM's client leaves uninitialised, which this one sends as zero).
 *
 * Requests are built in place: the header and the payload are stored straight into the request
 * data area (channel memory is accessed with volatile native-order loads and stores, so nothing
 * is copied through a local buffer and the compiler never calls memcpy/memset, which this
 * freestanding firmware does not have).
 */
#include "wh_mbox_client.h"

#include "demo.h"
#include "hal.h"

#define REQ_BLOCK(ch)   ((ch)->base)
#define RESP_BLOCK(ch)  ((ch)->base + WH_MBOX_BLOCK_SIZE)

/* The CSR's first word holds notify (+0) and len (+2) in native order. It is read and written as
 * one aligned 32-bit access, so the other side never sees a new notify with an old len. ack (+4)
 * and wait (+6) are never written after wh_attach (wolfHSM's client only copies them). */
union csr_word {
    uint32_t word;
    struct {
        uint16_t notify;
        uint16_t len;
    } f;
};

static union csr_word csr_read(uintptr_t block)
{
    union csr_word c;
    c.word = wh_get32(block);
    return c;
}

static void csr_write(uintptr_t block, uint16_t notify, uint16_t len)
{
    union csr_word c;
    c.f.notify = notify;
    c.f.len = len;
    wh_put32(block, c.word);
}

/* The app cores' spinlock around read-modify-writes of HSM2HTIE (one register for all cores);
 * APP_MBOX_LOCK is zero at power-on. The owner value is core id + 1 (never 0). */
static void app_lock_take(uint32_t owner)
{
    volatile uint32_t *lock = (volatile uint32_t *)APP_MBOX_LOCK;
    uint32_t expected;
    do {
        expected = 0u;
    } while (!__atomic_compare_exchange_n(lock, &expected, owner, 0, __ATOMIC_ACQUIRE,
                                          __ATOMIC_RELAXED));
}

static void app_lock_give(void)
{
    __atomic_store_n((volatile uint32_t *)APP_MBOX_LOCK, 0u, __ATOMIC_RELEASE);
}

static void hsm2htie_update(uint32_t core, uint32_t set, uint32_t clear)
{
    app_lock_take(core + 1u);
    reg_write(MBOX_BASE + MBOX_HSM2HTIE, (reg_read(MBOX_BASE + MBOX_HSM2HTIE) & ~clear) | set);
    app_lock_give();
}

void wh_attach(struct wh_mbox *ch, uint32_t core)
{
    ch->base = MBOX_CHANNEL_BASE(core);
    ch->core = core;
    ch->seq = 0u;
    ch->notify = 0u;
    ch->kind = 0u;
    ch->pad = 0u;
    ch->client_id = 0u;
    ch->server_id = 0u;

    /* Zero both blocks, CSRs included (wolfHSM's client zero-fills the blocks when it attaches). */
    for (uint32_t off = 0u; off < 2u * WH_MBOX_BLOCK_SIZE; off += 4u) {
        wh_put32(ch->base + off, 0u);
    }
    __sync_synchronize();

    board_reply_reset(core);
    hsm2htie_update(core, 1u << core, 0u);
    reg_write(INTC_BASE + INTC_ENABLE,
              reg_read(INTC_BASE + INTC_ENABLE) | (1u << IRQ_LINE_MAILBOX));
}

void wh_detach(struct wh_mbox *ch)
{
    reg_write(INTC_BASE + INTC_ENABLE,
              reg_read(INTC_BASE + INTC_ENABLE) & ~(1u << IRQ_LINE_MAILBOX));
    hsm2htie_update(ch->core, 0u, 1u << ch->core);
    board_reply_reset(ch->core);
}

uintptr_t wh_req_payload(const struct wh_mbox *ch)
{
    return REQ_BLOCK(ch) + WH_MBOX_CSR_SIZE + WH_COMM_HEADER_SIZE;
}

uintptr_t wh_resp_payload(const struct wh_mbox *ch)
{
    return RESP_BLOCK(ch) + WH_MBOX_CSR_SIZE + WH_COMM_HEADER_SIZE;
}

int wh_begin(const struct wh_mbox *ch)
{
    /* A new request may be written only once the previous exchange is complete. */
    if (csr_read(REQ_BLOCK(ch)).f.notify != csr_read(RESP_BLOCK(ch)).f.notify) {
        return WH_ERROR_NOTREADY;
    }
    return WH_ERROR_OK;
}

/* board_reply_wait's readiness test: the response block answers the last request. */
static int response_ready(const void *arg)
{
    const struct wh_mbox *ch = (const struct wh_mbox *)arg;
    return csr_read(RESP_BLOCK(ch)).f.notify == ch->notify;
}

int wh_call(struct wh_mbox *ch, uint16_t kind, uint16_t req_len, uint16_t *resp_len)
{
    uintptr_t req = REQ_BLOCK(ch) + WH_MBOX_CSR_SIZE;
    uintptr_t resp = RESP_BLOCK(ch) + WH_MBOX_CSR_SIZE;

    *resp_len = 0u;
    if (req_len > WH_MBOX_MAX_PAYLOAD) {
        return WH_ERROR_BADARGS;
    }
    if (wh_begin(ch) != WH_ERROR_OK) {
        return WH_ERROR_NOTREADY; /* the previous exchange is not complete */
    }
    uint16_t notify = csr_read(REQ_BLOCK(ch)).f.notify;

    /* Comm header; the payload is already in place behind it. */
    uint16_t seq = (uint16_t)(ch->seq + 1u);
    wh_put16(req + 0u, (uint16_t)WH_COMM_MAGIC_NATIVE);
    wh_put16(req + 2u, kind);
    wh_put16(req + 4u, seq);
    wh_put16(req + 6u, 0u);
    ch->seq = seq;
    ch->kind = kind;
    notify = (uint16_t)(notify + 1u);
    ch->notify = notify;

    /* Forget the previous reply's flag and IRQ line (no request is outstanding, so nothing of
     * this channel can be in flight): the reply to this request must raise the line anew. */
    board_reply_reset(ch->core);

    __sync_synchronize();                     /* data before CSR */
    csr_write(REQ_BLOCK(ch), notify, (uint16_t)(WH_COMM_HEADER_SIZE + req_len));
    hal_barrier();                            /* CSR before the doorbell */
    reg_write(MBOX_BASE + MBOX_HT2HSMF, 1u << ch->core);

    board_reply_wait(ch->core, response_ready, ch);
    __sync_synchronize();                     /* CSR before data */

    uint16_t len = csr_read(RESP_BLOCK(ch)).f.len;
    if (len < WH_COMM_HEADER_SIZE || len > WH_MBOX_MTU) {
        return WH_ERROR_ABORTED;
    }
    if (wh_get16(resp + 0u) != (uint16_t)WH_COMM_MAGIC_NATIVE || wh_get16(resp + 2u) != kind ||
        wh_get16(resp + 4u) != seq) {
        return WH_ERROR_ABORTED; /* as wolfHSM v1.4.0: magic, kind and seq must match */
    }
    *resp_len = (uint16_t)(len - WH_COMM_HEADER_SIZE);
    return WH_ERROR_OK;
}

static int32_t get_rc(uintptr_t addr)
{
    return (int32_t)wh_get32(addr);
}

int wh_init(struct wh_mbox *ch, uint32_t client_id)
{
    uint16_t n;
    int rc = wh_begin(ch);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    wh_put32(wh_req_payload(ch), client_id);
    rc = wh_call(ch, WH_KIND(WH_GROUP_COMM, WH_COMM_ACTION_INIT), 4u, &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    if (n != 8u) {
        return WH_ERROR_ABORTED; /* the server refused the id with an empty response */
    }
    uintptr_t r = wh_resp_payload(ch);
    ch->client_id = wh_get32(r + 0u);
    ch->server_id = wh_get32(r + 4u);
    return WH_ERROR_OK;
}

int wh_echo(struct wh_mbox *ch, const void *data, uint16_t len, void *out, uint16_t *outlen)
{
    const uint8_t *src = (const uint8_t *)data;
    uint8_t *dst = (uint8_t *)out;
    uint16_t n;

    *outlen = 0u;
    if (len > WH_MBOX_MAX_PAYLOAD || (len != 0u && (src == 0 || dst == 0))) {
        return WH_ERROR_BADARGS;
    }
    int rc = wh_begin(ch);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    uintptr_t p = wh_req_payload(ch);
    for (uint16_t i = 0u; i < len; i++) {
        wh_put8(p + i, src[i]);
    }
    rc = wh_call(ch, WH_KIND(WH_GROUP_COMM, WH_COMM_ACTION_ECHO), len, &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    if (n > len) {
        return WH_ERROR_ABORTED;
    }
    uintptr_t r = wh_resp_payload(ch);
    for (uint16_t i = 0u; i < n; i++) {
        dst[i] = wh_get8(r + i);
    }
    *outlen = n;
    return WH_ERROR_OK;
}

int wh_nvm_add(struct wh_mbox *ch, uint16_t id, uint16_t access, uint16_t flags, const char *label,
               const void *data, uint16_t len)
{
    const uint8_t *src = (const uint8_t *)data;
    uint16_t n;

    if (len > WH_NVM_MAX_ADD_LEN || (len != 0u && src == 0)) {
        return WH_ERROR_BADARGS;
    }
    int rc = wh_begin(ch);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    uintptr_t p = wh_req_payload(ch);
    wh_put16(p + 0u, id);
    wh_put16(p + 2u, access);
    wh_put16(p + 4u, flags);
    wh_put16(p + 6u, len);
    uint32_t i = 0u;
    if (label != 0) {
        for (; i < WH_NVM_LABEL_LEN && label[i] != '\0'; i++) {
            wh_put8(p + 8u + i, (uint8_t)label[i]);
        }
    }
    for (; i < WH_NVM_LABEL_LEN; i++) {
        wh_put8(p + 8u + i, 0u);
    }
    for (uint16_t k = 0u; k < len; k++) {
        wh_put8(p + WH_NVM_METADATA_SIZE + k, src[k]);
    }
    rc = wh_call(ch, WH_KIND(WH_GROUP_NVM, WH_NVM_ACTION_ADDOBJECT),
                     (uint16_t)(WH_NVM_METADATA_SIZE + len), &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    if (n != 4u) {
        return WH_ERROR_ABORTED;
    }
    return get_rc(wh_resp_payload(ch));
}

int wh_nvm_read(struct wh_mbox *ch, uint16_t id, uint16_t offset, uint16_t len, void *out,
                uint16_t *outlen)
{
    uint8_t *dst = (uint8_t *)out;
    uint16_t n;

    *outlen = 0u;
    if (len > WH_NVM_MAX_READ_LEN || (len != 0u && dst == 0)) {
        return WH_ERROR_BADARGS;
    }
    int rc = wh_begin(ch);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    uintptr_t p = wh_req_payload(ch);
    wh_put16(p + 0u, id);
    wh_put16(p + 2u, offset);
    wh_put16(p + 4u, len);
    rc = wh_call(ch, WH_KIND(WH_GROUP_NVM, WH_NVM_ACTION_READ), 6u, &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    if (n < 4u) {
        return WH_ERROR_ABORTED;
    }
    uintptr_t r = wh_resp_payload(ch);
    int32_t server_rc = get_rc(r);
    if (server_rc != WH_ERROR_OK) {
        return server_rc;
    }
    n = (uint16_t)(n - 4u);
    if (n > len) {
        return WH_ERROR_ABORTED; /* more than asked for */
    }
    for (uint16_t i = 0u; i < n; i++) {
        dst[i] = wh_get8(r + 4u + i);
    }
    *outlen = n;
    return WH_ERROR_OK;
}

int wh_nvm_destroy(struct wh_mbox *ch, const uint16_t *ids, uint16_t count)
{
    uint16_t n;

    if (count > WH_NVM_MAX_DESTROY_COUNT || (count != 0u && ids == 0)) {
        return WH_ERROR_BADARGS;
    }
    int rc = wh_begin(ch);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    uintptr_t p = wh_req_payload(ch);
    wh_put16(p + 0u, count);
    for (uint32_t i = 0u; i < WH_NVM_MAX_DESTROY_COUNT; i++) {
        wh_put16(p + 2u + 2u * i, i < count ? ids[i] : 0u);
    }
    rc = wh_call(ch, WH_KIND(WH_GROUP_NVM, WH_NVM_ACTION_DESTROYOBJECTS),
                 (uint16_t)(2u + 2u * WH_NVM_MAX_DESTROY_COUNT), &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    if (n != 4u) {
        return WH_ERROR_ABORTED;
    }
    return get_rc(wh_resp_payload(ch));
}

int wh_nvm_getmetadata(struct wh_mbox *ch, uint16_t id, struct wh_nvm_meta *meta)
{
    uint16_t n;

    if (meta == 0) {
        return WH_ERROR_BADARGS;
    }
    int rc = wh_begin(ch);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    wh_put16(wh_req_payload(ch), id);
    rc = wh_call(ch, WH_KIND(WH_GROUP_NVM, WH_NVM_ACTION_GETMETADATA), 2u, &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    if (n != 4u + WH_NVM_METADATA_SIZE) {
        return WH_ERROR_ABORTED;
    }
    uintptr_t r = wh_resp_payload(ch);
    meta->id = wh_get16(r + 4u);
    meta->access = wh_get16(r + 6u);
    meta->flags = wh_get16(r + 8u);
    meta->len = wh_get16(r + 10u);
    for (uint32_t i = 0u; i < WH_NVM_LABEL_LEN; i++) {
        meta->label[i] = wh_get8(r + 12u + i);
    }
    return get_rc(r);
}

int wh_close(struct wh_mbox *ch)
{
    uint16_t n;
    return wh_call(ch, WH_KIND(WH_GROUP_COMM, WH_COMM_ACTION_CLOSE), 0u, &n);
}

/* ---------------------------------------------------------------------------------------------
 * Crypto (shared/spec/wolfhsm-wire-crypto.md sections 1, 3.1, 3.4, 3.7 as changed by
 * wolfhsm-v1.4.0-diff.md section 10: 8-byte envelope, no IV in the AES-CBC response, one SHA-256
 * block per message).
 */

/* The SHA-256 initial hash value H0..H7 (FIPS 180-4, 5.3.3). */
static const uint32_t sha256_iv[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

/* Writes the request envelope {algoType, algoSubType = 0}; returns the algorithm struct's address. */
static uintptr_t crypto_begin(const struct wh_mbox *ch, uint32_t algo_type)
{
    uintptr_t p = wh_req_payload(ch);
    wh_put32(p + 0u, algo_type);
    wh_put32(p + 4u, 0u);
    return p + WH_CRYPTO_HEADER_SIZE;
}

/* Sends the crypto request (req_len payload bytes, envelope included) and checks the response
 * envelope: at least 8 bytes and the request's algoType (else ABORTED), then rc (returned when
 * non-zero). On success *body_len is the size of what follows the envelope. */
static int crypto_call(struct wh_mbox *ch, uint16_t action, uint32_t algo_type, uint32_t req_len,
                       uint16_t *body_len)
{
    uint16_t n;
    *body_len = 0u;
    int rc = wh_call(ch, WH_KIND(WH_GROUP_CRYPTO, action), (uint16_t)req_len, &n);
    if (rc != WH_ERROR_OK) {
        return rc;
    }
    uintptr_t r = wh_resp_payload(ch);
    if (n < WH_CRYPTO_HEADER_SIZE || wh_get32(r + 0u) != algo_type) {
        return WH_ERROR_ABORTED;
    }
    int32_t server_rc = get_rc(r + 4u);
    if (server_rc != WH_ERROR_OK) {
        return server_rc;
    }
    *body_len = (uint16_t)(n - WH_CRYPTO_HEADER_SIZE);
    return WH_ERROR_OK;
}

int wh_rng(struct wh_mbox *ch, void *out, uint32_t len)
{
    uint8_t *dst = (uint8_t *)out;

    if (len != 0u && dst == 0) {
        return WH_ERROR_BADARGS;
    }
    while (len > 0u) {
        uint32_t ask = len < WH_RNG_MAX_CHUNK ? len : WH_RNG_MAX_CHUNK;
        int rc = wh_begin(ch);
        if (rc != WH_ERROR_OK) {
            return rc;
        }
        uintptr_t s = crypto_begin(ch, WH_ALGO_TYPE_RNG);
        wh_put32(s + 0u, ask); /* sz */
        uint16_t n;
        rc = crypto_call(ch, WH_CRYPTO_ACTION_RNG, WH_ALGO_TYPE_RNG, WH_CRYPTO_HEADER_SIZE + 4u, &n);
        if (rc != WH_ERROR_OK) {
            return rc;
        }
        uintptr_t r = wh_resp_payload(ch) + WH_CRYPTO_HEADER_SIZE;
        if (n < 4u) {
            return WH_ERROR_ABORTED;
        }
        uint32_t got = wh_get32(r + 0u);
        if (got == 0u || got > ask || n != 4u + got) {
            return WH_ERROR_ABORTED;
        }
        for (uint32_t i = 0u; i < got; i++) {
            dst[i] = wh_get8(r + 4u + i);
        }
        dst += got;
        len -= got;
    }
    return WH_ERROR_OK;
}

int wh_sha256(struct wh_mbox *ch, const void *data, uint32_t len, uint8_t digest[32])
{
    const uint8_t *src = (const uint8_t *)data;
    uint32_t hi_len = 0u;
    uint32_t lo_len = 0u;
    uint32_t h[8];

    if ((len != 0u && src == 0) || digest == 0) {
        return WH_ERROR_BADARGS;
    }
    for (uint32_t k = 0u; k < 8u; k++) {
        h[k] = sha256_iv[k];
    }
    for (;;) {
        uint32_t last = len < WH_SHA256_BLOCK_SIZE ? 1u : 0u;
        uint32_t take = last ? len : WH_SHA256_BLOCK_SIZE;
        int rc = wh_begin(ch);
        if (rc != WH_ERROR_OK) {
            return rc;
        }
        uintptr_t s = crypto_begin(ch, WH_HASH_TYPE_SHA256);
        wh_put32(s + 0u, hi_len);                       /* resumeState.hiLen */
        wh_put32(s + 4u, lo_len);                       /* resumeState.loLen */
        for (uint32_t k = 0u; k < 8u; k++) {
            wh_put32(s + 8u + 4u * k, h[k]);            /* resumeState.hash: native words */
        }
        wh_put32(s + 40u, last);                        /* isLastBlock */
        wh_put32(s + 44u, last ? take : 0u);            /* lastBlockLen */
        for (uint32_t i = 0u; i < WH_SHA256_BLOCK_SIZE; i++) {
            wh_put8(s + 48u + i, i < take ? src[i] : 0u); /* inBlock */
        }
        wh_put32(s + 112u, 0u);                         /* pad */
        uint16_t n;
        rc = crypto_call(ch, WH_CRYPTO_ACTION_HASH, WH_HASH_TYPE_SHA256,
                         WH_CRYPTO_HEADER_SIZE + WH_SHA256_REQUEST_SIZE, &n);
        if (rc != WH_ERROR_OK) {
            return rc;
        }
        if (n != WH_SHA2_RESPONSE_SIZE) {
            return WH_ERROR_ABORTED;
        }
        uintptr_t r = wh_resp_payload(ch) + WH_CRYPTO_HEADER_SIZE;
        if (last) {
            for (uint32_t i = 0u; i < WH_SHA256_DIGEST_SIZE; i++) {
                digest[i] = wh_get8(r + 8u + i); /* the standard big-endian digest */
            }
            return WH_ERROR_OK;
        }
        hi_len = wh_get32(r + 0u);
        lo_len = wh_get32(r + 4u);
        for (uint32_t k = 0u; k < 8u; k++) {
            h[k] = wh_get32(r + 8u + 4u * k);
        }
        src += WH_SHA256_BLOCK_SIZE;
        len -= WH_SHA256_BLOCK_SIZE;
    }
}

int wh_aes_cbc(struct wh_mbox *ch, int enc, const void *key, uint32_t keylen, uint8_t iv[16],
               const void *in, void *out, uint32_t len)
{
    const uint8_t *k = (const uint8_t *)key;
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;

    if (k == 0 || iv == 0 || (keylen != 16u && keylen != 24u && keylen != 32u) ||
        len % WH_AES_BLOCK_SIZE != 0u || (len != 0u && (src == 0 || dst == 0))) {
        return WH_ERROR_BADARGS;
    }
    /* Whole blocks per message: the request {struct, in, key, iv} must fit the payload (the
     * response {struct, out} is smaller). */
    uint32_t max = (WH_MBOX_MAX_PAYLOAD - WH_CRYPTO_HEADER_SIZE - WH_AES_CBC_STRUCT_SIZE -
                    keylen - WH_AES_BLOCK_SIZE) / WH_AES_BLOCK_SIZE * WH_AES_BLOCK_SIZE;
    while (len > 0u) {
        uint32_t sz = len < max ? len : max;
        int rc = wh_begin(ch);
        if (rc != WH_ERROR_OK) {
            return rc;
        }
        uintptr_t s = crypto_begin(ch, WH_CIPHER_TYPE_AES_CBC);
        wh_put32(s + 0u, enc ? 1u : 0u);    /* enc */
        wh_put32(s + 4u, keylen);           /* keyLen */
        wh_put32(s + 8u, sz);               /* sz */
        wh_put16(s + 12u, WH_KEYID_ERASED); /* keyId: the inline key */
        wh_put16(s + 14u, 0u);              /* pad */
        uintptr_t d = s + WH_AES_CBC_STRUCT_SIZE;
        for (uint32_t i = 0u; i < sz; i++) {
            wh_put8(d + i, src[i]);
        }
        for (uint32_t i = 0u; i < keylen; i++) {
            wh_put8(d + sz + i, k[i]);
        }
        for (uint32_t i = 0u; i < WH_AES_BLOCK_SIZE; i++) {
            wh_put8(d + sz + keylen + i, iv[i]);
        }
        uint16_t n;
        rc = crypto_call(ch, WH_CRYPTO_ACTION_CIPHER, WH_CIPHER_TYPE_AES_CBC,
                         WH_CRYPTO_HEADER_SIZE + WH_AES_CBC_STRUCT_SIZE + sz + keylen +
                             WH_AES_BLOCK_SIZE,
                         &n);
        if (rc != WH_ERROR_OK) {
            return rc;
        }
        uintptr_t r = wh_resp_payload(ch) + WH_CRYPTO_HEADER_SIZE;
        if (n != WH_AES_CBC_STRUCT_SIZE + sz || wh_get32(r + 0u) != sz) {
            return WH_ERROR_ABORTED;
        }
        /* Chain: the next IV is the last ciphertext block. Decrypting, that is the last input
         * block, taken before out (which may be in) is written. */
        if (!enc) {
            for (uint32_t i = 0u; i < WH_AES_BLOCK_SIZE; i++) {
                iv[i] = src[sz - WH_AES_BLOCK_SIZE + i];
            }
        }
        for (uint32_t i = 0u; i < sz; i++) {
            dst[i] = wh_get8(r + WH_AES_CBC_STRUCT_SIZE + i);
        }
        if (enc) {
            for (uint32_t i = 0u; i < WH_AES_BLOCK_SIZE; i++) {
                iv[i] = dst[sz - WH_AES_BLOCK_SIZE + i];
            }
        }
        src += sz;
        dst += sz;
        len -= sz;
    }
    return WH_ERROR_OK;
}
