//! The SPMD's routing rules (FF-A's EL3 side with an SPMC at S-EL1, as
//! TF-A's SPMD keeps them), as pure functions of the registers so the
//! monitor's state machine is host-tested: what the SPMD answers itself,
//! what goes to the SPMC, and what an SPMC's SMC may do given what the
//! monitor waits for.

use crate::ffa;

pub type Regs = [u64; 8];

fn w(v: u64) -> u32 {
    v as u32
}

pub fn error(code: i32) -> Regs {
    [ffa::ERROR as u64, 0, code as u32 as u64, 0, 0, 0, 0, 0]
}

pub fn success32(w2: u64) -> Regs {
    [ffa::SUCCESS_32 as u64, 0, w2, 0, 0, 0, 0, 0]
}

/// `FFA_VERSION`'s answer: the version word, or NOT_SUPPORTED, in w0 alone.
pub fn version_answer(v: u32) -> Regs {
    [v as u64, 0, 0, 0, 0, 0, 0, 0]
}

/// The SPMD's framework direct request to the SPMC.
pub fn framework_req(msg: u64, w3: u64) -> Regs {
    [
        ffa::MSG_SEND_DIRECT_REQ_32 as u64,
        ffa::direct_ids(ffa::SPMD_ID, ffa::SPMC_ID),
        ffa::FWK_MSG_BIT | msg,
        w3,
        0,
        0,
        0,
        0,
    ]
}

/// The SPMC's framework direct response to the SPMD (`PM_RESP` or
/// `VERSION_RESP`), its w3 if `r` is one of type `msg`.
pub fn framework_resp(r: &Regs, msg: u64) -> Option<u32> {
    let ok = w(r[0]) == ffa::MSG_SEND_DIRECT_RESP_32
        && w(r[1]) as u64 == ffa::direct_ids(ffa::SPMC_ID, ffa::SPMD_ID)
        && w(r[2]) as u64 == ffa::FWK_MSG_BIT | msg;
    ok.then_some(w(r[3]))
}

/// Calls only a secure endpoint makes (or that only the SPMD answers to
/// the SPMC): the normal world gets NOT_SUPPORTED for them.
pub const fn secure_only(fid: u32) -> bool {
    matches!(
        fid,
        ffa::MSG_WAIT
            | ffa::MSG_YIELD
            | ffa::MSG_SEND_DIRECT_RESP_32
            | ffa::MSG_SEND_DIRECT_RESP_64
            | ffa::NORMAL_WORLD_RESUME
            | ffa::INTERRUPT
            | ffa::SECONDARY_EP_REGISTER_64
            | ffa::MEM_RETRIEVE_RESP
            | ffa::SUCCESS_32
            | ffa::SUCCESS_64
            | ffa::ERROR
            | ffa::MEM_PERM_GET
            | ffa::MEM_PERM_SET
    )
}

/// What the SPMD does with a normal-world FF-A call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NsRoute {
    /// Answer at once with these registers.
    Answer(Regs),
    /// Ask the SPMC for the version (framework request with this version).
    Version(u32),
    /// Forward to the SPMC with these registers; its next SMC answers.
    Forward(Regs),
}

/// Routes a normal-world FF-A call (`r[0]` in the FF-A range).
pub fn route_ns(r: &Regs) -> NsRoute {
    let fid = w(r[0]);
    match fid {
        ffa::VERSION if w(r[1]) & (1 << 31) != 0 => NsRoute::Answer(version_answer(ffa::NOT_SUPPORTED as u32)),
        ffa::VERSION => NsRoute::Version(w(r[1])),
        ffa::ID_GET => NsRoute::Answer(success32(ffa::NS_ENDPOINT_ID as u64)),
        ffa::SPM_ID_GET => NsRoute::Answer(success32(ffa::SPMC_ID as u64)),
        f if secure_only(f) => NsRoute::Answer(error(ffa::NOT_SUPPORTED)),
        // A normal-world caller cannot speak for a secure endpoint (nor
        // for the SPMD), nor send the SPMD requests.
        ffa::MSG_SEND_DIRECT_REQ_32 | ffa::MSG_SEND_DIRECT_REQ_64
            if ffa::is_secure_id(ffa::direct_src(r[1])) || ffa::direct_dst(r[1]) == ffa::SPMD_ID =>
        {
            NsRoute::Answer(error(ffa::INVALID_PARAMETERS))
        }
        _ => {
            let mut fwd = *r;
            fwd[0] = fid as u64;
            NsRoute::Forward(fwd)
        }
    }
}

/// What the monitor waits for from the SPMC on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Nothing: the SPMC should not be running.
    Nothing,
    /// Its first `FFA_MSG_WAIT` (cold boot, or a CPU turned on).
    Boot,
    /// The answer to a forwarded normal-world call.
    Call,
    /// The framework version response.
    Version,
    /// The framework power-management response.
    Power,
    /// `FFA_NORMAL_WORLD_RESUME` after `FFA_INTERRUPT`.
    Interrupt,
}

/// What the monitor does with an SMC from the SPMC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpmcRoute {
    /// Answer the SPMC with these registers; it keeps running.
    Local(Regs),
    /// Record the secondary entry (and context), answer SUCCESS.
    RegisterSecondary { entry: u64, context: u64 },
    /// The SPMC is ready (Boot).
    Ready,
    /// The SPMC failed to start (Boot), with its error code.
    Failed(i32),
    /// Back to the normal world with these registers (None: unchanged).
    ToNs(Option<Regs>),
    /// The power event may go on (whatever the SPMC said: `Some(status)`
    /// if it answered a proper `PM_RESP`).
    PowerDone(Option<i32>),
    /// Not expected now: `FFA_ERROR(NOT_SUPPORTED)` back to the SPMC.
    Refuse,
}

/// Answers that end a forwarded normal-world call.
pub const fn is_answer(fid: u32) -> bool {
    matches!(
        fid,
        ffa::SUCCESS_32
            | ffa::SUCCESS_64
            | ffa::ERROR
            | ffa::MSG_SEND_DIRECT_RESP_32
            | ffa::MSG_SEND_DIRECT_RESP_64
            | ffa::MEM_FRAG_RX
            | ffa::MEM_FRAG_TX
            | ffa::MEM_RETRIEVE_RESP
            | ffa::INTERRUPT
            | ffa::MSG_WAIT
            | ffa::MSG_YIELD
    )
}

/// `FFA_FEATURES` from the SPMC, for the calls the SPMD itself answers.
fn features_for_spmc(q: u32) -> Regs {
    match q {
        ffa::VERSION
        | ffa::FEATURES
        | ffa::ID_GET
        | ffa::SPM_ID_GET
        | ffa::SECONDARY_EP_REGISTER_64
        | ffa::MSG_WAIT
        | ffa::ERROR
        | ffa::SUCCESS_32
        | ffa::SUCCESS_64
        | ffa::MSG_SEND_DIRECT_RESP_32
        | ffa::MSG_SEND_DIRECT_RESP_64
        | ffa::NORMAL_WORLD_RESUME => success32(0),
        _ => error(ffa::NOT_SUPPORTED),
    }
}

/// Routes an FF-A SMC from the SPMC while the monitor waits for `waiting`.
/// `image` is the SPMC's image (base, size): a secondary entry must be in it.
pub fn route_spmc(r: &Regs, waiting: Waiting, image: (u64, u64)) -> SpmcRoute {
    let fid = w(r[0]);
    // What the SPMD answers itself, whatever the SPMC is doing.
    match fid {
        ffa::VERSION if w(r[1]) & (1 << 31) != 0 => {
            return SpmcRoute::Local(version_answer(ffa::NOT_SUPPORTED as u32));
        }
        ffa::VERSION => return SpmcRoute::Local(version_answer(ffa::VERSION_IMPLEMENTED)),
        ffa::ID_GET => return SpmcRoute::Local(success32(ffa::SPMC_ID as u64)),
        ffa::SPM_ID_GET => return SpmcRoute::Local(success32(ffa::SPMD_ID as u64)),
        ffa::FEATURES => return SpmcRoute::Local(features_for_spmc(w(r[1]))),
        ffa::SECONDARY_EP_REGISTER_64 => {
            let (base, size) = image;
            let ep = r[1];
            let inside = ep >= base && ep - base < size && ep.is_multiple_of(4);
            return if inside {
                SpmcRoute::RegisterSecondary { entry: ep, context: r[2] }
            } else {
                SpmcRoute::Local(error(ffa::INVALID_PARAMETERS))
            };
        }
        _ => {}
    }
    match (fid, waiting) {
        (ffa::MSG_WAIT, Waiting::Boot) => SpmcRoute::Ready,
        (ffa::ERROR, Waiting::Boot) => SpmcRoute::Failed(w(r[2]) as i32),
        (_, Waiting::Version) => {
            let v = framework_resp(r, ffa::FWK_MSG_VERSION_RESP).unwrap_or(ffa::NOT_SUPPORTED as u32);
            SpmcRoute::ToNs(Some(version_answer(v)))
        }
        (_, Waiting::Power) => SpmcRoute::PowerDone(framework_resp(r, ffa::FWK_MSG_PM_RESP).map(|s| s as i32)),
        (ffa::NORMAL_WORLD_RESUME, Waiting::Interrupt) => SpmcRoute::ToNs(None),
        (f, Waiting::Call) if is_answer(f) => SpmcRoute::ToNs(Some(*r)),
        _ => SpmcRoute::Refuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: (u64, u64) = (0x0e10_0000, 0x00f0_0000);

    fn regs(fid: u32, x1: u64) -> Regs {
        [fid as u64, x1, 0, 0, 0, 0, 0, 0]
    }

    #[test]
    fn normal_world_ids_and_version() {
        assert_eq!(route_ns(&regs(ffa::ID_GET, 0)), NsRoute::Answer(success32(0)));
        assert_eq!(route_ns(&regs(ffa::SPM_ID_GET, 0)), NsRoute::Answer(success32(0x8000)));
        assert_eq!(route_ns(&regs(ffa::VERSION, 0x1_0001)), NsRoute::Version(0x1_0001));
        // Only w1 counts: upper bits of x1 are not the caller's version.
        assert_eq!(route_ns(&regs(ffa::VERSION, 0xdead_0000_0001_0000)), NsRoute::Version(0x1_0000));
        assert_eq!(
            route_ns(&regs(ffa::VERSION, 0x8000_0000)),
            NsRoute::Answer(version_answer(ffa::NOT_SUPPORTED as u32))
        );
    }

    #[test]
    fn normal_world_cannot_make_secure_calls_or_forge_senders() {
        for f in [ffa::MSG_WAIT, ffa::NORMAL_WORLD_RESUME, ffa::SECONDARY_EP_REGISTER_64, ffa::MSG_SEND_DIRECT_RESP_32]
        {
            assert_eq!(route_ns(&regs(f, 0)), NsRoute::Answer(error(ffa::NOT_SUPPORTED)), "{f:#x}");
        }
        let forged = regs(ffa::MSG_SEND_DIRECT_REQ_32, ffa::direct_ids(ffa::SPMC_ID, ffa::OPTEE_ID));
        assert_eq!(route_ns(&forged), NsRoute::Answer(error(ffa::INVALID_PARAMETERS)));
        let to_spmd = regs(ffa::MSG_SEND_DIRECT_REQ_64, ffa::direct_ids(0, ffa::SPMD_ID));
        assert_eq!(route_ns(&to_spmd), NsRoute::Answer(error(ffa::INVALID_PARAMETERS)));
        // A hypervisor's VM id (non-zero, non-secure) is fine.
        let vm = regs(ffa::MSG_SEND_DIRECT_REQ_32, ffa::direct_ids(3, ffa::OPTEE_ID));
        assert_eq!(route_ns(&vm), NsRoute::Forward(vm));
    }

    #[test]
    fn other_calls_are_forwarded_whole() {
        let r = [ffa::MEM_SHARE_64 as u64, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(route_ns(&r), NsRoute::Forward(r));
        let f = [ffa::FEATURES as u64, ffa::RXTX_MAP_64 as u64, 0, 0, 0, 0, 0, 0];
        assert_eq!(route_ns(&f), NsRoute::Forward(f));
    }

    #[test]
    fn spmc_calls_the_spmd_answers() {
        let any = [Waiting::Nothing, Waiting::Boot, Waiting::Call, Waiting::Version];
        for wt in any {
            assert_eq!(route_spmc(&regs(ffa::ID_GET, 0), wt, IMAGE), SpmcRoute::Local(success32(0x8000)));
            assert_eq!(route_spmc(&regs(ffa::SPM_ID_GET, 0), wt, IMAGE), SpmcRoute::Local(success32(0xFFFF)));
            assert_eq!(
                route_spmc(&regs(ffa::VERSION, 0x1_0001), wt, IMAGE),
                SpmcRoute::Local(version_answer(ffa::VERSION_1_1))
            );
        }
        assert_eq!(
            route_spmc(&regs(ffa::FEATURES, ffa::SECONDARY_EP_REGISTER_64 as u64), Waiting::Boot, IMAGE),
            SpmcRoute::Local(success32(0))
        );
        assert_eq!(
            route_spmc(&regs(ffa::FEATURES, ffa::MEM_SHARE_64 as u64), Waiting::Boot, IMAGE),
            SpmcRoute::Local(error(ffa::NOT_SUPPORTED))
        );
    }

    #[test]
    fn secondary_entry_must_be_inside_the_image() {
        let mut r = regs(ffa::SECONDARY_EP_REGISTER_64, 0x0e10_0800);
        r[2] = 7;
        assert_eq!(
            route_spmc(&r, Waiting::Boot, IMAGE),
            SpmcRoute::RegisterSecondary { entry: 0x0e10_0800, context: 7 }
        );
        for bad in [0x0e0f_fffc, 0x0f00_0000, 0x0e10_0802, u64::MAX - 3, 0] {
            assert_eq!(
                route_spmc(&regs(ffa::SECONDARY_EP_REGISTER_64, bad), Waiting::Boot, IMAGE),
                SpmcRoute::Local(error(ffa::INVALID_PARAMETERS)),
                "{bad:#x}"
            );
        }
    }

    #[test]
    fn answers_count_only_for_what_the_monitor_waits_for() {
        let msg_wait = regs(ffa::MSG_WAIT, 0);
        assert_eq!(route_spmc(&msg_wait, Waiting::Boot, IMAGE), SpmcRoute::Ready);
        assert_eq!(route_spmc(&msg_wait, Waiting::Nothing, IMAGE), SpmcRoute::Refuse);
        assert_eq!(route_spmc(&msg_wait, Waiting::Interrupt, IMAGE), SpmcRoute::Refuse);
        let err = [ffa::ERROR as u64, 0, ffa::ABORTED as u32 as u64, 0, 0, 0, 0, 0];
        assert_eq!(route_spmc(&err, Waiting::Boot, IMAGE), SpmcRoute::Failed(ffa::ABORTED));
        assert_eq!(route_spmc(&err, Waiting::Call, IMAGE), SpmcRoute::ToNs(Some(err)));
        let resume = regs(ffa::NORMAL_WORLD_RESUME, 0);
        assert_eq!(route_spmc(&resume, Waiting::Interrupt, IMAGE), SpmcRoute::ToNs(None));
        assert_eq!(route_spmc(&resume, Waiting::Call, IMAGE), SpmcRoute::Refuse);
        // A request of its own is not an answer.
        let req = regs(ffa::MSG_SEND_DIRECT_REQ_32, ffa::direct_ids(ffa::OPTEE_ID, 0));
        assert_eq!(route_spmc(&req, Waiting::Call, IMAGE), SpmcRoute::Refuse);
        let resp = [ffa::MSG_SEND_DIRECT_RESP_32 as u64, ffa::direct_ids(ffa::OPTEE_ID, 0), 0, 1, 2, 3, 4, 5];
        assert_eq!(route_spmc(&resp, Waiting::Call, IMAGE), SpmcRoute::ToNs(Some(resp)));
    }

    #[test]
    fn framework_responses_are_checked() {
        let ver = [
            ffa::MSG_SEND_DIRECT_RESP_32 as u64,
            ffa::direct_ids(ffa::SPMC_ID, ffa::SPMD_ID),
            ffa::FWK_MSG_BIT | ffa::FWK_MSG_VERSION_RESP,
            0x1_0001,
            0,
            0,
            0,
            0,
        ];
        assert_eq!(route_spmc(&ver, Waiting::Version, IMAGE), SpmcRoute::ToNs(Some(version_answer(0x1_0001))));
        // From another endpoint, or of another type: NOT_SUPPORTED.
        let mut other = ver;
        other[1] = ffa::direct_ids(ffa::OPTEE_ID, ffa::SPMD_ID);
        let ns = SpmcRoute::ToNs(Some(version_answer(ffa::NOT_SUPPORTED as u32)));
        assert_eq!(route_spmc(&other, Waiting::Version, IMAGE), ns);
        let mut pm = ver;
        pm[2] = ffa::FWK_MSG_BIT | ffa::FWK_MSG_PM_RESP;
        pm[3] = 0;
        assert_eq!(route_spmc(&pm, Waiting::Version, IMAGE), ns);
        assert_eq!(route_spmc(&pm, Waiting::Power, IMAGE), SpmcRoute::PowerDone(Some(0)));
        assert_eq!(route_spmc(&regs(ffa::ERROR, 0), Waiting::Power, IMAGE), SpmcRoute::PowerDone(None));
        assert_eq!(framework_req(ffa::FWK_MSG_PSCI, 0x8400_0002)[1], 0xFFFF_8000);
    }
}
