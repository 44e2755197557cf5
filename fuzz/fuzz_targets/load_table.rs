//! Load arbitrary bytes as a decision table; when one loads, ask it questions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = mxc_eval::Engine::from_bytes(data) {
        let _ = e.fs(b"/home/a/.ssh/id_rsa", mxc_eval::FsRight::Read);
        let _ = e.launch(b"/usr/bin/git", &["status"]);
        let _ = e.net(&mxc_eval::NetRequest {
            right: mxc_eval::NetRight::Connect,
            proto: mxc_eval::Proto::Tcp,
            host: mxc_eval::Host::Name("api.github.com"),
            port: 443,
            program: Some(b"/usr/bin/git"),
        });
        // Rules are decoded on first use: that must not fail either.
        assert_eq!(e.table().rules.iter().count(), e.table().rules.len());
    }
});
