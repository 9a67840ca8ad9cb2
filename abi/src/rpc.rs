//! RPC requests from the secure OS to normal world (upstream
//! `optee_rpc_cmd.h`): the `cmd` of an RPC `optee_msg_arg` and the
//! sub-protocols of the commands that carry one.

/// Fetch a TA image: `value[0].a-b` = UUID, `memref[1]` = buffer (NULL to size).
pub const CMD_LOAD_TA: u32 = 0;
/// RPMB frames: `memref[0]` to the device, `memref[1]` back.
pub const CMD_RPMB: u32 = 1;
/// REE file system; `value[0].a` is an `FS_*` sub-command.
pub const CMD_FS: u32 = 2;
/// Wall-clock time: `value[0].a` = seconds, .b = nanoseconds since the epoch.
pub const CMD_GET_TIME: u32 = 3;
/// Sleep/wake on a key: `value[0].a` = `NOTIFICATION_*`, .b = key.
pub const CMD_NOTIFICATION: u32 = 4;
/// Sleep `value[0].a` milliseconds.
pub const CMD_SUSPEND: u32 = 5;
/// Allocate shared memory: `value[0].a` = `SHM_TYPE_*`, .b = size, .c = align.
pub const CMD_SHM_ALLOC: u32 = 6;
/// Free memory from SHM_ALLOC: `value[0].a` = type, .b = cookie.
pub const CMD_SHM_FREE: u32 = 7;
/// Formerly the SQLite FS; kept only so the number is never reused.
pub const CMD_SQL_FS_RESERVED: u32 = 8;
/// TA profiling data upload.
pub const CMD_GPROF: u32 = 9;
/// Socket access; `value[0].a` is a `SOCKET_*` sub-command.
pub const CMD_SOCKET: u32 = 10;
/// TA function-graph trace upload.
pub const CMD_FTRACE: u32 = 11;
/// tee-supplicant plugin invocation.
pub const CMD_SUPP_PLUGIN: u32 = 12;
/// Register a benchmark timestamp buffer with the driver.
pub const CMD_BENCH_REG: u32 = 20;
/// I2C master transfer through the normal-world driver.
pub const CMD_I2C_TRANSFER: u32 = 21;
/// Restart enumeration of RPMB-capable devices.
pub const CMD_RPMB_PROBE_RESET: u32 = 22;
/// Next RPMB-capable device.
pub const CMD_RPMB_PROBE_NEXT: u32 = 23;
/// RPMB frames to the device chosen by probing.
pub const CMD_RPMB_FRAMES: u32 = 24;

wire_enum! {
    /// Decoded RPC command.
    pub enum Cmd: u32 {
        /// See [`CMD_LOAD_TA`].
        LoadTa = CMD_LOAD_TA,
        /// See [`CMD_RPMB`].
        Rpmb = CMD_RPMB,
        /// See [`CMD_FS`].
        Fs = CMD_FS,
        /// See [`CMD_GET_TIME`].
        GetTime = CMD_GET_TIME,
        /// See [`CMD_NOTIFICATION`].
        Notification = CMD_NOTIFICATION,
        /// See [`CMD_SUSPEND`].
        Suspend = CMD_SUSPEND,
        /// See [`CMD_SHM_ALLOC`].
        ShmAlloc = CMD_SHM_ALLOC,
        /// See [`CMD_SHM_FREE`].
        ShmFree = CMD_SHM_FREE,
        /// See [`CMD_SQL_FS_RESERVED`].
        SqlFsReserved = CMD_SQL_FS_RESERVED,
        /// See [`CMD_GPROF`].
        Gprof = CMD_GPROF,
        /// See [`CMD_SOCKET`].
        Socket = CMD_SOCKET,
        /// See [`CMD_FTRACE`].
        Ftrace = CMD_FTRACE,
        /// See [`CMD_SUPP_PLUGIN`].
        SuppPlugin = CMD_SUPP_PLUGIN,
        /// See [`CMD_BENCH_REG`].
        BenchReg = CMD_BENCH_REG,
        /// See [`CMD_I2C_TRANSFER`].
        I2cTransfer = CMD_I2C_TRANSFER,
        /// See [`CMD_RPMB_PROBE_RESET`].
        RpmbProbeReset = CMD_RPMB_PROBE_RESET,
        /// See [`CMD_RPMB_PROBE_NEXT`].
        RpmbProbeNext = CMD_RPMB_PROBE_NEXT,
        /// See [`CMD_RPMB_FRAMES`].
        RpmbFrames = CMD_RPMB_FRAMES,
    }
}

/// NOTIFICATION: block until the key is sent.
pub const NOTIFICATION_WAIT: u32 = 0;
/// NOTIFICATION: wake the waiter on the key.
pub const NOTIFICATION_SEND: u32 = 1;

wire_enum! {
    /// NOTIFICATION sub-command (`value[0].a`).
    pub enum Notification: u32 {
        /// See [`NOTIFICATION_WAIT`].
        Wait = NOTIFICATION_WAIT,
        /// See [`NOTIFICATION_SEND`].
        Send = NOTIFICATION_SEND,
    }
}

/// Shared memory a normal-world user-space client may map.
pub const SHM_TYPE_APPL: u32 = 0;
/// Shared memory only the normal-world kernel sees.
pub const SHM_TYPE_KERNEL: u32 = 1;
/// Kernel memory also exported to a normal-world user-space application.
pub const SHM_TYPE_GLOBAL: u32 = 2;

wire_enum! {
    /// SHM_ALLOC / SHM_FREE memory type (`value[0].a`).
    pub enum ShmType: u32 {
        /// See [`SHM_TYPE_APPL`].
        Appl = SHM_TYPE_APPL,
        /// See [`SHM_TYPE_KERNEL`].
        Kernel = SHM_TYPE_KERNEL,
        /// See [`SHM_TYPE_GLOBAL`].
        Global = SHM_TYPE_GLOBAL,
    }
}

/// FS: open `memref[1]`'s name; `value[2].a` = fd.
pub const FS_OPEN: u32 = 0;
/// FS: create `memref[1]`'s name; `value[2].a` = fd.
pub const FS_CREATE: u32 = 1;
/// FS: close fd `value[0].b`.
pub const FS_CLOSE: u32 = 2;
/// FS: read fd .b at offset .c into `memref[1]`.
pub const FS_READ: u32 = 3;
/// FS: write `memref[1]` to fd .b at offset .c.
pub const FS_WRITE: u32 = 4;
/// FS: truncate fd .b to length .c.
pub const FS_TRUNCATE: u32 = 5;
/// FS: remove `memref[1]`'s name.
pub const FS_REMOVE: u32 = 6;
/// FS: rename `memref[1]` to `memref[2]`; .b = overwrite allowed.
pub const FS_RENAME: u32 = 7;
/// FS: open directory `memref[1]`; `value[2].a` = handle.
pub const FS_OPENDIR: u32 = 8;
/// FS: close directory handle .b.
pub const FS_CLOSEDIR: u32 = 9;
/// FS: next name of directory .b into `memref[1]`.
pub const FS_READDIR: u32 = 10;

wire_enum! {
    /// FS sub-command (`value[0].a`).
    pub enum FsCmd: u32 {
        /// See [`FS_OPEN`].
        Open = FS_OPEN,
        /// See [`FS_CREATE`].
        Create = FS_CREATE,
        /// See [`FS_CLOSE`].
        Close = FS_CLOSE,
        /// See [`FS_READ`].
        Read = FS_READ,
        /// See [`FS_WRITE`].
        Write = FS_WRITE,
        /// See [`FS_TRUNCATE`].
        Truncate = FS_TRUNCATE,
        /// See [`FS_REMOVE`].
        Remove = FS_REMOVE,
        /// See [`FS_RENAME`].
        Rename = FS_RENAME,
        /// See [`FS_OPENDIR`].
        Opendir = FS_OPENDIR,
        /// See [`FS_CLOSEDIR`].
        Closedir = FS_CLOSEDIR,
        /// See [`FS_READDIR`].
        Readdir = FS_READDIR,
    }
}

/// SOCKET: open a connection.
pub const SOCKET_OPEN: u32 = 0;
/// SOCKET: close one socket.
pub const SOCKET_CLOSE: u32 = 1;
/// SOCKET: close every socket of a TA instance.
pub const SOCKET_CLOSE_ALL: u32 = 2;
/// SOCKET: send.
pub const SOCKET_SEND: u32 = 3;
/// SOCKET: receive.
pub const SOCKET_RECV: u32 = 4;
/// SOCKET: ioctl.
pub const SOCKET_IOCTL: u32 = 5;
/// Socket timeout meaning "do not block".
pub const SOCKET_TIMEOUT_NONBLOCKING: u32 = 0;
/// Socket timeout meaning "block forever".
pub const SOCKET_TIMEOUT_BLOCKING: u32 = 0xFFFF_FFFF;

/// I2C_TRANSFER mode: read.
pub const I2C_TRANSFER_RD: u32 = 0;
/// I2C_TRANSFER mode: write.
pub const I2C_TRANSFER_WR: u32 = 1;
/// I2C_TRANSFER flag: 10-bit chip address.
pub const I2C_FLAGS_TEN_BIT: u32 = 1 << 0;

/// RPMB_PROBE_NEXT device type: eMMC.
pub const RPMB_EMMC: u32 = 0;

/// SUPP_PLUGIN sub-command: invoke a plugin.
pub const SUPP_PLUGIN_INVOKE: u32 = 0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let expected = [
            (Cmd::LoadTa, 0),
            (Cmd::Rpmb, 1),
            (Cmd::Fs, 2),
            (Cmd::GetTime, 3),
            (Cmd::Notification, 4),
            (Cmd::Suspend, 5),
            (Cmd::ShmAlloc, 6),
            (Cmd::ShmFree, 7),
            (Cmd::SqlFsReserved, 8),
            (Cmd::Gprof, 9),
            (Cmd::Socket, 10),
            (Cmd::Ftrace, 11),
            (Cmd::SuppPlugin, 12),
            (Cmd::BenchReg, 20),
            (Cmd::I2cTransfer, 21),
            (Cmd::RpmbProbeReset, 22),
            (Cmd::RpmbProbeNext, 23),
            (Cmd::RpmbFrames, 24),
        ];
        assert_eq!(Cmd::ALL.len(), expected.len());
        for (cmd, n) in expected {
            assert_eq!(cmd.raw(), n);
            assert_eq!(Cmd::try_from(n), Ok(cmd));
        }
        for gap in [13, 19, 25, u32::MAX] {
            assert_eq!(Cmd::try_from(gap), Err(gap));
        }
    }

    #[test]
    fn sub_protocols() {
        assert_eq!((NOTIFICATION_WAIT, NOTIFICATION_SEND), (0, 1));
        assert_eq!(Notification::try_from(1), Ok(Notification::Send));
        assert_eq!(Notification::try_from(2), Err(2));

        assert_eq!((SHM_TYPE_APPL, SHM_TYPE_KERNEL, SHM_TYPE_GLOBAL), (0, 1, 2));
        assert_eq!(ShmType::try_from(2), Ok(ShmType::Global));
        assert_eq!(ShmType::try_from(3), Err(3));

        for (i, fs) in FsCmd::ALL.into_iter().enumerate() {
            assert_eq!(fs.raw(), i as u32);
        }
        assert_eq!(FsCmd::ALL.len(), 11);
        assert_eq!(FsCmd::try_from(FS_READDIR), Ok(FsCmd::Readdir));
        assert_eq!(FsCmd::try_from(11), Err(11));

        assert_eq!(
            [SOCKET_OPEN, SOCKET_CLOSE, SOCKET_CLOSE_ALL, SOCKET_SEND, SOCKET_RECV, SOCKET_IOCTL],
            [0, 1, 2, 3, 4, 5]
        );
        assert_eq!((SOCKET_TIMEOUT_NONBLOCKING, SOCKET_TIMEOUT_BLOCKING), (0, 0xFFFF_FFFF));
        assert_eq!((I2C_TRANSFER_RD, I2C_TRANSFER_WR, I2C_FLAGS_TEN_BIT), (0, 1, 1));
        assert_eq!((RPMB_EMMC, SUPP_PLUGIN_INVOKE), (0, 0));
    }
}
