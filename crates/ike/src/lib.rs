//! ike
