//! The shared library's interface (`lib/dltest_lib.c`): the only `unsafe`
//! of this TA, calls across the C ABI into code the OS's loader linked.

unsafe extern "C" {
    fn dltest_add(a: u64, b: u64) -> u64;
    fn dltest_call_back(x: u64) -> u64;
    fn dltest_weak_is_null() -> i32;
    fn dltest_counter_address() -> *const u64;
    static dltest_counter: u64;
    static dltest_counter_ptr: *const u64;
}

/// What this TA exports to the library, which calls it back.
#[unsafe(no_mangle)]
pub extern "C" fn dltest_ta_tag() -> u64 {
    u64::from(oxtee_abi::dl_test_ta::TAG)
}

pub fn add(a: u64, b: u64) -> u64 {
    // SAFETY: a plain C function of the library taking and returning
    // integers.
    unsafe { dltest_add(a, b) }
}

pub fn call_back(x: u64) -> u64 {
    // SAFETY: as `add`; it calls this TA's `dltest_ta_tag`.
    unsafe { dltest_call_back(x) }
}

pub fn weak_is_null() -> bool {
    // SAFETY: as `add`.
    unsafe { dltest_weak_is_null() != 0 }
}

/// The library's counter, read through this TA's GOT entry for it.
pub fn counter() -> u64 {
    // SAFETY: the library's counter is an initialised u64 only the
    // library's functions change, on this (the TA's only) thread.
    unsafe { core::ptr::read_volatile(&raw const dltest_counter) }
}

/// Whether the library's pointer to its counter (an ABS64 relocation) and
/// the library's own idea of the counter's address agree with where this
/// TA sees it.
pub fn pointers_agree() -> bool {
    // SAFETY: a read of an initialised pointer variable of the library.
    let ptr = unsafe { core::ptr::read_volatile(&raw const dltest_counter_ptr) };
    // SAFETY: a plain C function of the library returning a pointer.
    let own = unsafe { dltest_counter_address() };
    ptr == &raw const dltest_counter && own == ptr
}
