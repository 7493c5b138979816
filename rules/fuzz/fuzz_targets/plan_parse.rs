//! Fuzzes the plan model end to end: parse, attribute diff, rules, cost and rendering must
//! never panic, whatever the bytes.
//!
//!     cargo +nightly fuzz run plan_parse -- -max_len=65536
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules::config::PolicyConfig;
use rules::{evaluate, Context, Plan};

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = Plan::parse(data) {
        for rc in &plan.resource_changes {
            let _ = rc.attribute_changes();
        }
        let policy = PolicyConfig::default();
        let report = evaluate(
            &plan,
            &Context {
                env: "prod",
                region: Some("us-east-1"),
                policy: &policy,
            },
        );
        let _ = report.to_markdown();
        let _ = report.to_json();
    }
});
