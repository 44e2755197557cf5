//! Parse + check + (when clean) compile arbitrary bytes: nothing may panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let program = mxc_lang::check_source("fuzz.mxc", &text);
    if !program.diags.has_errors() {
        for a in &program.model.agents {
            let mut params = std::collections::BTreeMap::new();
            for (n, _) in &program.model.params {
                params.insert(n.clone(), format!("/p/{n}"));
            }
            let _ = mxc_lang::compile::compile_agent(&program, &a.name, &params, mxc_eval::Target::Linux);
        }
    }
});
