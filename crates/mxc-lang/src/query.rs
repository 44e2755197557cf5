//! Answering requests with a compiled engine (the glue between [`Request`]s and
//! `mxc_eval`'s decision API), shared by `mxcc query`, `mxcc test` and the lints.

use crate::pattern::NetProto;
use crate::request::{HostReq, Request};
use mxc_eval as ev;

/// Asks the engine about one request.
pub fn decide_engine(e: &ev::Engine, req: &Request) -> ev::Decision {
    match req {
        Request::Fs { right, path } => e.fs(path.as_bytes(), *right),
        Request::Net {
            right,
            proto,
            host,
            port,
            program,
        } => {
            let host = match host {
                HostReq::Name(n) => ev::Host::Name(n),
                HostReq::V4(a) => ev::Host::V4(*a),
                HostReq::V6(a) => ev::Host::V6(*a),
            };
            e.net(&ev::NetRequest {
                right: *right,
                proto: match proto {
                    NetProto::Tcp => ev::Proto::Tcp,
                    NetProto::Udp => ev::Proto::Udp,
                },
                host,
                port: *port,
                program: program.as_deref().map(str::as_bytes),
            })
        }
        Request::Launch { program, args } => e.launch(program.as_bytes(), args),
    }
}
