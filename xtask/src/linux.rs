//! Linux in the normal world: Debian's kernel with the stock OP-TEE driver,
//! an initramfs with busybox, Debian's OP-TEE client stack and ours, and a
//! device tree derived from QEMU's (PSCI, the OP-TEE firmware node, the
//! static shared memory reserved, the initramfs; no seed of the dump run:
//! the monitor fills the seed placeholders at every boot).

use crate::debian::{self, Debian};
use crate::images::Images;
use crate::initramfs::Cpio;
use crate::qemu::{self, Outcome};
use crate::{Result, root};
use oxtee_platform::{dtb, map};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the guest does after boot.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Interactive shell with the supplicant running.
    Shell,
    /// Run a shell command line (see [`shell_words`]) with no input, print
    /// its exit status ([`command_status`] reads it), then power off.
    Command(String),
    /// The test suite with both client stacks, then power off.
    Test,
}

pub struct Guest {
    pub kernel: PathBuf,
    pub dtb: PathBuf,
    pub initrd: PathBuf,
}

fn run_tool(cmd: &mut Command) -> Result {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr).trim())) }
}

/// Seeds in QEMU's tree (lengths as QEMU writes them) that the monitor
/// refills at every boot from QEMU's per-boot `/chosen` (see `dtb_seeds`).
const SEED_PLACEHOLDER_LEN: [(&str, usize); 2] = [("rng-seed", 32), ("kaslr-seed", 8)];

/// Async-notification interrupt of the OP-TEE node (`map::ASYNC_NOTIF_INTID`,
/// the SPI upstream OP-TEE's qemu_armv8a port raises): the OS advertises
/// asynchronous notifications and sets it pending; the driver enables them
/// at probe and takes it (docs/async-notif.md).
const OPTEE_NOTIF_SPI: u32 = map::ASYNC_NOTIF_INTID - map::GIC_SPI_BASE;

/// QEMU's tree for this machine shape, dumped into a private directory and
/// read back: it carries the seeds QEMU made for that dump run, which must
/// never reach a file under `target/` nor the tree Linux boots with.
fn dump_qemu_tree(smp: u32, gic: u32, dir: &Path) -> Result<Vec<u8>> {
    use std::os::unix::fs::DirBuilderExt;
    let private = dir.join(format!(".dump-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&private);
    std::fs::DirBuilder::new().mode(0o700).create(&private).map_err(|e| format!("{}: {e}", private.display()))?;
    let file = private.join("qemu.dtb");
    let run = run_tool(Command::new("qemu-system-aarch64").args([
        "-M",
        &format!("virt,secure=on,virtualization=off,gic-version={gic},dumpdtb={}", file.display()),
        "-cpu",
        "cortex-a57",
        "-m",
        "1024",
        "-smp",
        &smp.to_string(),
        "-nographic",
        "-nic",
        "none",
    ]));
    let blob = run.and_then(|()| std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display())));
    let _ = std::fs::remove_dir_all(&private);
    blob
}

/// Removes every seed of the dump run from QEMU's tree: the whole
/// `/secure-chosen` node (the secure world's seeds) and `/chosen`'s
/// `rng-seed`/`kaslr-seed` (fixed values would be no entropy at all).
fn strip_seeds(blob: &mut [u8]) -> Result {
    let err = |e: dtb::Error| format!("QEMU's device tree: {e:?}");
    dtb::nop_node(blob, dtb::SECURE_CHOSEN).map_err(err)?;
    for name in dtb::SEED_PROPERTIES {
        dtb::nop_property(blob, "/chosen", name).map_err(err)?;
    }
    Ok(())
}

/// The checks `device_tree` makes on what it wrote: no secure-world node,
/// and `/chosen` seeds only as all-zero placeholders of QEMU's lengths.
fn check_no_seeds(blob: &[u8]) -> Result {
    let err = |e: dtb::Error| format!("generated device tree: {e:?}");
    for name in dtb::SEED_PROPERTIES {
        if dtb::property(blob, dtb::SECURE_CHOSEN, name).map_err(err)?.is_some() {
            return Err(format!("generated device tree still has {}/{name}", dtb::SECURE_CHOSEN));
        }
    }
    for (name, len) in SEED_PLACEHOLDER_LEN {
        match dtb::property(blob, "/chosen", name).map_err(err)? {
            Some(r) if r.len() == len && blob[r.clone()].iter().all(|&b| b == 0) => {}
            other => {
                return Err(format!("generated device tree: /chosen/{name} is not a zero placeholder ({other:?})"));
            }
        }
    }
    Ok(())
}

/// The SMC transport's firmware node: how Linux's driver finds OP-TEE
/// behind `opteed`. In FF-A mode there is none (upstream OP-TEE as SPMC
/// adds none either): the driver finds OP-TEE's endpoint through the FF-A
/// bus (`FFA_PARTITION_INFO_GET` by OP-TEE's UUID).
fn optee_node(ffa: bool) -> String {
    if ffa {
        return String::new();
    }
    format!(
        r#"    firmware {{
        optee {{
            compatible = "linaro,optee-tz";
            method = "smc";
            // GIC_SPI n IRQ_TYPE_EDGE_RISING; the root's interrupt-parent
            // is the GIC.
            interrupts = <0 {OPTEE_NOTIF_SPI} 1>;
        }};
    }};
"#
    )
}

/// QEMU's own device tree for this machine shape, plus what Linux needs
/// (`ffa`: for the FF-A configuration, see [`optee_node`]).
/// The monitor fills the seed placeholders from QEMU's per-boot tree.
fn device_tree(smp: u32, gic: u32, ffa: bool, initrd_len: u64, dir: &Path) -> Result<PathBuf> {
    let mut blob = dump_qemu_tree(smp, gic, dir)?;
    strip_seeds(&mut blob)?;
    let qemu_dtb = dir.join(format!("qemu-smp{smp}-gic{gic}.dtb"));
    std::fs::write(&qemu_dtb, &blob).map_err(|e| e.to_string())?;
    let base = dir.join(format!("qemu-smp{smp}-gic{gic}.dts"));
    run_tool(Command::new("dtc").args(["-q", "-I", "dtb", "-O", "dts", "-o"]).arg(&base).arg(&qemu_dtb))?;
    let start = map::LINUX_INITRD_ADDR;
    let end = start + initrd_len;
    let placeholder = |len: usize| vec!["00"; len].join(" ");
    let extra = format!(
        r#"/include/ "{base}"
/ {{
    // QEMU rejects normal-world reads of this GPIO's ID registers when the
    // machine has a secure side; Linux needs neither it nor its button.
    /delete-node/ gpio-keys;
    /delete-node/ pl061@9030000;
    psci {{
        compatible = "arm,psci-1.0", "arm,psci-0.2";
        method = "smc";
    }};
{optee}    reserved-memory {{
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        optee-shm@{shm:x} {{
            reg = <0x0 {shm:#x} 0x0 {shm_size:#x}>;
            no-map;
        }};
    }};
    chosen {{
        bootargs = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init panic=-1 loglevel=6";
        linux,initrd-start = /bits/ 64 <{start:#x}>;
        linux,initrd-end = /bits/ 64 <{end:#x}>;
        // Filled by the monitor at boot from QEMU's per-boot /chosen.
        rng-seed = [{rng}];
        kaslr-seed = [{kaslr}];
    }};
}};
"#,
        base = base.display(),
        shm = map::STATIC_SHM_BASE,
        shm_size = map::STATIC_SHM_SIZE,
        optee = optee_node(ffa),
        rng = placeholder(SEED_PLACEHOLDER_LEN[0].1),
        kaslr = placeholder(SEED_PLACEHOLDER_LEN[1].1),
    );
    let shape = format!("{}smp{smp}-gic{gic}", if ffa { "ffa-" } else { "" });
    let dts = dir.join(format!("linux-{shape}.dts"));
    std::fs::write(&dts, extra).map_err(|e| e.to_string())?;
    let dtb = dir.join(format!("linux-{shape}.dtb"));
    run_tool(Command::new("dtc").args(["-q", "-I", "dts", "-O", "dtb", "-o"]).arg(&dtb).arg(&dts))?;
    check_no_seeds(&std::fs::read(&dtb).map_err(|e| e.to_string())?)?;
    Ok(dtb)
}

const INIT: &str = r#"#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# /var/lib/tee is left to oxtee-supplicant, which creates its storage 0700.
mkdir -p /tmp /run /var/lib/optee-client/data/tee
mount -t tmpfs tmpfs /tmp
# Loopback, for TAs' sockets to servers in the guest (the socket PTA).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
# busybox poweroff/reboot signal PID 1 (USR2/TERM): honour them.
trap 'echo "oxtee-init: powering off"; poweroff -f' USR2
trap 'echo "oxtee-init: rebooting"; reboot -f' TERM
insmod /lib/modules/tee.ko
insmod /lib/modules/optee.ko
# A store on the host (`--store`): its 9p share holds both supplicants'
# file systems (and oxtee-supplicant's emulated RPMB), so they outlive
# the guest. No caching: every write reaches the host as it is made.
if [ -e /etc/oxtee/store ]; then
    for m in virtio_mmio 9pnet 9pnet_virtio netfs fscache 9p; do insmod /lib/modules/$m.ko; done
    mkdir -p /var/lib/tee
    i=0
    until mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 oxtee-store /var/lib/tee 2>/dev/null; do
        i=$((i+1)); [ $i -ge 20 ] && break; sleep 0.1
    done
    if mount --bind /var/lib/tee /var/lib/optee-client/data/tee 2>/dev/null && grep -q "^oxtee-store /var/lib/tee 9p" /proc/mounts; then
        echo "oxtee-init: store: /var/lib/tee and /var/lib/optee-client/data/tee on the host's directory (9p)"
    else
        echo "oxtee-init: FAIL store: cannot mount the host's directory"
    fi
fi
i=0; while [ ! -e /dev/teepriv0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "oxtee-init: $(ls /dev/tee* 2>/dev/null | tr '\n' ' ')"
# The driver has put the OS's devices on the TEE bus (device enumeration);
# with no udev to load their drivers, load the RNG's: /dev/hwrng.
insmod /lib/modules/optee-rng.ko
. /etc/oxtee/run
echo "oxtee-init: powering off"
poweroff -f
"#;

fn mode_script(mode: &Mode) -> String {
    match mode {
        Mode::Shell => concat!(
            "oxtee-supplicant -d\n",
            "echo 'oxtee: oxtee-supplicant is serving; try: oxtee-xtest (Rust client) or oxtee-cclient (C client)'\n",
            "setsid cttyhack sh &\n",
            "wait $!\n"
        )
        .into(),
        // A subshell, so `exit` ends the command, not /init; no input, as
        // nothing can type into a console captured to a file.
        Mode::Command(c) => format!("oxtee-supplicant -d\n( {c}\n) </dev/null\necho \"{STATUS_MARKER}$?\"\n"),
        Mode::Test => include_str!("guest_test.sh").into(),
    }
}

/// What the guest prints after the command, followed by its exit status.
const STATUS_MARKER: &str = "oxtee-init: command exited with status ";

/// The exit status the guest reported for its command (the last report:
/// the command's own output comes before it).
pub fn command_status(log: &str) -> Option<u8> {
    log.lines().rev().find_map(|l| {
        let rest = &l[l.find(STATUS_MARKER)? + STATUS_MARKER.len()..];
        rest.trim_end().parse().ok()
    })
}

/// `args` as one command line for the guest's shell, each quoted so it
/// arrives as exactly one argument, unchanged.
pub fn shell_words(args: &[String]) -> String {
    let quote = |a: &String| {
        let plain = !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
        if plain { a.clone() } else { format!("'{}'", a.replace('\'', "'\\''")) }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

fn add_tree(c: &mut Cpio, host: &Path, guest: &str) -> Result {
    let data = std::fs::read(host).map_err(|e| format!("{}: {e}", host.display()))?;
    c.file(guest, 0o755, &data);
    Ok(())
}

/// Kernel modules (under the kernel's `lib/modules/<version>/kernel`) that
/// mount a 9p share over virtio-mmio, in load order (each after what it
/// depends on).
const STORE_MODULES: [&str; 6] = [
    "drivers/virtio/virtio_mmio.ko",
    "net/9p/9pnet.ko",
    "net/9p/9pnet_virtio.ko",
    "fs/netfs/netfs.ko",
    "fs/fscache/fscache.ko",
    "fs/9p/9p.ko",
];

/// The 9p mount tag of the host's store directory.
const STORE_TAG: &str = "oxtee-store";

fn initramfs(deb: &Debian, mode: &Mode, extra: &[(PathBuf, &str)], store: bool) -> Result<Vec<u8>> {
    let mut c = Cpio::default();
    for d in [
        "/bin",
        "/sbin",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/lib",
        "/lib/modules",
        "/lib/optee_armtz",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib/oxtee",
        "/usr/lib/tee-supplicant",
        "/usr/lib/tee-supplicant/plugins",
        "/etc",
        "/etc/oxtee",
        "/proc",
        "/sys",
        "/dev",
        "/tmp",
        "/var",
        "/var/lib",
        "/root",
    ] {
        c.dir(d);
    }
    c.file("/init", 0o755, INIT.as_bytes());
    c.file("/etc/oxtee/run", 0o644, mode_script(mode).as_bytes());
    let r = &deb.root;
    add_tree(&mut c, &r.join("bin/busybox"), "/bin/busybox")?;
    let kmods = r.join(format!("lib/modules/{}/kernel/drivers/tee", deb.kver));
    add_tree(&mut c, &kmods.join("tee.ko"), "/lib/modules/tee.ko")?;
    add_tree(&mut c, &kmods.join("optee/optee.ko"), "/lib/modules/optee.ko")?;
    let hwrng = r.join(format!("lib/modules/{}/kernel/drivers/char/hw_random/optee-rng.ko", deb.kver));
    add_tree(&mut c, &hwrng, "/lib/modules/optee-rng.ko")?;
    if store {
        let kernel = r.join(format!("lib/modules/{}/kernel", deb.kver));
        for m in STORE_MODULES {
            let name = m.rsplit('/').next().unwrap_or(m);
            add_tree(&mut c, &kernel.join(m), &format!("/lib/modules/{name}"))?;
        }
        c.file("/etc/oxtee/store", 0o644, STORE_TAG.as_bytes());
    }
    add_tree(&mut c, &r.join("lib/ld-linux-aarch64.so.1"), "/lib/ld-linux-aarch64.so.1")?;
    for lib in ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2"] {
        add_tree(&mut c, &r.join("lib/aarch64-linux-gnu").join(lib), &format!("/lib/aarch64-linux-gnu/{lib}"))?;
    }
    add_tree(&mut c, &r.join("usr/lib/aarch64-linux-gnu/libteec.so.1.0.0"), "/usr/lib/aarch64-linux-gnu/libteec.so.1")?;
    add_tree(&mut c, &r.join("usr/sbin/tee-supplicant"), "/usr/sbin/tee-supplicant")?;
    for (host, guest) in extra {
        add_tree(&mut c, host, guest)?;
    }
    Ok(c.finish())
}

/// The normal-world kernel and how it reaches OP-TEE.
#[derive(Clone, Debug, Default)]
pub struct Kernel {
    /// A kernel `Image` of the user's (`--kernel FILE`) instead of
    /// Debian's; its OP-TEE and TEE drivers are expected built in (the
    /// initramfs's `insmod`s of Debian's modules then fail harmlessly).
    pub image: Option<PathBuf>,
    /// The FF-A configuration (`--ffa`): the monitor as SPMD, the OS as
    /// S-EL1 SPMC, no `linaro,optee-tz` node in the device tree. Needs a
    /// kernel with `CONFIG_ARM_FFA_TRANSPORT` (docs/ffa.md).
    pub ffa: bool,
}

/// Builds the kernel, device tree and initramfs for one machine shape
/// (with the modules and mount of a host store if `store`).
pub fn prepare(smp: u32, gic: u32, k: &Kernel, mode: &Mode, extra: &[(PathBuf, &str)], store: bool) -> Result<Guest> {
    let deb = debian::fetch()?;
    let dir = root().join("target/linux");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cpio = initramfs(&deb, mode, extra, store)?;
    let initrd = dir.join(format!("initramfs-smp{smp}-gic{gic}.cpio"));
    std::fs::write(&initrd, &cpio).map_err(|e| e.to_string())?;
    let dtb = device_tree(smp, gic, k.ffa, cpio.len() as u64, &dir)?;
    let kernel = match &k.image {
        Some(p) => kernel_image(p)?,
        None => deb.kernel.clone(),
    };
    Ok(Guest { kernel, dtb, initrd })
}

/// A `--kernel` file: an arm64 `Image` (its header's magic checked, so a
/// compressed `vmlinuz` or an ELF `vmlinux` is refused with a reason
/// instead of a silent hang), small enough to stay below the initramfs.
pub fn kernel_image(p: &Path) -> Result<PathBuf> {
    let data = std::fs::read(p).map_err(|e| format!("--kernel {}: {e}", p.display()))?;
    check_kernel_image(&data).map_err(|e| format!("--kernel {}: {e}", p.display()))?;
    Ok(p.to_path_buf())
}

fn check_kernel_image(data: &[u8]) -> Result {
    // The arm64 Image header: magic "ARM\x64" at offset 56.
    if data.get(56..60) != Some(b"ARM\x64".as_slice()) {
        return Err("not an arm64 kernel Image (arch/arm64/boot/Image: no \"ARM\\x64\" magic at offset 56)".into());
    }
    let room = map::LINUX_INITRD_ADDR - map::LINUX_KERNEL_ADDR;
    // image_size (offset 16): what the kernel occupies once running.
    let image_size = u64::from_le_bytes(data[16..24].try_into().map_err(|_| "short header")?);
    if (data.len() as u64).max(image_size) > room {
        return Err(format!("the kernel needs {image_size:#x} bytes, over the {room:#x} below the initramfs"));
    }
    Ok(())
}

/// The QEMU loader arguments that place the guest in RAM.
pub fn loader_args(g: &Guest) -> Vec<String> {
    let dev =
        |f: &Path, a: u64| vec!["-device".to_string(), format!("loader,file={},addr={a:#x},force-raw=on", f.display())];
    let mut v = dev(&g.kernel, map::LINUX_KERNEL_ADDR);
    v.extend(dev(&g.dtb, map::LINUX_DTB_ADDR));
    v.extend(dev(&g.initrd, map::LINUX_INITRD_ADDR));
    v
}

pub const MUSL_TARGET: &str = "aarch64-unknown-linux-musl";

pub const GNU_TARGET: &str = "aarch64-unknown-linux-gnu";

/// Our normal-world binaries for the guest (host path, guest path): static
/// musl executables linked with rust-lld; our libteec.so.1 and .so.2
/// (glibc, linked by the aarch64 gcc); and the C client, built against
/// Debian's optee-client-dev header and Debian's libteec; the examples'
/// programs (`examples`); the signed TAs of `target/ta` (`tas`) under
/// `/lib/optee_armtz`.
pub fn guest_binaries() -> Result<Vec<(PathBuf, &'static str)>> {
    crate::run_cmd(crate::cargo().env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld").args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "oxtee-xtest",
        "-p",
        "oxtee-supplicant",
        "--target",
        MUSL_TARGET,
    ]))?;
    let musl = root().join("target").join(MUSL_TARGET).join("release");
    let mut out = vec![
        (musl.join("oxtee-xtest"), "/usr/bin/oxtee-xtest"),
        (musl.join("oxtee-supplicant"), "/usr/sbin/oxtee-supplicant"),
    ];
    for (abi, features, guest) in
        [(1, None, "/usr/lib/oxtee/libteec.so.1"), (2, Some("abi2"), "/usr/lib/oxtee/libteec.so.2")]
    {
        let dir = root().join(format!("target/libteec{abi}"));
        let mut cmd = crate::cargo();
        cmd.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", "aarch64-linux-gnu-gcc")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
            .args(["build", "--quiet", "--release", "-p", "oxtee-libteec", "--target", GNU_TARGET, "--target-dir"])
            .arg(&dir);
        if let Some(f) = features {
            cmd.args(["--features", f]);
        }
        crate::run_cmd(&mut cmd)?;
        out.push((dir.join(GNU_TARGET).join("release/libteec.so"), guest));
    }
    let deb = debian::fetch()?;
    let client = root().join("target/linux/oxtee-cclient");
    std::fs::create_dir_all(client.parent().unwrap()).map_err(|e| e.to_string())?;
    crate::run_cmd(
        Command::new("sh")
            .arg(root().join("normal/cclient/build.sh"))
            .arg(&client)
            .arg(deb.root.join("usr/include"))
            .arg(deb.root.join("usr/lib/aarch64-linux-gnu")),
    )?;
    out.push((client, "/usr/bin/oxtee-cclient"));
    // The examples' client programs (`example-<name>`, Rust and C); their
    // TAs are among `tas::build`'s.
    for bin in crate::examples::build_hosts()? {
        let name = bin.file_name().and_then(|n| n.to_str()).ok_or("example program name")?.to_string();
        out.push((bin, Box::leak(format!("/usr/bin/{name}").into_boxed_str())));
    }
    // Our test plugin for Debian's tee-supplicant (oxtee-supplicant has it
    // built in), where tee-supplicant loads plugins from.
    let plugin = root().join("target/linux/oxtee-test-plugin.so");
    crate::run_cmd(
        Command::new("sh")
            .arg(root().join("normal/supp-plugin/build.sh"))
            .arg(&plugin)
            .arg(deb.root.join("usr/include")),
    )?;
    out.push((plugin, "/usr/lib/tee-supplicant/plugins/oxtee-test.so"));
    // User TAs where tee-supplicant looks for them: ours, freshly built,
    // and any other signed image in target/ta. The guest path must live as
    // long as the list; xtask is a short-lived tool, so leak it.
    crate::tas::build()?;
    for ta in crate::tas::images()? {
        let name = ta.file_name().and_then(|n| n.to_str()).ok_or("TA file name")?.to_string();
        out.push((ta, Box::leak(format!("/lib/optee_armtz/{name}").into_boxed_str())));
    }
    // Images to install into secure storage, elsewhere.
    out.extend(crate::tas::secstor_guest_images()?);
    Ok(out)
}

/// How to boot the guest non-interactively.
pub struct Boot {
    pub smp: u32,
    /// The kernel (default: Debian's, classic SMC transport).
    pub kernel: Kernel,
    pub gic: u32,
    pub timeout: u64,
    pub show: qemu::Show,
    /// `-icount shift=0` (benchmarks).
    pub icount: bool,
    /// A host directory for the supplicants' storage ([`store_args`]).
    pub store: Option<PathBuf>,
    /// Kill QEMU (SIGKILL: a power cut) this long after the normal-world
    /// console first prints this text.
    pub kill: Option<(String, std::time::Duration)>,
    /// Log directory name under `target/qemu` (default from the shape).
    pub name: Option<String>,
}

impl Boot {
    pub fn new(smp: u32, gic: u32, timeout: u64) -> Boot {
        Boot {
            smp,
            gic,
            kernel: Kernel::default(),
            timeout,
            show: qemu::Show::OnFailure,
            icount: false,
            store: None,
            kill: None,
            name: None,
        }
    }
}

/// The QEMU arguments that give the guest `dir` (created 0700 if missing)
/// as its 9p share `oxtee-store`, which its /init mounts where both
/// supplicants keep their files. QEMU's `local` backend writes through to
/// the host's file system at every write the guest makes (the guest mounts
/// it uncached), so whatever a supplicant wrote survives QEMU being
/// killed; `security_model=none` keeps the files as they are on the host
/// (owned by the user running QEMU), so the host can inspect and change
/// them between boots.
pub fn store_args(dir: &Path) -> Result<Vec<String>> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("--store {}: {e}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    }
    let abs = dir.canonicalize().map_err(|e| format!("--store {}: {e}", dir.display()))?;
    let path = abs.to_str().ok_or("--store: the path must be UTF-8")?;
    // QEMU's option syntax doubles a comma inside a value.
    let path = path.replace(',', ",,");
    Ok(vec![
        "-fsdev".into(),
        format!("local,id=oxstore,path={path},security_model=none"),
        "-device".into(),
        format!("virtio-9p-device,fsdev=oxstore,mount_tag={STORE_TAG}"),
    ])
}

/// Boots Linux in `mode` and returns both consoles.
pub fn boot(imgs: &Images, b: &Boot, mode: &Mode, extra: &[(PathBuf, &str)]) -> Result<Outcome> {
    let Boot { smp, gic, timeout, icount, .. } = *b;
    let g = prepare(smp, gic, &b.kernel, mode, extra, b.store.is_some())?;
    let mut args = loader_args(&g);
    if let Some(dir) = &b.store {
        args.extend(store_args(dir)?);
    }
    let ffa = if b.kernel.ffa { "ffa-" } else { "" };
    let name = b
        .name
        .clone()
        .unwrap_or_else(|| format!("linux-{ffa}smp{smp}-gic{gic}{}", if icount { "-icount" } else { "" }));
    let cfg = qemu::Config {
        smp,
        gic,
        timeout_secs: timeout,
        bios: Some(bios(imgs, &b.kernel)),
        extra: args,
        name,
        icount,
        kill: b.kill.clone(),
        ..qemu::Config::default()
    };
    qemu::boot(imgs, &cfg, b.show)
}

/// The flash image that enters Linux in `k`'s configuration.
fn bios(imgs: &Images, k: &Kernel) -> PathBuf {
    if k.ffa { imgs.flash_linux_ffa.clone() } else { imgs.flash_linux.clone() }
}

/// Interactive boot: the normal-world console is this terminal; the secure
/// log is streamed to stderr.
pub fn interactive(
    imgs: &Images,
    smp: u32,
    gic: u32,
    k: &Kernel,
    extra: &[(PathBuf, &str)],
    store: Option<&Path>,
) -> Result {
    let g = prepare(smp, gic, k, &Mode::Shell, extra, store.is_some())?;
    let dir = root().join("target/qemu/interactive");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sec = dir.join("secure.log");
    let _ = std::fs::remove_file(&sec);
    let mut c = Command::new("qemu-system-aarch64");
    c.arg("-M")
        .arg(format!("virt,secure=on,virtualization=off,gic-version={gic}"))
        .args(["-cpu", "cortex-a57", "-m", "1024", "-smp", &smp.to_string(), "-nographic", "-no-reboot"])
        .args(["-nic", "none"])
        .arg("-bios")
        .arg(bios(imgs, k))
        .args(loader_args(&g))
        .args(match store {
            Some(dir) => store_args(dir)?,
            None => Vec::new(),
        })
        .args(["-serial", "mon:stdio", "-serial"])
        .arg(format!("file:{}", sec.display()));
    println!("secure-world log: {} (also shown on stderr); exit the guest with `poweroff`", sec.display());
    let tail = std::thread::spawn({
        let sec = sec.clone();
        move || qemu::follow(&sec, "[secure] ")
    });
    let status = c.stdin(Stdio::inherit()).stdout(Stdio::inherit()).status().map_err(|e| e.to_string())?;
    drop(tail);
    if status.success() { Ok(()) } else { Err(format!("qemu exited with {status}")) }
}

/// Sums the guest's tally lines (`<label> xtest: N passed, M failed`, the
/// C client's, the examples' (`<label> examples: ...`, one per program),
/// and one failure per `oxtee-test: FAIL` line). Every expected
/// tally must be present: a missing one counts as a failure.
pub fn tally(log: &str) -> (u64, u64) {
    let (mut p, mut f) = (0, 0);
    let mut seen = Vec::new();
    for line in log.lines() {
        let line = line.trim();
        if line.starts_with("oxtee-test: FAIL") {
            f += 1;
        }
        if let Some((label, _)) = line.split_once(": ")
            && let Some((np, nf)) = tally_line(line)
        {
            p += np;
            f += nf;
            seen.push(label.to_string());
        }
    }
    for want in ["run-A xtest", "run-B xtest", "restart xtest", "run-A examples", "run-B examples"] {
        if !seen.iter().any(|s| s == want) {
            f += 1;
        }
    }
    (p, f)
}

/// (passed, failed) of a `<label>: N passed, M failed` line.
pub fn tally_line(line: &str) -> Option<(u64, u64)> {
    let (_, rest) = line.trim().split_once(": ")?;
    let (np, rest) = rest.split_once(" passed, ")?;
    let nf = rest.strip_suffix(" failed")?;
    Some((np.parse().ok()?, nf.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `line` in the host's `sh` as the guest's would and returns the
    /// arguments it passed (one per line).
    fn host_sh_args(line: &str) -> Vec<String> {
        let out = Command::new("sh").arg("-c").arg(format!("printf '%s\\n' {line}")).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
    }

    #[test]
    fn arguments_reach_the_guest_shell_intact() {
        let cases: &[&[&str]] = &[
            &["oxtee-xtest"],
            &["sh", "-c", "cat /proc/version; dmesg | tail -3"],
            &["echo", "it's", "a \"test\"", "$HOME", "`id`", "a\\b", "*", "", "x\ny", "--opt=1,2"],
        ];
        for args in cases {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let line = shell_words(&args);
            // printf '%s\n' prints an empty argument as an empty line and
            // one with a newline as two lines: compare the same way.
            let want: Vec<String> = args.iter().flat_map(|a| a.split('\n')).map(str::to_string).collect();
            assert_eq!(host_sh_args(&line), want, "{line}");
        }
        assert_eq!(shell_words(&["ls".into(), "-l".into(), "/tmp".into()]), "ls -l /tmp");
    }

    #[test]
    fn the_last_status_report_counts() {
        assert_eq!(
            command_status("x\noxtee-init: command exited with status 3\r\noxtee-init: powering off\n"),
            Some(3)
        );
        // The command printing the marker itself comes first; ours is last.
        let log = "oxtee-init: command exited with status 0\noxtee-init: command exited with status 1\n";
        assert_eq!(command_status(log), Some(1));
        // A kernel message before it on the same line.
        assert_eq!(command_status("[ 1.0] x oxtee-init: command exited with status 0\n"), Some(0));
        assert_eq!(command_status("oxtee-init: powering off\n"), None);
        assert_eq!(command_status("oxtee-init: command exited with status 300\n"), None);
    }

    /// Runs a mode script (without the supplicant) in the host's `sh`,
    /// with an input that never ends, and returns what it printed.
    fn run_mode_script(mode: &Mode) -> String {
        let script = mode_script(mode).replace("oxtee-supplicant -d\n", "");
        let mut child =
            Command::new("sh").arg("-c").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let _input = child.stdin.take();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("the script is waiting for input");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn the_command_runs_in_a_subshell_without_input() {
        // `exit` ends the command, and the status is reported.
        let out = run_mode_script(&Mode::Command(shell_words(&["exit".into(), "3".into()])));
        assert_eq!(command_status(&out), Some(3), "{out}");
        // A command reading its input sees its end instead of waiting.
        let out =
            run_mode_script(&Mode::Command(shell_words(&["sh".into(), "-c".into(), "cat; echo read-all".into()])));
        assert!(out.contains("read-all"), "{out}");
        assert_eq!(command_status(&out), Some(0));
    }

    fn dtc(dts: &str) -> Vec<u8> {
        use std::io::Write;
        let mut child = std::process::Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("dtc (device-tree-compiler) is installed");
        child.stdin.take().unwrap().write_all(dts.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        out.stdout
    }

    #[test]
    fn dumped_seeds_never_reach_the_linux_tree() {
        // The shape of QEMU's dump: seeds for both worlds.
        let mut blob = dtc(r#"/dts-v1/; / {
            secure-chosen { stdout-path = "/pl011@9040000"; rng-seed = <0xa5a5a5a5 0xa5a5a5a5>; kaslr-seed = <1 2>; };
            chosen { stdout-path = "/pl011@9000000"; rng-seed = <0x5a5a5a5a>; kaslr-seed = <3 4>; };
        };"#);
        assert!(check_no_seeds(&blob).is_err());
        strip_seeds(&mut blob).unwrap();
        assert!(!blob.windows(4).any(|w| w == [0xa5; 4] || w == [0x5a; 4]));
        // Without placeholders the tree is still refused; with them, accepted.
        assert!(check_no_seeds(&blob).is_err());
        let ok = dtc(r#"/dts-v1/; / { chosen { rng-seed = [00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00]; kaslr-seed = [00 00 00 00 00 00 00 00]; }; };"#);
        assert!(check_no_seeds(&ok).is_ok());
        let leaked = dtc(r#"/dts-v1/; / { chosen { rng-seed = [01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00]; kaslr-seed = [00 00 00 00 00 00 00 00]; }; };"#);
        assert!(check_no_seeds(&leaked).is_err());
    }

    #[test]
    fn only_the_smc_transport_gets_the_optee_node() {
        assert!(optee_node(false).contains("\"linaro,optee-tz\""));
        assert!(optee_node(false).contains(&format!("interrupts = <0 {OPTEE_NOTIF_SPI} 1>")));
        assert_eq!(optee_node(true), "");
    }

    #[test]
    fn kernel_images_are_checked() {
        let mut img = vec![0u8; 64];
        img[56..60].copy_from_slice(b"ARM\x64");
        img[16..24].copy_from_slice(&0x0200_0000u64.to_le_bytes());
        assert!(check_kernel_image(&img).is_ok());
        img[16..24].copy_from_slice(&0x1000_0000u64.to_le_bytes());
        assert!(check_kernel_image(&img).unwrap_err().contains("below the initramfs"));
        assert!(check_kernel_image(b"\x1f\x8b\x08").unwrap_err().contains("not an arm64 kernel Image"));
        assert!(check_kernel_image(b"\x7fELF\x02\x01\x01").is_err());
    }

    #[test]
    fn tally_counts_suites_and_missing_ones() {
        let log = "run-A xtest: 10 passed, 0 failed\nrun-B xtest: 9 passed, 1 failed\noxtee-test: FAIL x\n";
        // restart xtest and both examples tallies missing: three more failures.
        assert_eq!(tally(log), (19, 5));
        let full = "run-A xtest: 1 passed, 0 failed\nrun-B xtest: 1 passed, 0 failed\nrestart xtest: 1 passed, 0 failed\n\
                    run-A examples: 5 passed, 0 failed\nrun-B examples: 4 passed, 1 failed\n";
        assert_eq!(tally(full), (12, 1));
    }
}
