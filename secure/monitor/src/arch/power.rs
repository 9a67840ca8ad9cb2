//! System power control on QEMU virt: the secure PL061 GPIO drives QEMU's
//! power-off and reset lines.

use oxtee_platform::map;

const GPIODIR: u64 = 0x400;

fn write32(addr: u64, val: u32) {
    // SAFETY: addr is a register of the secure PL061, a device only the
    // monitor uses; volatile MMIO writes have no memory-safety effect.
    unsafe { core::ptr::write_volatile(addr as *mut u32, val) };
}

fn pulse(pin: u32) {
    let bit = 1u32 << pin;
    write32(map::SECURE_GPIO_BASE + GPIODIR, bit);
    // PL061 data register: address bits [9:2] select which pins a write hits.
    write32(map::SECURE_GPIO_BASE + ((bit as u64) << 2), bit);
}

pub fn system_off() -> ! {
    pulse(map::GPIO_PIN_POWEROFF);
    loop {
        super::wfi();
    }
}

pub fn system_reset() -> ! {
    pulse(map::GPIO_PIN_RESET);
    loop {
        super::wfi();
    }
}

/// The secure UART, for the monitor's log.
pub fn secure_uart() -> arm_pl011_uart::Uart<'static> {
    use arm_pl011_uart::{PL011Registers, UniqueMmioPointer};
    use core::ptr::NonNull;
    let regs = NonNull::new(map::SECURE_UART_BASE as *mut PL011Registers).unwrap();
    // SAFETY: the secure PL011 is a valid device at this address; the monitor
    // creates this pointer once (the OS later drives the same UART only
    // through its own log lines, which the UART serialises per character).
    let mut uart = arm_pl011_uart::Uart::new(unsafe { UniqueMmioPointer::new(regs) });
    let _ = uart.enable(
        arm_pl011_uart::LineConfig {
            data_bits: arm_pl011_uart::DataBits::Bits8,
            parity: arm_pl011_uart::Parity::None,
            stop_bits: arm_pl011_uart::StopBits::One,
        },
        115_200,
        24_000_000,
    );
    uart
}
