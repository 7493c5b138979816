//! Everything that speaks GitHub: the payloads (converted at the edge) and the client.

pub mod client;
pub mod events;
