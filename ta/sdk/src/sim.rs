//! TA tests on the host (host builds only): a simulated TEE running the
//! real trusted-OS logic of oxtee (`oxtee-sim` over `secure/core`), with
//! this crate's TA in it. In a TA crate:
//!
//! ```ignore
//! #[cfg(test)]
//! mod tests {
//!     use oxtee_utee::sim::{Param, Sim};
//!
//!     #[test]
//!     fn increments() {
//!         let sim = Sim::new();
//!         let mut session = sim.open_session(&mut []).unwrap();
//!         let mut p = [Param::value_inout(41, 0)];
//!         session.invoke(0, &mut p).unwrap();
//!         assert_eq!(p[0].a(), 42);
//!     }
//! }
//! ```
//!
//! and `cargo test --target <host triple>` (the TA workspace builds for
//! the TA target by default). See ta/README.md, "Testing a TA on the
//! host", for what works and what differs from the device.

pub use oxtee_sim::{Error, MockParam, Origin, Param, Session, TeeResult};

/// A simulated TEE with this crate's TA (the one `ta_config!` declares)
/// installed; everything of [`oxtee_sim::Sim`] through `Deref`
/// (`open_session`, `open_session_to`, `add_ta`, `storage_files`, ...).
#[derive(Clone)]
pub struct Sim(oxtee_sim::Sim);

impl Sim {
    /// A fresh simulated TEE: its own storage, instances and sessions.
    pub fn new() -> Sim {
        let config = crate::arch::config();
        Sim(oxtee_sim::Sim::new(Some(oxtee_sim::TaCode {
            uuid: config.head.uuid.into(),
            flags: config.head.flags,
            entry: crate::arch::host_entry,
        })))
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl core::ops::Deref for Sim {
    type Target = oxtee_sim::Sim;

    fn deref(&self) -> &oxtee_sim::Sim {
        &self.0
    }
}
