//! The TEEC_* codes the supplicant answers with, as upstream
//! tee-supplicant answers the same situations.

use oxtee_abi::tee::TeeResult;

pub const SUCCESS: u32 = TeeResult::SUCCESS.0;
pub const GENERIC: u32 = TeeResult::ERROR_GENERIC.0;
pub const ACCESS_CONFLICT: u32 = TeeResult::ERROR_ACCESS_CONFLICT.0;
pub const BAD_PARAMETERS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;
pub const ITEM_NOT_FOUND: u32 = TeeResult::ERROR_ITEM_NOT_FOUND.0;
pub const NOT_SUPPORTED: u32 = TeeResult::ERROR_NOT_SUPPORTED.0;
pub const OUT_OF_MEMORY: u32 = TeeResult::ERROR_OUT_OF_MEMORY.0;
pub const SHORT_BUFFER: u32 = TeeResult::ERROR_SHORT_BUFFER.0;
pub const STORAGE_NO_SPACE: u32 = TeeResult::ERROR_STORAGE_NO_SPACE.0;
pub const STORAGE_NOT_AVAILABLE: u32 = TeeResult::ERROR_STORAGE_NOT_AVAILABLE.0;
