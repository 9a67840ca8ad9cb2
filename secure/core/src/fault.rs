//! Fault injection for the test build: a test arms a point (and a kind of
//! fault); the next call that reaches that point faults there for real,
//! with whatever it holds at that point, and the abort path must give it
//! all back. In the default build every `Os::fault_point` is empty and
//! nothing here is compiled.

#[cfg(any(test, feature = "test-hooks"))]
pub use armed::*;

#[cfg(any(test, feature = "test-hooks"))]
mod armed {
    use core::sync::atomic::{AtomicU32, Ordering};

    /// Raises a fault of `kind` (`oxtee_abi::test_pta::FAULT_*`) on the
    /// calling thread; never returns. The OS's does it for real (a data
    /// abort, a panic, an allocation failure, a stack overflow); host tests
    /// freeze the thread.
    pub type Injector = fn(u32) -> !;

    static INJECTOR: spin::Once<Injector> = spin::Once::new();

    /// Installs the platform's injector (once, at boot).
    pub fn set_injector(f: Injector) {
        INJECTOR.call_once(|| f);
    }

    /// One armed point per OS: (point, kind, hits to let pass first).
    #[derive(Default)]
    pub struct Faults {
        point: AtomicU32,
        kind: AtomicU32,
        skip: AtomicU32,
    }

    impl Faults {
        pub fn arm(&self, point: u32, kind: u32, skip: u32) {
            self.kind.store(kind, Ordering::Release);
            self.skip.store(skip, Ordering::Release);
            self.point.store(point, Ordering::Release);
        }

        pub fn armed(&self) -> u32 {
            self.point.load(Ordering::Acquire)
        }

        pub fn hit(&self, point: u32) {
            if point == 0 || self.point.load(Ordering::Acquire) != point {
                return;
            }
            if self.skip.load(Ordering::Acquire) > 0 {
                self.skip.fetch_sub(1, Ordering::AcqRel);
                return;
            }
            if self.point.compare_exchange(point, 0, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                raise(self.kind.load(Ordering::Acquire));
            }
        }
    }

    /// Faults now (for CMD_FAULT's "now" form and the points above).
    pub fn raise(kind: u32) -> ! {
        match INJECTOR.get() {
            Some(f) => f(kind),
            None => panic!("injected fault {kind}"),
        }
    }
}

impl crate::Os {
    /// A place where a test may inject a fault (`oxtee_abi::test_pta`'s
    /// `FAULT_POINT_*`). Nothing in the default build.
    #[inline(always)]
    pub(crate) fn fault_point(&self, _point: u32) {
        #[cfg(any(test, feature = "test-hooks"))]
        self.faults.hit(_point);
    }
}
