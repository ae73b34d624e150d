//! logidx-index: a tantivy index of CI log lines in which each distinct line text is indexed
//! once and every occurrence is kept per step.
//!
//! Its job: store what extract produces with its run, job and step metadata; answer queries
//! (words, phrases, boolean operators, field filters) with exactly the hits a one-document-
//! per-line index would give, one hit per line, fast.
//!
//! Public face (being built): `Index::open`, a writer that commits one run attempt at a time,
//! `Query` and `Hit`. It has no network or async dependency.

#![warn(missing_docs)]
