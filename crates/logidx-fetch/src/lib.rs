//! logidx-fetch: the GitHub REST client of logidx.
//!
//! Its job: for a repository and a filter, yield every completed run attempt with its
//! metadata, its jobs and steps, and its log archive, without losing one and without
//! upsetting GitHub's rate limits. It follows each log redirect itself, never forwards the
//! token to blob storage, and re-resolves a redirect whose signed URL expired mid-transfer.
//!
//! Public face (being built): `Client::builder()`, `Client::runs`, `Client::jobs`,
//! `Client::download_logs`, typed outcomes (`Logs`, `Gone`, `NotReady`) and a `Reporter`
//! trait for progress. It is the only logidx crate with a network dependency.

#![warn(missing_docs)]
