//! User-TA system-call numbers (upstream `tee_syscall_numbers.h`): the
//! number a TA places in its syscall-number register before `svc #0`.
//! Numbers 55..=69 belonged to the withdrawn SE API and stay reserved.

pub const SYS_RETURN: u32 = 0;
pub const SYS_LOG: u32 = 1;
pub const SYS_PANIC: u32 = 2;
pub const SYS_GET_PROPERTY: u32 = 3;
pub const SYS_GET_PROPERTY_NAME_TO_INDEX: u32 = 4;
pub const SYS_OPEN_TA_SESSION: u32 = 5;
pub const SYS_CLOSE_TA_SESSION: u32 = 6;
pub const SYS_INVOKE_TA_COMMAND: u32 = 7;
pub const SYS_CHECK_ACCESS_RIGHTS: u32 = 8;
pub const SYS_GET_CANCELLATION_FLAG: u32 = 9;
pub const SYS_UNMASK_CANCELLATION: u32 = 10;
pub const SYS_MASK_CANCELLATION: u32 = 11;
pub const SYS_WAIT: u32 = 12;
pub const SYS_GET_TIME: u32 = 13;
pub const SYS_SET_TA_TIME: u32 = 14;
pub const SYS_CRYP_STATE_ALLOC: u32 = 15;
pub const SYS_CRYP_STATE_COPY: u32 = 16;
pub const SYS_CRYP_STATE_FREE: u32 = 17;
pub const SYS_HASH_INIT: u32 = 18;
pub const SYS_HASH_UPDATE: u32 = 19;
pub const SYS_HASH_FINAL: u32 = 20;
pub const SYS_CIPHER_INIT: u32 = 21;
pub const SYS_CIPHER_UPDATE: u32 = 22;
pub const SYS_CIPHER_FINAL: u32 = 23;
pub const SYS_CRYP_OBJ_GET_INFO: u32 = 24;
pub const SYS_CRYP_OBJ_RESTRICT_USAGE: u32 = 25;
pub const SYS_CRYP_OBJ_GET_ATTR: u32 = 26;
pub const SYS_CRYP_OBJ_ALLOC: u32 = 27;
pub const SYS_CRYP_OBJ_CLOSE: u32 = 28;
pub const SYS_CRYP_OBJ_RESET: u32 = 29;
pub const SYS_CRYP_OBJ_POPULATE: u32 = 30;
pub const SYS_CRYP_OBJ_COPY: u32 = 31;
pub const SYS_CRYP_DERIVE_KEY: u32 = 32;
pub const SYS_CRYP_RANDOM_NUMBER_GENERATE: u32 = 33;
pub const SYS_AUTHENC_INIT: u32 = 34;
pub const SYS_AUTHENC_UPDATE_AAD: u32 = 35;
pub const SYS_AUTHENC_UPDATE_PAYLOAD: u32 = 36;
pub const SYS_AUTHENC_ENC_FINAL: u32 = 37;
pub const SYS_AUTHENC_DEC_FINAL: u32 = 38;
pub const SYS_ASYMM_OPERATE: u32 = 39;
pub const SYS_ASYMM_VERIFY: u32 = 40;
pub const SYS_STORAGE_OBJ_OPEN: u32 = 41;
pub const SYS_STORAGE_OBJ_CREATE: u32 = 42;
pub const SYS_STORAGE_OBJ_DEL: u32 = 43;
pub const SYS_STORAGE_OBJ_RENAME: u32 = 44;
pub const SYS_STORAGE_ENUM_ALLOC: u32 = 45;
pub const SYS_STORAGE_ENUM_FREE: u32 = 46;
pub const SYS_STORAGE_ENUM_RESET: u32 = 47;
pub const SYS_STORAGE_ENUM_START: u32 = 48;
pub const SYS_STORAGE_ENUM_NEXT: u32 = 49;
pub const SYS_STORAGE_OBJ_READ: u32 = 50;
pub const SYS_STORAGE_OBJ_WRITE: u32 = 51;
pub const SYS_STORAGE_OBJ_TRUNC: u32 = 52;
pub const SYS_STORAGE_OBJ_SEEK: u32 = 53;
pub const SYS_CRYP_OBJ_GENERATE_KEY: u32 = 54;
pub const SYS_SE_SERVICE_OPEN__DEPRECATED: u32 = 55;
pub const SYS_SE_SERVICE_CLOSE__DEPRECATED: u32 = 56;
pub const SYS_SE_SERVICE_GET_READERS__DEPRECATED: u32 = 57;
pub const SYS_SE_READER_GET_PROP__DEPRECATED: u32 = 58;
pub const SYS_SE_READER_GET_NAME__DEPRECATED: u32 = 59;
pub const SYS_SE_READER_OPEN_SESSION__DEPRECATED: u32 = 60;
pub const SYS_SE_READER_CLOSE_SESSIONS__DEPRECATED: u32 = 61;
pub const SYS_SE_SESSION_IS_CLOSED__DEPRECATED: u32 = 62;
pub const SYS_SE_SESSION_GET_ATR__DEPRECATED: u32 = 63;
pub const SYS_SE_SESSION_OPEN_CHANNEL__DEPRECATED: u32 = 64;
pub const SYS_SE_SESSION_CLOSE__DEPRECATED: u32 = 65;
pub const SYS_SE_CHANNEL_SELECT_NEXT__DEPRECATED: u32 = 66;
pub const SYS_SE_CHANNEL_GET_SELECT_RESP__DEPRECATED: u32 = 67;
pub const SYS_SE_CHANNEL_TRANSMIT__DEPRECATED: u32 = 68;
pub const SYS_SE_CHANNEL_CLOSE__DEPRECATED: u32 = 69;
pub const SYS_CACHE_OPERATION: u32 = 70;

/// Highest assigned syscall number.
pub const SYSCALL_MAX: u32 = 70;
/// Most arguments any syscall takes.
pub const SVC_MAX_ARGS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_ordered() {
        let all = [
            SYS_RETURN,
            SYS_LOG,
            SYS_PANIC,
            SYS_GET_PROPERTY,
            SYS_GET_PROPERTY_NAME_TO_INDEX,
            SYS_OPEN_TA_SESSION,
            SYS_CLOSE_TA_SESSION,
            SYS_INVOKE_TA_COMMAND,
            SYS_CHECK_ACCESS_RIGHTS,
            SYS_GET_CANCELLATION_FLAG,
            SYS_UNMASK_CANCELLATION,
            SYS_MASK_CANCELLATION,
            SYS_WAIT,
            SYS_GET_TIME,
            SYS_SET_TA_TIME,
            SYS_CRYP_STATE_ALLOC,
            SYS_CRYP_STATE_COPY,
            SYS_CRYP_STATE_FREE,
            SYS_HASH_INIT,
            SYS_HASH_UPDATE,
            SYS_HASH_FINAL,
            SYS_CIPHER_INIT,
            SYS_CIPHER_UPDATE,
            SYS_CIPHER_FINAL,
            SYS_CRYP_OBJ_GET_INFO,
            SYS_CRYP_OBJ_RESTRICT_USAGE,
            SYS_CRYP_OBJ_GET_ATTR,
            SYS_CRYP_OBJ_ALLOC,
            SYS_CRYP_OBJ_CLOSE,
            SYS_CRYP_OBJ_RESET,
            SYS_CRYP_OBJ_POPULATE,
            SYS_CRYP_OBJ_COPY,
            SYS_CRYP_DERIVE_KEY,
            SYS_CRYP_RANDOM_NUMBER_GENERATE,
            SYS_AUTHENC_INIT,
            SYS_AUTHENC_UPDATE_AAD,
            SYS_AUTHENC_UPDATE_PAYLOAD,
            SYS_AUTHENC_ENC_FINAL,
            SYS_AUTHENC_DEC_FINAL,
            SYS_ASYMM_OPERATE,
            SYS_ASYMM_VERIFY,
            SYS_STORAGE_OBJ_OPEN,
            SYS_STORAGE_OBJ_CREATE,
            SYS_STORAGE_OBJ_DEL,
            SYS_STORAGE_OBJ_RENAME,
            SYS_STORAGE_ENUM_ALLOC,
            SYS_STORAGE_ENUM_FREE,
            SYS_STORAGE_ENUM_RESET,
            SYS_STORAGE_ENUM_START,
            SYS_STORAGE_ENUM_NEXT,
            SYS_STORAGE_OBJ_READ,
            SYS_STORAGE_OBJ_WRITE,
            SYS_STORAGE_OBJ_TRUNC,
            SYS_STORAGE_OBJ_SEEK,
            SYS_CRYP_OBJ_GENERATE_KEY,
            SYS_SE_SERVICE_OPEN__DEPRECATED,
            SYS_SE_SERVICE_CLOSE__DEPRECATED,
            SYS_SE_SERVICE_GET_READERS__DEPRECATED,
            SYS_SE_READER_GET_PROP__DEPRECATED,
            SYS_SE_READER_GET_NAME__DEPRECATED,
            SYS_SE_READER_OPEN_SESSION__DEPRECATED,
            SYS_SE_READER_CLOSE_SESSIONS__DEPRECATED,
            SYS_SE_SESSION_IS_CLOSED__DEPRECATED,
            SYS_SE_SESSION_GET_ATR__DEPRECATED,
            SYS_SE_SESSION_OPEN_CHANNEL__DEPRECATED,
            SYS_SE_SESSION_CLOSE__DEPRECATED,
            SYS_SE_CHANNEL_SELECT_NEXT__DEPRECATED,
            SYS_SE_CHANNEL_GET_SELECT_RESP__DEPRECATED,
            SYS_SE_CHANNEL_TRANSMIT__DEPRECATED,
            SYS_SE_CHANNEL_CLOSE__DEPRECATED,
            SYS_CACHE_OPERATION,
        ];
        assert_eq!(all.len() as u32, SYSCALL_MAX + 1);
        for (n, sys) in all.into_iter().enumerate() {
            assert_eq!(sys, n as u32);
        }
        assert_eq!((SYS_RETURN, SYS_LOG, SYS_PANIC), (0, 1, 2));
        assert_eq!(SYS_CACHE_OPERATION, 70);
        assert_eq!(SVC_MAX_ARGS, 8);
    }
}
