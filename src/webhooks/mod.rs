//! Outbound webhooks to the procedure workflow: endpoints, signing and the delivery worker.

pub mod delivery;
pub mod endpoints;
pub mod formats;
pub mod signing;
pub mod subscription;
pub mod url_policy;
pub mod workflow;

pub use subscription::{subscribes, subscription, warn_if_disabled};
