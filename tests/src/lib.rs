//! Shared harness for Slipway end-to-end tests.
