//! Cancellation (GP `TEE_GetCancellationFlag`, `TEE_UnmaskCancellation`,
//! `TEE_MaskCancellation`). Requests start with cancellation masked; a
//! TA unmasks it around work a client may cancel.

/// Whether the current request has been cancelled (and cancellation is
/// unmasked).
pub fn get_cancellation_flag() -> bool {
    crate::sys::get_cancellation_flag().unwrap_or(false)
}

/// Lets cancellation through; returns whether it was masked before.
pub fn unmask_cancellation() -> bool {
    crate::sys::unmask_cancellation().unwrap_or_else(|e| crate::tee_panic(e.0))
}

/// Holds cancellation back; returns whether it was masked before.
pub fn mask_cancellation() -> bool {
    crate::sys::mask_cancellation().unwrap_or_else(|e| crate::tee_panic(e.0))
}
