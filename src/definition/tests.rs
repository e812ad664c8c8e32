//! Validation cases, one per line.
