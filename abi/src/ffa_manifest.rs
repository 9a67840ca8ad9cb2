//! The SPMC manifest an SPMD hands an S-EL1 SPMC in x0 at cold boot (TF-A's
//! `TOS_FW_CONFIG`): a flattened device tree, compatible
//! `arm,ffa-core-manifest-1.0`, whose `attribute` node gives the SPMC's id,
//! FF-A version, execution state, load address, entry point and image size
//! (TF-A's `plat_spmd_manifest.c` reads these properties). Our SPMD writes
//! one so that an SPMC built for TF-A's boundary (upstream OP-TEE's, or
//! ours) finds it where it looks.

/// What the manifest says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreManifest {
    pub spmc_id: u16,
    /// FF-A version, major in bits 30:16, minor in 15:0.
    pub version: u32,
    pub load_address: u64,
    pub entrypoint: u64,
    pub binary_size: u32,
}

/// Room for the manifest `write` produces (it needs about 400 bytes).
pub const MAX_SIZE: usize = 512;

const FDT_MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const END: u32 = 9;
const HEADER_SIZE: usize = 40;
/// One empty memory-reservation entry (the terminator).
const RSVMAP_SIZE: usize = 16;

/// A byte buffer filled front to back (big-endian words, 4-byte padding).
struct Buf<const N: usize> {
    b: [u8; N],
    n: usize,
}

impl<const N: usize> Buf<N> {
    const fn new() -> Self {
        Buf { b: [0; N], n: 0 }
    }

    fn bytes(&mut self, s: &[u8]) {
        self.b[self.n..self.n + s.len()].copy_from_slice(s);
        self.n += s.len();
    }

    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    fn pad(&mut self) {
        self.n = self.n.next_multiple_of(4);
    }
}

/// The structure and strings blocks being built.
struct Tree {
    st: Buf<384>,
    strings: Buf<128>,
}

impl Tree {
    fn begin(&mut self, name: &str) {
        self.st.u32(BEGIN_NODE);
        self.st.bytes(name.as_bytes());
        self.st.bytes(&[0]);
        self.st.pad();
    }

    fn end(&mut self) {
        self.st.u32(END_NODE);
    }

    fn prop(&mut self, name: &str, value: &[u8]) {
        let off = self.strings.n as u32;
        self.strings.bytes(name.as_bytes());
        self.strings.bytes(&[0]);
        self.st.u32(PROP);
        self.st.u32(value.len() as u32);
        self.st.u32(off);
        self.st.bytes(value);
        self.st.pad();
    }

    fn prop_u32(&mut self, name: &str, v: u32) {
        self.prop(name, &v.to_be_bytes());
    }

    fn prop_u64(&mut self, name: &str, v: u64) {
        self.prop(name, &v.to_be_bytes());
    }
}

impl CoreManifest {
    /// Writes the manifest into `out`; returns its size.
    pub fn write(&self, out: &mut [u8; MAX_SIZE]) -> usize {
        let mut t = Tree { st: Buf::new(), strings: Buf::new() };
        t.begin("");
        t.prop("compatible", b"arm,ffa-core-manifest-1.0\0");
        t.prop_u32("#address-cells", 2);
        t.prop_u32("#size-cells", 1);
        t.begin("attribute");
        t.prop_u32("spmc_id", self.spmc_id as u32);
        t.prop_u32("maj_ver", self.version >> 16);
        t.prop_u32("min_ver", self.version & 0xffff);
        // 0: AArch64.
        t.prop_u32("exec_state", 0);
        t.prop_u64("load_address", self.load_address);
        t.prop_u64("entrypoint", self.entrypoint);
        t.prop_u32("binary_size", self.binary_size);
        t.end();
        t.end();
        t.st.u32(END);
        let off_struct = HEADER_SIZE + RSVMAP_SIZE;
        let off_strings = off_struct + t.st.n;
        let total = off_strings + t.strings.n;
        let mut o = Buf::<MAX_SIZE>::new();
        for w in [
            FDT_MAGIC,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            HEADER_SIZE as u32,
            17, // version
            16, // last compatible version
            0,  // boot CPU
            t.strings.n as u32,
            t.st.n as u32,
        ] {
            o.u32(w);
        }
        o.bytes(&[0; RSVMAP_SIZE]);
        o.bytes(&t.st.b[..t.st.n]);
        o.bytes(&t.strings.b[..t.strings.n]);
        *out = o.b;
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_a_device_tree_tf_a_and_optee_read() {
        let m = CoreManifest {
            spmc_id: 0x8000,
            version: 0x0001_0001,
            load_address: 0x0e10_0000,
            entrypoint: 0x0e10_0004,
            binary_size: 0x00f0_0000,
        };
        let mut buf = [0xaa; MAX_SIZE];
        let n = m.write(&mut buf);
        assert!(n <= MAX_SIZE);
        assert!(buf[n..].iter().all(|&b| b == 0), "the rest is zeroed");
        let fdt = fdt::Fdt::new(&buf[..n]).expect("a valid tree");
        assert_eq!(fdt.total_size(), n);
        let root = fdt.find_node("/").unwrap();
        assert_eq!(root.compatible().unwrap().first(), "arm,ffa-core-manifest-1.0");
        let attr = fdt.find_node("/attribute").unwrap();
        let get = |name| attr.property(name).unwrap().as_usize().unwrap();
        assert_eq!(get("spmc_id"), 0x8000);
        assert_eq!((get("maj_ver"), get("min_ver")), (1, 1));
        assert_eq!(get("exec_state"), 0);
        assert_eq!(get("load_address"), 0x0e10_0000);
        assert_eq!(get("entrypoint"), 0x0e10_0004);
        assert_eq!(get("binary_size"), 0x00f0_0000);
        assert_eq!(attr.property("load_address").unwrap().value.len(), 8, "two cells, as TF-A reads it");
    }
}
