/*
 * Register offsets of the emulator's own UART and interrupt controller, shared by every board.
 * These blocks are hsmemu models (not register-compatible with any vendor part); the base
 * addresses live in each board's hal.h (and in the board TOML, [peripherals.*] base).
 *
 * Included by C and by assembler (start.S): plain numbers only, no casts or suffixes.
 */
#ifndef HSMEMU_APP_REGS_H
#define HSMEMU_APP_REGS_H

/* UART */
#define UART_TXDATA        0x00   /* write: the low byte is one output character */
#define UART_STATUS        0x04   /* read: bit 0 = TX ready */
#define UART_STATUS_TXRDY  0x1

/* INTC: every register is banked per accessing app core */
#define INTC_CORE_ID       0x00   /* read: index of the accessing app core, 0..n-1 */
#define INTC_PENDING       0x04   /* read: pending IRQ lines; write 1 to clear */
#define INTC_ENABLE        0x08   /* read/write: enabled IRQ lines */
#define INTC_HALT          0x0C   /* write: stops this core */

#define IRQ_LINE_MAILBOX   0      /* mailbox reply (HSM2HTF with HSM2HTIE) */
#define IRQ_LINE_TIMER     1

/* Mailbox channel memory (wolfHSM shared-memory transport layout): n = core index */
#define CH_REQUEST         0x0000 /* request block: 8-byte control word, then data */
#define CH_RESPONSE        0x1000 /* response block: 8-byte control word, then data */
#define CH_DATA            0x0008 /* data offset inside a block */

#endif
