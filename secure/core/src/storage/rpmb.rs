//! RPMB: the protocol over OPTEE_RPC_CMD_RPMB and what is kept there.
