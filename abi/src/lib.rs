//! Wire-level ABI shared by the oxtee monitor, secure OS and normal-world
//! harness: SMC function ids, OP-TEE message layouts, RPC numbers, GP result
//! codes and TA image headers. Numbers only; no behaviour lives here.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

/// Declares a fieldless enum mirroring a set of raw wire numbers, with
/// `ALL`, lossless conversion to the raw type and a checked conversion from it
/// (the error hands back the unrecognised raw value so callers can report it).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[repr($repr)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant = $value ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$(stringify!($variant)),+].len()] =
                [$(Self::$variant),+];

            /// The raw wire value.
            pub const fn raw(self) -> $repr {
                self as $repr
            }
        }

        impl TryFrom<$repr> for $name {
            type Error = $repr;

            fn try_from(raw: $repr) -> Result<Self, $repr> {
                match raw {
                    $( v if v == $value => Ok(Self::$variant), )+
                    other => Err(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v as $repr
            }
        }
    };
}

pub mod addr;
pub mod async_notif_pta;
pub mod crypto_test_ta;
pub mod dl_test_ta;
pub mod ffa;
pub mod ffa_manifest;
pub mod ffa_mem;
pub mod ffa_spmd;
pub mod msg;
pub mod optee_smc;
pub mod opteed;
pub mod rpc;
pub mod secstor;
pub mod smc;
pub mod socket_test_ta;
pub mod storage_bench_ta;
pub mod storage_test_ta;
pub mod system_test_ta;
pub mod ta;
pub mod ta_image_test;
pub mod tee;
pub mod test_pta;
pub mod test_ta;
pub mod upstream_pta;
pub mod uuid;

pub use uuid::Uuid;
