//! X.509 for Rampart (being written).
