//! The `[policy]` table of `slipway.toml`: required tags, rule severities and exemptions.

use serde::Deserialize;

/// Policy settings read from the `[policy]` table of `slipway.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {}
