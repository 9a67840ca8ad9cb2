//! The backend over OPTEE_RPC_CMD_FS (REE FS), as upstream's kernel sends
//! it, so any tee-supplicant serves it.
