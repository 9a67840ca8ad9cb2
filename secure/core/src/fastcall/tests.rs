use super::*;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::uuid;

fn os() -> FastCalls {
    FastCalls::new(OsConfig {
        build_id: 0xabcdef,
        thread_count: 16,
        static_shm: Some(oxtee_abi::addr::NsRange::new(oxtee_abi::addr::NsPhys::new(0x4200_0000), 0x20_0000)),
        yielding_calls: false,
    })
}

fn call(f: &FastCalls, id: u32, a1: u64) -> [u64; 8] {
    call_busy(f, id, a1, 0)
}

fn call_busy(f: &FastCalls, id: u32, a1: u64, busy: usize) -> [u64; 8] {
    let mut a = [id as u64, a1, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
    f.handle(&mut a, &|| busy);
    a
}

fn rpc_arg(cookie: u64) -> crate::rpc::RpcArg {
    use oxtee_abi::addr::{NsPhys, NsRange};
    let ram = crate::shm::ShmRegistry::new(
        crate::shm::ShmConfig { static_pool: None, ns_ram: NsRange::new(NsPhys::new(0), 1 << 20) },
        crate::shm::ShmLimits { buffers: 1, pages: 1 },
    );
    crate::rpc::RpcArg { pages: ram.ns_contiguous(NsPhys::new(0), 16).unwrap(), cookie, owned: true }
}

#[test]
fn uid_and_os_uuid_match_the_published_uuids() {
    let f = os();
    let a = call(&f, smc::CALLS_UID, 0);
    assert_eq!(uuid::API_UID_UUID.to_smc_words().map(u64::from), [a[0], a[1], a[2], a[3]]);
    let a = call(&f, smc::GET_OS_UUID, 0);
    assert_eq!(uuid::OS_UUID.to_smc_words().map(u64::from), [a[0], a[1], a[2], a[3]]);
}

#[test]
fn revisions_and_counts() {
    let f = os();
    assert_eq!(call(&f, smc::CALLS_REVISION, 0)[..2], [2, 0]);
    assert_eq!(call(&f, smc::GET_OS_REVISION, 0)[..3], [0, 1, 0xabcdef]);
    assert_eq!(call(&f, smc::CALLS_COUNT, 0)[0], FastCall::ALL.len() as u64);
    assert_eq!(call(&f, smc::GET_THREAD_COUNT, 0)[..2], [0, 16]);
}

#[test]
fn shm_config_reports_the_reserved_pool_or_not_available() {
    assert_eq!(call(&os(), smc::GET_SHM_CONFIG, 0)[..4], [0, 0x4200_0000, 0x20_0000, 1]);
    let none = FastCalls::new(OsConfig { build_id: 0, thread_count: 2, static_shm: None, yielding_calls: false });
    assert_eq!(call(&none, smc::GET_SHM_CONFIG, 0)[0], smc::RETURN_ENOTAVAIL as u64);
    assert_eq!(call(&none, smc::EXCHANGE_CAPABILITIES, 0)[1], 0);
}

#[test]
fn capabilities_advertise_only_what_exists_and_refuse_unknown_bits() {
    let f = os();
    let a = call(&f, smc::EXCHANGE_CAPABILITIES, smc::NSEC_CAP_UNIPROCESSOR);
    assert_eq!(a[..4], [0, SecCaps::HAVE_RESERVED_SHM.0, 0, 0]);
    assert_eq!(call(&f, smc::EXCHANGE_CAPABILITIES, 0)[0], 0);
    for bit in 1..64 {
        let a = call(&f, smc::EXCHANGE_CAPABILITIES, 1 << bit);
        assert_eq!(a[0], smc::RETURN_ENOTAVAIL as u64, "bit {bit}");
    }
}

#[test]
fn shm_cache_enable_disable_and_busy() {
    let f = os();
    assert_eq!(call(&f, smc::DISABLE_SHM_CACHE, 0)[0], smc::RETURN_ENOTAVAIL as u64);
    assert_eq!(call(&f, smc::ENABLE_SHM_CACHE, 0)[0], smc::RETURN_OK as u64);
    assert!(f.shm_cache.keep(rpc_arg(0x1234_5678_9abc_def0)).is_ok());
    let a = call(&f, smc::DISABLE_SHM_CACHE, 0);
    assert_eq!(a[..3], [0, 0x1234_5678, 0x9abc_def0]);
    assert_eq!(call(&f, smc::DISABLE_SHM_CACHE, 0)[0], smc::RETURN_ENOTAVAIL as u64);
    assert!(!f.shm_cache.is_enabled());
    assert!(f.shm_cache.keep(rpc_arg(1)).is_err(), "nothing is cached while disabled");
    assert_eq!(call_busy(&f, smc::ENABLE_SHM_CACHE, 0, 1)[0], smc::RETURN_EBUSY as u64);
    assert_eq!(call_busy(&f, smc::DISABLE_SHM_CACHE, 0, 2)[0], smc::RETURN_EBUSY as u64);
    assert_eq!(call(&f, smc::ENABLE_SHM_CACHE, 0)[0], smc::RETURN_OK as u64);
}

#[test]
fn unknown_ids_get_unknown_function_and_leave_other_registers() {
    let f = os();
    for id in [0xB200_0002u32, 0xB200_0005, 0xB200_00FF, 0xF200_0000, 0xBF00_FF02, 0x3200_0004, 0] {
        let a = call(&f, id, 0x11);
        assert_eq!(a[0], 0xFFFF_FFFF, "{id:#x}");
        assert_eq!(a[1..], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
    }
}

#[test]
fn only_the_low_32_bits_name_the_call() {
    let f = os();
    let mut a = [0xdead_0000_0000_0000 | smc::CALLS_REVISION as u64, 0, 0, 0, 0, 0, 0, 0];
    f.handle(&mut a, &|| 0);
    assert_eq!(a[..2], [2, 0]);
}

#[test]
fn every_call_has_a_distinct_id() {
    for (i, a) in FastCall::ALL.iter().enumerate() {
        assert_eq!(FastCall::from_id(a.id() as u64), Some(*a));
        for b in &FastCall::ALL[i + 1..] {
            assert_ne!(a.id(), b.id());
        }
    }
}
