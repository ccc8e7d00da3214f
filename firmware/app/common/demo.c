/*
 * hsmemu app-core demo, shared by every board (ppc_demo.elf, arm_demo.elf).
 *
 * The same ELF runs on every app core of its board. Nothing here uses writable globals:
 * per-core state lives on the core's own stack (set up by start.S from INTC CORE_ID).
 *
 * What it does, on core N:
 *   1. prints "hello from <arch> app core N\n" on the UART;
 *   2. computes demo_checksum(N) and prints "checksum xxxxxxxx\n" (8 lowercase hex digits);
 *   3. talks wolfHSM to the HSM over its mailbox channel (wh_mbox_client.c), one line each:
 *        COMM INIT, client id N + 1    "hsm comm init: client <id> server <server id>"
 *        COMM ECHO                     "hsm echo: hello hsm from <arch> core N"
 *        NVM ADDOBJECT 0x0020 + N      "hsm nvm add 0x00XX: rc 0"
 *          label "demo-coreN", access ANY, flags NONE, 16 data bytes: the words
 *          checksum + 0 .. checksum + 3, each most significant byte first
 *        NVM READ 0x0020 + N, 16 bytes "hsm nvm read 0x00XX: 16 bytes ok"
 *        NVM DESTROYOBJECTS {0x0020 + N} "hsm nvm destroy 0x00XX: rc 0"
 *          (the object is removed again, so the server's NVM is left as empty as it was)
 *        CRYPTO RNG, 16 bytes          "hsm rng: 16 bytes" (the bytes are random: not printed)
 *        CRYPTO SHA-256 of "abc"       "hsm sha256: ba7816bf...f20015ad" (64 hex digits; one
 *          final message)
 *        CRYPTO AES-CBC encrypt, then decrypt (SP 800-38A F.2.1, CBC-AES128, four blocks)
 *                                      "hsm aes-cbc: ok"
 *          encrypt the plaintext with the vector's key and IV, decrypt the vector's
 *          ciphertext with the same key and IV; ok when both outputs and both chained IVs
 *          (the last ciphertext block) are as expected, else "mismatch"
 *        COMM CLOSE                    "hsm close: rc 0"
 *      (errors: "hsm comm init: rc R", "hsm echo: rc R", "hsm nvm read 0x00XX: rc R" or
 *      "... N bytes mismatch", "hsm nvm destroy 0x00XX: rc R", "hsm rng: rc R",
 *      "hsm sha256: rc R", "hsm aes-cbc: rc R" (the first failing call's); R in decimal,
 *      negative with a minus sign). The requests do not depend on the answers;
 *   4. detaches from the channel (reply interrupt masked) and idles forever in `idle` (start.S).
 */
#include "demo.h"
#include "hal.h"
#include "wh_mbox_client.h"

#define DEMO_NVM_ID_BASE   0x0020u
#define DEMO_NVM_DATA_LEN  16u

#define CHECKSUM_ITERATIONS 20000u

#define DEMO_RNG_LEN       16u
#define DEMO_AES_LEN       64u

/* NIST SP 800-38A, F.2.1 CBC-AES128.Encrypt (F.2.2 is its inverse). */
static const uint8_t aes_key[16] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
};
static const uint8_t aes_iv[16] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};
static const uint8_t aes_plain[DEMO_AES_LEN] = {
    0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
    0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
    0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
    0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10,
};
static const uint8_t aes_cipher[DEMO_AES_LEN] = {
    0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46, 0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9, 0x19, 0x7d,
    0x50, 0x86, 0xcb, 0x9b, 0x50, 0x72, 0x19, 0xee, 0x95, 0xdb, 0x11, 0x3a, 0x91, 0x76, 0x78, 0xb2,
    0x73, 0xbe, 0xd6, 0xb8, 0xe3, 0xc1, 0x74, 0x3b, 0x71, 0x16, 0xe6, 0x9e, 0x22, 0x22, 0x95, 0x16,
    0x3f, 0xf1, 0xca, 0xa1, 0x68, 0x1f, 0xac, 0x09, 0x12, 0x0e, 0xca, 0x30, 0x75, 0x86, 0xe1, 0xa7,
};

static void uart_putc(char c)
{
    while ((reg_read(UART_BASE + UART_STATUS) & UART_STATUS_TXRDY) == 0) {
    }
    reg_write(UART_BASE + UART_TXDATA, (uint8_t)c);
}

static void uart_puts(const char *s)
{
    while (*s != '\0') {
        uart_putc(*s++);
    }
}

/* The low `digits` hex digits of value, lowercase. */
static void uart_put_hex(uint32_t value, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
        uart_putc(hex[(value >> shift) & 0xFu]);
    }
}

static void uart_put_dec(uint32_t value)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        uart_putc(buf[--n]);
    }
}

static void uart_put_int(int32_t value)
{
    if (value < 0) {
        uart_putc('-');
        uart_put_dec(0u - (uint32_t)value);
    } else {
        uart_put_dec((uint32_t)value);
    }
}

static void uart_put_bytes(const char *p, uint32_t n)
{
    for (uint32_t i = 0u; i < n; i++) {
        uart_putc(p[i]);
    }
}

/* Appends the NUL-terminated s to buf[n..]; returns the new length (buf is NUL-terminated). */
static uint32_t str_append(char *buf, uint32_t n, const char *s)
{
    while (*s != '\0') {
        buf[n++] = *s++;
    }
    buf[n] = '\0';
    return n;
}

static uint32_t str_append_dec(char *buf, uint32_t n, uint32_t value)
{
    char digits[10];
    int k = 0;
    do {
        digits[k++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (k > 0) {
        buf[n++] = digits[--k];
    }
    buf[n] = '\0';
    return n;
}

/*
 * The demo checksum. Keep this formula exactly: the TriCore demo firmware implements the
 * same one, and the tests recompute it in Python.
 *
 *   x = seed (the core id); acc = 0
 *   repeat 20000 times (all arithmetic on uint32, modulo 2^32):
 *       x   = x * 1664525 + 1013904223
 *       acc = acc ^ x
 *       acc = (acc << 1) | (acc >> 31)        (rotate left by 1)
 *   result = acc
 */
__attribute__((noinline)) uint32_t demo_checksum(uint32_t seed)
{
    uint32_t x = seed;
    uint32_t acc = 0u;
    for (uint32_t i = 0u; i < CHECKSUM_ITERATIONS; i++) {
        x = x * 1664525u + 1013904223u;
        acc ^= x;
        acc = (acc << 1) | (acc >> 31);
    }
    return acc;
}

static void print_rc_line(const char *what, int rc)
{
    uart_puts(what);
    uart_puts("rc ");
    uart_put_int(rc);
    uart_putc('\n');
}

static int bytes_equal(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    int same = 1;
    for (uint32_t i = 0u; i < n; i++) {
        same &= a[i] == b[i];
    }
    return same;
}

/* One AES-CBC call from the vector's IV: returns the rc; *ok &= output and chained IV as expected. */
static int demo_aes_cbc_step(struct wh_mbox *ch, int enc, const uint8_t *in, const uint8_t *expect,
                             int *ok)
{
    uint8_t iv[16];
    uint8_t out[DEMO_AES_LEN];
    for (uint32_t i = 0u; i < sizeof iv; i++) {
        iv[i] = aes_iv[i];
    }
    int rc = wh_aes_cbc(ch, enc, aes_key, sizeof aes_key, iv, in, out, DEMO_AES_LEN);
    if (rc == WH_ERROR_OK) {
        /* Either way the chained IV is the last ciphertext block. */
        *ok &= bytes_equal(out, expect, DEMO_AES_LEN) &&
               bytes_equal(iv, aes_cipher + DEMO_AES_LEN - 16u, 16u);
    }
    return rc;
}

/* The crypto part of the demo: RNG, SHA-256, AES-CBC, one console line each. */
static void demo_crypto(struct wh_mbox *ch)
{
    uint8_t random[DEMO_RNG_LEN];
    int rc = wh_rng(ch, random, DEMO_RNG_LEN);
    if (rc == WH_ERROR_OK) {
        uart_puts("hsm rng: ");
        uart_put_dec(DEMO_RNG_LEN);
        uart_puts(" bytes\n");
    } else {
        print_rc_line("hsm rng: ", rc);
    }

    uint8_t digest[WH_SHA256_DIGEST_SIZE];
    rc = wh_sha256(ch, "abc", 3u, digest);
    if (rc == WH_ERROR_OK) {
        uart_puts("hsm sha256: ");
        for (uint32_t i = 0u; i < sizeof digest; i++) {
            uart_put_hex(digest[i], 2);
        }
        uart_putc('\n');
    } else {
        print_rc_line("hsm sha256: ", rc);
    }

    int ok = 1;
    rc = demo_aes_cbc_step(ch, 1, aes_plain, aes_cipher, &ok);
    int rc_dec = demo_aes_cbc_step(ch, 0, aes_cipher, aes_plain, &ok);
    if (rc == WH_ERROR_OK) {
        rc = rc_dec;
    }
    if (rc == WH_ERROR_OK) {
        uart_puts(ok ? "hsm aes-cbc: ok\n" : "hsm aes-cbc: mismatch\n");
    } else {
        print_rc_line("hsm aes-cbc: ", rc);
    }
}

/* The wolfHSM part of the demo (step 3 and 4 above). */
static void demo_hsm(uint32_t id, uint32_t checksum)
{
    struct wh_mbox ch;
    wh_attach(&ch, id);

    int rc = wh_init(&ch, id + 1u);
    if (rc == WH_ERROR_OK) {
        uart_puts("hsm comm init: client ");
        uart_put_dec(ch.client_id);
        uart_puts(" server ");
        uart_put_dec(ch.server_id);
        uart_putc('\n');
    } else {
        print_rc_line("hsm comm init: ", rc);
    }

    char text[40];
    uint32_t len = str_append(text, 0u, "hello hsm from " HAL_ARCH_NAME " core ");
    len = str_append_dec(text, len, id);
    char echo[sizeof text];
    uint16_t echo_len;
    rc = wh_echo(&ch, text, (uint16_t)len, echo, &echo_len);
    if (rc == WH_ERROR_OK) {
        uart_puts("hsm echo: ");
        uart_put_bytes(echo, echo_len);
        uart_putc('\n');
    } else {
        print_rc_line("hsm echo: ", rc);
    }

    uint16_t obj = (uint16_t)(DEMO_NVM_ID_BASE + id);
    char label[WH_NVM_LABEL_LEN];
    str_append_dec(label, str_append(label, 0u, "demo-core"), id);
    uint8_t data[DEMO_NVM_DATA_LEN];
    for (uint32_t k = 0u; k < DEMO_NVM_DATA_LEN / 4u; k++) {
        uint32_t word = checksum + k;
        data[4u * k + 0u] = (uint8_t)(word >> 24);
        data[4u * k + 1u] = (uint8_t)(word >> 16);
        data[4u * k + 2u] = (uint8_t)(word >> 8);
        data[4u * k + 3u] = (uint8_t)word;
    }
    rc = wh_nvm_add(&ch, obj, WH_NVM_ACCESS_ANY, WH_NVM_FLAGS_NONE, label, data,
                    DEMO_NVM_DATA_LEN);
    uart_puts("hsm nvm add 0x");
    uart_put_hex(obj, 4);
    print_rc_line(": ", rc);

    uint8_t back[DEMO_NVM_DATA_LEN];
    uint16_t back_len;
    rc = wh_nvm_read(&ch, obj, 0u, DEMO_NVM_DATA_LEN, back, &back_len);
    uart_puts("hsm nvm read 0x");
    uart_put_hex(obj, 4);
    if (rc != WH_ERROR_OK) {
        print_rc_line(": ", rc);
    } else {
        int same = back_len == DEMO_NVM_DATA_LEN;
        for (uint32_t i = 0u; same && i < DEMO_NVM_DATA_LEN; i++) {
            same = back[i] == data[i];
        }
        uart_puts(": ");
        uart_put_dec(back_len);
        uart_puts(same ? " bytes ok\n" : " bytes mismatch\n");
    }

    rc = wh_nvm_destroy(&ch, &obj, 1u);
    uart_puts("hsm nvm destroy 0x");
    uart_put_hex(obj, 4);
    print_rc_line(": ", rc);

    demo_crypto(&ch);

    rc = wh_close(&ch);
    print_rc_line("hsm close: ", rc);

    wh_detach(&ch);
}

int main(void)
{
    uint32_t id = reg_read(INTC_BASE + INTC_CORE_ID);

    uart_puts("hello from " HAL_ARCH_NAME " app core ");
    uart_put_dec(id);
    uart_putc('\n');

    uint32_t checksum = demo_checksum(id);
    uart_puts("checksum ");
    uart_put_hex(checksum, 8);
    uart_putc('\n');

    demo_hsm(id, checksum);

    idle();
}
