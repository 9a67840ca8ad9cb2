//! GP Internal Core API cryptography (`TEE_AllocateOperation`,
//! `TEE_Cipher*`, `TEE_AllocateTransientObject`, ...) in the shape of the
//! Teaclave TrustZone SDK's `optee-utee`: [`Digest`], [`Cipher`], [`Mac`],
//! [`AE`], [`Asymmetric`], [`DeriveKey`], [`Random`], [`TransientObject`]
//! and [`Attribute`]s. The algorithms run in the kernel (OP-TEE's crypto
//! syscalls); this module keeps what libutee keeps in user space.

mod buffer;
mod ids;
pub(crate) mod object;
mod operation;

pub use ids::{AlgorithmId, ElementId, OperationConstant, OperationMode, OperationStates};
pub use object::{
    Attribute, AttributeId, AttributeMemref, AttributeValue, GenericObject, HandleFlag, ObjectInfo, TransientObject,
    TransientObjectType, Usage, UsageFlag,
};
pub use operation::{
    AE, Asymmetric, Cipher, DeriveKey, Digest, Mac, OpHandle, OperationHandle, OperationInfo, OperationInfoKey,
    OperationInfoMultiple, Random, is_algorithm_supported,
};
